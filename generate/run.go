package generate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/pipeline"
	"github.com/fluxpulid/fluxpulid/sampling"
)

// Image is one encoded output.
type Image struct {
	Data          []byte
	Format        Format
	Width, Height int
}

// Timings are the wall-clock times of the job's stages.
type Timings struct {
	Face, Prompt, Denoise, Encode, Total time.Duration
}

// Result is what a job returns.
type Result struct {
	Images []Image
	// Seed is the seed used (the request's, or the random one drawn),
	// echoed so that a result can be reproduced.
	Seed          uint64
	Width, Height int
	// Notes are the request's notes (rounding, random seed) and the job's.
	Notes []string
	// Face is what identity encoding saw (debug images), nil when a saved
	// embedding was used.
	Face    *idembed.Result
	Timings Timings
}

// Event reports progress: Stage is "face", "prompt", "denoise" (with Step
// of Steps for output Output of Outputs) or "encode".
type Event struct {
	Stage           string
	Output, Outputs int
	Step, Steps     int
}

// TrueCFGFromStep is the first step that runs true CFG's negative branch:
// the PuLID app's timestep_to_start_cfg (SPEC.md: "from step 1 on").
const TrueCFGFromStep = 1

// Run does the whole job of SPEC.md for a resolved request.
func Run(ctx context.Context, m *Models, r *Request) (*Result, error) {
	return RunProgress(ctx, m, r, nil)
}

// RunProgress is Run reporting each stage and denoising step to progress
// (nil: none). A failure (no face in the photo, a bad embedding file, a
// cancelled ctx) fails this request only: the models stay usable. Jobs on
// one Models should run one at a time (a server queues them): the backend
// and the models are not promised to be safe for concurrent forwards.
func RunProgress(ctx context.Context, m *Models, r *Request, progress func(Event)) (res *Result, err error) {
	start := time.Now()
	if progress == nil {
		progress = func(Event) {}
	}
	if r == nil {
		return nil, errors.New("generate: nil request")
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	b := m.Backend
	res = &Result{Seed: r.Seed, Width: r.Width, Height: r.Height, Notes: append([]string(nil), r.Notes...)}

	// 1. The identity.
	progress(Event{Stage: "face"})
	t := time.Now()
	emb, face, err := m.identity(r)
	if err != nil {
		return nil, err
	}
	res.Face = face
	res.Timings.Face = time.Since(t)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// 2. The prompts.
	progress(Event{Stage: "prompt"})
	t = time.Now()
	var temps []backend.Tensor
	defer func() {
		for _, x := range temps {
			b.Free(x)
		}
	}()
	keep := func(x backend.Tensor) backend.Tensor { temps = append(temps, x); return x }
	cond := pipeline.Conditioning{}
	if cond.Txt, cond.Vec, err = m.prompt(r.Prompt, r.MaxSequenceLength, keep); err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	if r.TrueCFGOn() {
		if cond.NegTxt, cond.NegVec, err = m.prompt(r.NegativePrompt, r.MaxSequenceLength, keep); err != nil {
			return nil, fmt.Errorf("negative_prompt: %w", err)
		}
	}
	cond.ID = keep(b.FromF32([]int{1, emb.Tokens, emb.Dim}, emb.Cond))
	if r.TrueCFGOn() {
		cond.UncondID = keep(b.FromF32([]int{1, emb.Tokens, emb.Dim}, emb.Uncond))
	}
	res.Timings.Prompt = time.Since(t)

	// 3. Denoising and decoding, one output at a time (a quarter of the
	// activation memory of a batch of four). The noise of all outputs is
	// drawn from one generator, as get_noise(num_outputs, ...) draws it,
	// so output 0 of any request equals the single output of the same seed.
	t = time.Now()
	noise, shape, err := sampling.GetNoise(r.NumOutputs, r.Height, r.Width, r.Seed, sampling.MathAVX2)
	if err != nil {
		return nil, err
	}
	per := len(noise) / r.NumOutputs
	var pixels [][]uint8
	for i := range r.NumOutputs {
		one := sampling.Tensor{Shape: []int{1, shape[1], shape[2], shape[3]}, Data: noise[i*per : (i+1)*per]}
		opt := pipeline.Options{
			Width: r.Width, Height: r.Height, NumSteps: r.NumSteps, StartStep: r.StartStep,
			Guidance: r.GuidanceScale, TrueCFG: r.TrueCFG, TimestepToStartCFG: TrueCFGFromStep, IDWeight: r.IDWeight,
			Seed: r.Seed, Batch: 1, Noise: &one,
			Progress: func(step, steps int) {
				progress(Event{Stage: "denoise", Output: i, Outputs: r.NumOutputs, Step: step, Steps: steps})
			},
		}
		out, err := pipeline.Generate(ctx, b, pipeline.Models{Flux: m.Flux, AE: m.AE}, cond, opt)
		if err != nil {
			return nil, fmt.Errorf("output %d of %d: %w", i+1, r.NumOutputs, err)
		}
		pixels = append(pixels, out.Pixels[0])
	}
	res.Timings.Denoise = time.Since(t)

	// 4. Image encoding.
	progress(Event{Stage: "encode"})
	t = time.Now()
	for i, px := range pixels {
		data, err := EncodeImage(px, r.Width, r.Height, r.OutputFormat, r.OutputQuality)
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", i+1, err)
		}
		res.Images = append(res.Images, Image{Data: data, Format: r.OutputFormat, Width: r.Width, Height: r.Height})
	}
	res.Timings.Encode = time.Since(t)
	res.Timings.Total = time.Since(start)
	return res, nil
}

