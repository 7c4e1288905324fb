// Package generate is the whole generation job of SPEC.md: a face photo
// (or a saved ID embedding) and a prompt in, images of that person out.
// It resolves and validates the request the hosted APIs accept (request.go),
// finds and loads the model files a user has (models.go), and runs identity
// encoding, prompt conditioning, denoising, decoding and image encoding
// (run.go).
package generate

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Defaults of the hosted APIs (SPEC.md "Inputs").
const (
	DefaultPrompt            = "portrait, color, cinematic"
	DefaultNegativePrompt    = "bad quality, worst quality, text, signature, watermark, extra limbs, low resolution, partially rendered objects, deformed or partially rendered eyes, deformed, deformed eyeballs, cross-eyed, blurry"
	DefaultWidth             = 896
	DefaultHeight            = 1152
	DefaultNumSteps          = 20
	DefaultStartStep         = 0
	DefaultGuidanceScale     = 4.0
	DefaultTrueCFG           = 1.0
	DefaultIDWeight          = 1.0
	DefaultMaxSequenceLength = 128
	DefaultNumOutputs        = 1
	DefaultOutputFormat      = WebP
	DefaultOutputQuality     = 80
)

// Ranges of the hosted APIs, inclusive.
const (
	MinSize, MaxSize     = 256, 1536
	MinSteps, MaxSteps   = 1, 20
	MaxStartStep         = 10
	MinGuidance          = 1.0
	MaxGuidance          = 10.0
	MinTrueCFG           = 1.0
	MaxTrueCFG           = 10.0
	MaxIDWeight          = 3.0
	MinSeqLen, MaxSeqLen = 128, 512
	MaxOutputs           = 4
	MinQuality           = 1
	MaxQuality           = 100
	// SizeMultiple is what width and height are rounded down to: the
	// latent is 1/8 of the image and packed in 2x2 patches.
	SizeMultiple = 16
)

// Format is an output image format.
type Format string

// The output formats of the hosted APIs.
const (
	PNG  Format = "png"
	JPEG Format = "jpg"
	WebP Format = "webp"
)

// Ext is the file name extension of the format, without the dot.
func (f Format) Ext() string { return string(f) }

// MIME is the format's media type.
func (f Format) MIME() string {
	switch f {
	case PNG:
		return "image/png"
	case JPEG:
		return "image/jpeg"
	case WebP:
		return "image/webp"
	}
	return "application/octet-stream"
}

// ParseFormat reads an output_format value: png, jpg or jpeg, webp
// (case-insensitive).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "png":
		return PNG, nil
	case "jpg", "jpeg":
		return JPEG, nil
	case "webp":
		return WebP, nil
	}
	return "", fmt.Errorf("%q is not one of png, jpg, jpeg, webp", s)
}

// Input is a request as a client sends it: every field optional, nil
// meaning "not given" (the default applies). Its JSON form is the "input"
// object of the hosted APIs, with their field names. Resolve turns it into
// a validated Request.
type Input struct {
	// MainFaceImage names the face photo: a file path (CLI) or a data URI
	// (decoded by Resolve); a server fetches URLs and uploads into
	// FaceImage.
	MainFaceImage *string `json:"main_face_image,omitempty"`
	// FaceImage is the photo's encoded bytes when the caller already has
	// them (jpg, png or webp); it takes precedence over the path.
	FaceImage []byte `json:"-"`
	// IDEmbedding is a saved ID-embedding file (fluxpulid embed) used
	// instead of a photo: the face is not encoded again.
	IDEmbedding *string `json:"id_embedding,omitempty"`

	Prompt            *string  `json:"prompt,omitempty"`
	NegativePrompt    *string  `json:"negative_prompt,omitempty"`
	Width             *int     `json:"width,omitempty"`
	Height            *int     `json:"height,omitempty"`
	Size              *string  `json:"size,omitempty"` // WaveSpeed "W*H"
	NumSteps          *int     `json:"num_steps,omitempty"`
	StartStep         *int     `json:"start_step,omitempty"`
	GuidanceScale     *float64 `json:"guidance_scale,omitempty"`
	TrueCFG           *float64 `json:"true_cfg,omitempty"`
	IDWeight          *float64 `json:"id_weight,omitempty"`
	MaxSequenceLength *int     `json:"max_sequence_length,omitempty"`
	NumOutputs        *int     `json:"num_outputs,omitempty"`
	OutputFormat      *string  `json:"output_format,omitempty"`
	OutputQuality     *int     `json:"output_quality,omitempty"`
	// Seed is the decimal seed; "", "-1" or nil draw a random one.
	Seed *string `json:"seed,omitempty"`

	EnableBase64Output *bool `json:"enable_base64_output,omitempty"`
	EnableSyncMode     *bool `json:"enable_sync_mode,omitempty"`
}

// FieldError is a bad input, naming the field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Fields lists the fields named by the FieldErrors in err (joined errors
// included), in order.
func Fields(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe.Field)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

// knownFields are the JSON names ParseInput accepts.
var knownFields = []string{
	"main_face_image", "id_embedding", "prompt", "negative_prompt", "width", "height", "size",
	"num_steps", "start_step", "guidance_scale", "true_cfg", "id_weight", "max_sequence_length",
	"num_outputs", "output_format", "output_quality", "seed", "enable_base64_output", "enable_sync_mode",
}

// ParseInput decodes the JSON "input" object of a request. Every field
// that has the wrong JSON type is reported by name (all at once); numbers
// must be integral where the field is an int; seed may be a number, a
// numeric string, "" or null. Fields this service does not know are
// returned in ignored (the hosted APIs tolerate extra fields).
func ParseInput(data []byte) (in Input, ignored []string, err error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Input{}, nil, fmt.Errorf("input: not a JSON object: %w", err)
	}
	var errs []error
	str := func(name string, dst **string) {
		v, ok := raw[name]
		if !ok || isNull(v) {
			return
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			errs = append(errs, fieldErr(name, "want a string, got %s", short(v)))
			return
		}
		*dst = &s
	}
	integer := func(name string, dst **int) {
		v, ok := raw[name]
		if !ok || isNull(v) {
			return
		}
		n, err := parseInt(v)
		if err != nil {
			errs = append(errs, fieldErr(name, "%v", err))
			return
		}
		*dst = &n
	}
	float := func(name string, dst **float64) {
		v, ok := raw[name]
		if !ok || isNull(v) {
			return
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil {
			errs = append(errs, fieldErr(name, "want a number, got %s", short(v)))
			return
		}
		*dst = &f
	}
	boolean := func(name string, dst **bool) {
		v, ok := raw[name]
		if !ok || isNull(v) {
			return
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			errs = append(errs, fieldErr(name, "want true or false, got %s", short(v)))
			return
		}
		*dst = &b
	}
	str("main_face_image", &in.MainFaceImage)
	str("id_embedding", &in.IDEmbedding)
	str("prompt", &in.Prompt)
	str("negative_prompt", &in.NegativePrompt)
	integer("width", &in.Width)
	integer("height", &in.Height)
	str("size", &in.Size)
	integer("num_steps", &in.NumSteps)
	integer("start_step", &in.StartStep)
	float("guidance_scale", &in.GuidanceScale)
	float("true_cfg", &in.TrueCFG)
	float("id_weight", &in.IDWeight)
	integer("max_sequence_length", &in.MaxSequenceLength)
	integer("num_outputs", &in.NumOutputs)
	str("output_format", &in.OutputFormat)
	integer("output_quality", &in.OutputQuality)
	boolean("enable_base64_output", &in.EnableBase64Output)
	boolean("enable_sync_mode", &in.EnableSyncMode)
	if v, ok := raw["seed"]; ok && !isNull(v) {
		var s string
		if json.Unmarshal(v, &s) == nil {
			in.Seed = &s
		} else if n, ok := jsonNumber(v); ok {
			in.Seed = &n
		} else {
			errs = append(errs, fieldErr("seed", "want an integer, got %s", short(v)))
		}
	}
	for name := range raw {
		if !slices.Contains(knownFields, name) {
			ignored = append(ignored, name)
		}
	}
	sort.Strings(ignored)
	return in, ignored, errors.Join(errs...)
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func jsonNumber(v json.RawMessage) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var n json.Number
	if err := dec.Decode(&n); err != nil {
		return "", false
	}
	return n.String(), true
}