// EncodeImage encodes 8-bit RGB pixels (HWC) as format; quality (1-100)
// applies to jpg.
func EncodeImage(px []uint8, w, h int, f Format, quality int) ([]byte, error) {
	img, err := imageio.FromPix(w, h, px)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	switch f {
	case PNG:
		err = imageio.EncodePNG(&buf, img)
	case JPEG:
		err = imageio.EncodeJPEG(&buf, img, quality)
	case WebP:
		err = imageio.EncodeWebP(&buf, img)
	default:
		err = fmt.Errorf("unknown output format %q", f)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// check reports models a generation cannot run with.
func (m *Models) check() error {
	switch {
	case m == nil || m.Backend == nil:
		return errors.New("generate: no models loaded")
	case m.Flux == nil || m.AE == nil || m.Text == nil:
		return errors.New("generate: the FLUX model, the autoencoder and the text encoders are all required")
	case len(m.Flux.IDModules) == 0:
		return errors.New("generate: the FLUX model has no PuLID cross-attention attached")
	}
	return nil
}

// kvDim is the identity-token width the attached cross-attention reads
// (0 if it does not say).
func (m *Models) kvDim() int {
	if k, ok := m.Flux.IDModules[0].(interface{ KVDim() int }); ok {
		return k.KVDim()
	}
	return 0
}

// identity returns the request's ID embedding: loaded from a saved file or
// encoded from the photo, with the uncond tokens when true CFG is on.
func (m *Models) identity(r *Request) (*idembed.Embedding, *idembed.Result, error) {
	var emb *idembed.Embedding
	var face *idembed.Result
	if r.IDEmbeddingPath != "" {
		e, err := idembed.Load(r.IDEmbeddingPath)
		if err != nil {
			return nil, nil, &FieldError{Field: "id_embedding", Msg: err.Error()}
		}
		emb = e
	} else {
		var err error
		// The uncond identity does not depend on the face: it comes from
		// the cache below rather than from every encoding.
		if face, err = m.EncodeFace(r.FaceImagePath, r.FaceImage, false); err != nil {
			return nil, nil, err
		}
		emb = face.Embedding
	}
	if k := m.kvDim(); k > 0 && emb.Dim != k {
		return nil, nil, fmt.Errorf("id embedding of %d x %d tokens: the PuLID model reads %d-wide tokens", emb.Tokens, emb.Dim, k)
	}
	if r.TrueCFGOn() && emb.Uncond == nil {
		u, err := m.uncondID()
		if err != nil {
			return nil, nil, err
		}
		if len(u) != len(emb.Cond) {
			return nil, nil, fmt.Errorf("the uncond identity has %d values, the embedding %d x %d tokens", len(u), emb.Tokens, emb.Dim)
		}
		cp := *emb
		cp.Uncond = u
		emb = &cp
	}
	return emb, face, nil
}

// EncodeFace decodes a face photo (data, or the file at path when data is
// nil) and computes its identity. A photo that does not decode is a
// *FieldError on main_face_image; a photo without a face fails with an
// error wrapping idembed.ErrNoFace that names the image.
func (m *Models) EncodeFace(path string, data []byte, uncond bool) (*idembed.Result, error) {
	if data == nil && (strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://")) {
		return nil, &FieldError{Field: "main_face_image", Msg: path + " is a URL: the job reads files and uploaded bytes (a server fetches URLs)"}
	}
	if m.Face == nil {
		return nil, errors.New("face models are not loaded: this job can only use a saved ID embedding (id_embedding)")
	}
	name := path
	if name == "" {
		name = "main_face_image"
	}
	var img *imageio.Image
	var err error
	if data != nil {
		img, err = imageio.Decode(data, name)
	} else {
		img, err = imageio.DecodeFile(path)
	}
	if err != nil {
		return nil, &FieldError{Field: "main_face_image", Msg: err.Error()}
	}
	res, err := m.Face.Encode(name, img, uncond)
	if err != nil {
		return nil, err
	}
	if res == nil || res.Embedding == nil {
		return nil, fmt.Errorf("id embedding of %s: the face encoder returned nothing", name)
	}
	return res, nil
}

// prompt encodes one prompt to tensors [1, L, D] and [1, V], checking them
// against the FLUX model's input widths.
func (m *Models) prompt(text string, maxLen int, keep func(backend.Tensor) backend.Tensor) (txt, vec backend.Tensor, err error) {
	t, v, err := m.Text.EncodePrompt(m.Backend, text, maxLen)
	if err != nil {
		return nil, nil, err
	}
	c := m.Flux.Cfg
	if len(t) != maxLen*c.ContextInDim {
		return nil, nil, fmt.Errorf("the text encoder gave %d values, want %d tokens x %d (the FLUX context width)", len(t), maxLen, c.ContextInDim)
	}
	if len(v) != c.VecInDim {
		return nil, nil, fmt.Errorf("the pooled text vector has %d values, the FLUX model wants %d", len(v), c.VecInDim)
	}
	return keep(m.Backend.FromF32([]int{1, maxLen, c.ContextInDim}, t)), keep(m.Backend.FromF32([]int{1, c.VecInDim}, v)), nil
}

// uncondID is get_id_embedding's uncond identity, the IDFormer on all-zero
// inputs: the same for every face, so it is computed once per Models.
func (m *Models) uncondID() ([]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.uncond != nil {
		return m.uncond, nil
	}
	if m.IDFormer == nil {
		return nil, errors.New("true_cfg needs the uncond identity: the embedding file has none and no IDFormer is loaded")
	}
	u, err := m.IDFormer.Uncond(m.Backend, 1, m.EVATokens)
	if err != nil {
		return nil, fmt.Errorf("uncond identity: %w", err)
	}
	defer m.Backend.Free(u)
	v, err := m.Backend.ReadF32(u)
	if err != nil {
		return nil, err
	}
	m.uncond = v
	return v, nil
}