// parseInt accepts a JSON number with an integral value (896 or 896.0).
func parseInt(v json.RawMessage) (int, error) {
	s, ok := jsonNumber(v)
	if !ok {
		return 0, fmt.Errorf("want an integer, got %s", short(v))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return 0, fmt.Errorf("%s is far out of range", s)
		}
		return int(n), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s is not an integer", s)
	}
	if f < math.MinInt32 || f > math.MaxInt32 {
		return 0, fmt.Errorf("%s is far out of range", s)
	}
	return int(f), nil
}

func short(v json.RawMessage) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// Request is a resolved, validated request: every default applied, every
// value in range.
type Request struct {
	// FaceImagePath and FaceImage name and hold the face photo (FaceImage
	// nil: read the path); IDEmbeddingPath, if set, replaces the photo.
	FaceImagePath   string
	FaceImage       []byte
	IDEmbeddingPath string

	Prompt, NegativePrompt string
	Width, Height          int // multiples of 16
	NumSteps, StartStep    int
	GuidanceScale          float64
	TrueCFG                float64
	IDWeight               float64
	MaxSequenceLength      int
	NumOutputs             int
	OutputFormat           Format
	OutputQuality          int
	// Seed is the seed used; SeedRandom says it was drawn because the
	// request had none (it is echoed back either way).
	Seed       uint64
	SeedRandom bool

	EnableBase64Output, EnableSyncMode bool

	// Notes report what resolution changed or decided, in words (width
	// rounding, a random seed, fields that have no effect).
	Notes []string
}

// TrueCFGOn is the reference's use_true_cfg: the negative branch runs only
// when |true_cfg - 1| > 0.01.
func (r *Request) TrueCFGOn() bool { return math.Abs(r.TrueCFG-1) > 1e-2 }

// Resolve applies the defaults of SPEC.md, checks every field and returns
// the request. All bad fields are reported at once, each as a *FieldError
// naming it. Nothing is clamped; width and height are rounded down to a
// multiple of 16, which Notes reports.
func (in Input) Resolve() (*Request, error) {
	r := &Request{
		Prompt: DefaultPrompt, NegativePrompt: DefaultNegativePrompt,
		Width: DefaultWidth, Height: DefaultHeight,
		NumSteps: DefaultNumSteps, StartStep: DefaultStartStep,
		GuidanceScale: DefaultGuidanceScale, TrueCFG: DefaultTrueCFG, IDWeight: DefaultIDWeight,
		MaxSequenceLength: DefaultMaxSequenceLength, NumOutputs: DefaultNumOutputs,
		OutputFormat: DefaultOutputFormat, OutputQuality: DefaultOutputQuality,
	}
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, fieldErr(field, format, args...)) }

	// The face: a photo (bytes or path) or a saved embedding.
	if in.MainFaceImage != nil {
		r.FaceImagePath = strings.TrimSpace(*in.MainFaceImage)
	}
	r.FaceImage = in.FaceImage
	if strings.HasPrefix(r.FaceImagePath, "data:") && len(r.FaceImage) == 0 {
		data, err := decodeDataURI(r.FaceImagePath)
		if err != nil {
			bad("main_face_image", "%v", err)
		}
		r.FaceImage, r.FaceImagePath = data, ""
		if err == nil && len(data) == 0 {
			bad("main_face_image", "the data URI holds no bytes")
		}
	}
	if in.IDEmbedding != nil {
		r.IDEmbeddingPath = strings.TrimSpace(*in.IDEmbedding)
		if r.IDEmbeddingPath == "" {
			bad("id_embedding", "is empty")
		}
	}
	if r.FaceImagePath == "" && len(r.FaceImage) == 0 && r.IDEmbeddingPath == "" && !slices.ContainsFunc(errs, func(e error) bool { return slices.Contains(Fields(e), "main_face_image") }) {
		bad("main_face_image", "is required (a face photo: jpg, png or webp)")
	}
	if r.IDEmbeddingPath != "" && (r.FaceImagePath != "" || len(r.FaceImage) > 0) {
		bad("id_embedding", "give either main_face_image or id_embedding, not both")
	}

	if in.Prompt != nil {
		r.Prompt = *in.Prompt
	}
	if in.NegativePrompt != nil {
		r.NegativePrompt = *in.NegativePrompt
	}

	// Size: width/height, or WaveSpeed's "W*H" alias (not both).
	wName, hName := "width", "height"
	if in.Size != nil {
		w, h, err := parseSize(*in.Size)
		switch {
		case err != nil:
			bad("size", "%v", err)
		case in.Width != nil && *in.Width != w || in.Height != nil && *in.Height != h:
			bad("size", "%q contradicts width/height %s x %s", *in.Size, intOr(in.Width, "-"), intOr(in.Height, "-"))
		default:
			r.Width, r.Height = w, h
			wName, hName = "size", "size"
		}
	}
	if in.Width != nil {
		r.Width, wName = *in.Width, "width"
	}
	if in.Height != nil {
		r.Height, hName = *in.Height, "height"
	}
	for _, f := range []struct {
		name, dim string
		v         *int
	}{{wName, "width", &r.Width}, {hName, "height", &r.Height}} {
		if *f.v < MinSize || *f.v > MaxSize {
			if f.name == f.dim {
				bad(f.name, "%d is outside %d-%d", *f.v, MinSize, MaxSize)
			} else {
				bad(f.name, "%s %d is outside %d-%d", f.dim, *f.v, MinSize, MaxSize)
			}
			continue
		}
		if rem := *f.v % SizeMultiple; rem != 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s %d rounded down to %d (a multiple of %d)", f.dim, *f.v, *f.v-rem, SizeMultiple))
			*f.v -= rem
		}
	}

	intField := func(name string, src *int, dst *int, lo, hi int) {
		if src == nil {
			return
		}
		if *src < lo || *src > hi {
			bad(name, "%d is outside %d-%d", *src, lo, hi)
			return
		}
		*dst = *src
	}
	intField("num_steps", in.NumSteps, &r.NumSteps, MinSteps, MaxSteps)
	intField("start_step", in.StartStep, &r.StartStep, 0, MaxStartStep)
	intField("max_sequence_length", in.MaxSequenceLength, &r.MaxSequenceLength, MinSeqLen, MaxSeqLen)
	intField("num_outputs", in.NumOutputs, &r.NumOutputs, 1, MaxOutputs)
	intField("output_quality", in.OutputQuality, &r.OutputQuality, MinQuality, MaxQuality)

	floatField := func(name string, src *float64, dst *float64, lo, hi float64) {
		if src == nil {
			return
		}
		if math.IsNaN(*src) || *src < lo || *src > hi {
			bad(name, "%v is outside %g-%g", *src, lo, hi)
			return
		}
		*dst = *src
	}
	floatField("guidance_scale", in.GuidanceScale, &r.GuidanceScale, MinGuidance, MaxGuidance)
	floatField("true_cfg", in.TrueCFG, &r.TrueCFG, MinTrueCFG, MaxTrueCFG)
	floatField("id_weight", in.IDWeight, &r.IDWeight, 0, MaxIDWeight)

	if in.OutputFormat != nil {
		f, err := ParseFormat(*in.OutputFormat)
		if err != nil {
			bad("output_format", "%v", err)
		} else {
			r.OutputFormat = f
		}
	}

	if in.Seed != nil {
		seed, random, err := parseSeed(*in.Seed)
		if err != nil {
			bad("seed", "%v", err)
		} else {
			r.Seed, r.SeedRandom = seed, random
		}
	} else {
		r.SeedRandom = true
	}
	if r.SeedRandom {
		r.Seed = randomSeed()
		r.Notes = append(r.Notes, fmt.Sprintf("random seed %d", r.Seed))
	}

	if in.EnableBase64Output != nil {
		r.EnableBase64Output = *in.EnableBase64Output
	}
	if in.EnableSyncMode != nil {
		r.EnableSyncMode = *in.EnableSyncMode
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if r.StartStep >= r.NumSteps {
		r.Notes = append(r.Notes, fmt.Sprintf("start_step %d >= num_steps %d: the identity is never injected", r.StartStep, r.NumSteps))
	}
	if r.OutputFormat == WebP {
		r.Notes = append(r.Notes, "webp is written lossless (output_quality applies to jpg only)")
	}
	if !r.TrueCFGOn() && in.NegativePrompt != nil {
		r.Notes = append(r.Notes, "negative_prompt is used only when true_cfg > 1")
	}
	return r, nil
}

func intOr(p *int, none string) string {
	if p == nil {
		return none
	}
	return strconv.Itoa(*p)
}

// parseSize reads WaveSpeed's "W*H" (x and X are accepted as well).
func parseSize(s string) (w, h int, err error) {
	t := strings.TrimSpace(s)
	i := strings.IndexAny(t, "*xX")
	if i < 0 {
		return 0, 0, fmt.Errorf("%q is not W*H", s)
	}
	w, errW := strconv.Atoi(strings.TrimSpace(t[:i]))
	h, errH := strconv.Atoi(strings.TrimSpace(t[i+1:]))
	if errW != nil || errH != nil {
		return 0, 0, fmt.Errorf("%q is not W*H with integer W and H", s)
	}
	return w, h, nil
}

// parseSeed reads a seed: "", "-1" (random) or a decimal integer in
// 0..2^64-1 (torch's manual_seed range; the CPU generator uses the low 32
// bits).
func parseSeed(s string) (seed uint64, random bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "-1" {
		return 0, true, nil
	}
	if strings.HasPrefix(t, "-") {
		return 0, false, fmt.Errorf("%s: use -1 (or leave it blank) for a random seed, or an integer >= 0", t)
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		// Integral floats (a JSON 42.0) are accepted; anything else is not.
		if f, ferr := strconv.ParseFloat(t, 64); ferr == nil && f == math.Trunc(f) && f >= 0 && f < 1<<53 {
			return uint64(f), false, nil
		}
		return 0, false, fmt.Errorf("%q is not an integer in 0..2^64-1", s)
	}
	return v, false, nil
}

// randomSeed draws a seed in 0..2^32-1: the bits the CPU generator uses,
// small enough for every JSON client to echo back exactly.
func randomSeed() uint64 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("generate: crypto/rand: %v", err)) // never fails on supported platforms
	}
	return uint64(binary.LittleEndian.Uint32(b[:]))
}

// decodeDataURI returns the bytes of a data URI (RFC 2397):
// data:[<media type>][;base64],<data>.
func decodeDataURI(uri string) ([]byte, error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(uri, "data:"), ",")
	if !ok {
		return nil, errors.New("data URI without a comma")
	}
	if strings.HasSuffix(meta, ";base64") {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
		if err != nil {
			// Some clients drop the padding.
			if data, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(payload), "=")); err != nil {
				return nil, fmt.Errorf("data URI: bad base64: %v", err)
			}
		}
		return data, nil
	}
	data, err := url.PathUnescape(payload)
	if err != nil {
		return nil, fmt.Errorf("data URI: %v", err)
	}
	return []byte(data), nil
}
