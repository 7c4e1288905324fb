package generate

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// face is the minimal valid input: only the required photo.
func face() Input { return Input{MainFaceImage: ptr("me.jpg")} }

func TestResolveDefaults(t *testing.T) {
	r, err := face().Resolve()
	if err != nil {
		t.Fatal(err)
	}
	// SPEC.md "Inputs", written out independently of the constants.
	want := Request{
		FaceImagePath:  "me.jpg",
		Prompt:         "portrait, color, cinematic",
		NegativePrompt: "bad quality, worst quality, text, signature, watermark, extra limbs, low resolution, partially rendered objects, deformed or partially rendered eyes, deformed, deformed eyeballs, cross-eyed, blurry",
		Width:          896, Height: 1152, NumSteps: 20, StartStep: 0,
		GuidanceScale: 4, TrueCFG: 1, IDWeight: 1, MaxSequenceLength: 128,
		NumOutputs: 1, OutputFormat: "webp", OutputQuality: 80,
	}
	got := *r
	if !got.SeedRandom || got.Seed >= 1<<32 {
		t.Errorf("seed %d random %v: want a random seed below 2^32", got.Seed, got.SeedRandom)
	}
	if !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, "random seed") }) {
		t.Errorf("notes %q do not report the random seed", got.Notes)
	}
	got.Seed, got.SeedRandom, got.Notes = 0, false, nil
	if got.FaceImagePath != want.FaceImagePath || got.Prompt != want.Prompt || got.NegativePrompt != want.NegativePrompt ||
		got.Width != want.Width || got.Height != want.Height || got.NumSteps != want.NumSteps || got.StartStep != want.StartStep ||
		got.GuidanceScale != want.GuidanceScale || got.TrueCFG != want.TrueCFG || got.IDWeight != want.IDWeight ||
		got.MaxSequenceLength != want.MaxSequenceLength || got.NumOutputs != want.NumOutputs ||
		got.OutputFormat != want.OutputFormat || got.OutputQuality != want.OutputQuality ||
		got.EnableBase64Output || got.EnableSyncMode || got.TrueCFGOn() {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestResolveValid(t *testing.T) {
	cases := []struct {
		name  string
		in    Input
		check func(*Request) bool
		note  string // a note that must be present
	}{
		{"lowest values", Input{MainFaceImage: ptr("f.png"), Width: ptr(256), Height: ptr(256), NumSteps: ptr(1),
			StartStep: ptr(0), GuidanceScale: ptr(1.0), TrueCFG: ptr(1.0), IDWeight: ptr(0.0), MaxSequenceLength: ptr(128),
			NumOutputs: ptr(1), OutputQuality: ptr(1), Seed: ptr("0")},
			func(r *Request) bool {
				return r.Width == 256 && r.Height == 256 && r.NumSteps == 1 && r.IDWeight == 0 && r.OutputQuality == 1 &&
					r.Seed == 0 && !r.SeedRandom
			}, ""},
		{"highest values", Input{MainFaceImage: ptr("f.png"), Width: ptr(1536), Height: ptr(1536), NumSteps: ptr(20),
			StartStep: ptr(10), GuidanceScale: ptr(10.0), TrueCFG: ptr(10.0), IDWeight: ptr(3.0), MaxSequenceLength: ptr(512),
			NumOutputs: ptr(4), OutputQuality: ptr(100), Seed: ptr("18446744073709551615")},
			func(r *Request) bool {
				return r.Width == 1536 && r.StartStep == 10 && r.TrueCFG == 10 && r.TrueCFGOn() && r.IDWeight == 3 &&
					r.MaxSequenceLength == 512 && r.NumOutputs == 4 && r.Seed == math.MaxUint64
			}, ""},
		{"width and height rounded down", Input{MainFaceImage: ptr("f"), Width: ptr(1000), Height: ptr(1535)},
			func(r *Request) bool { return r.Width == 992 && r.Height == 1520 }, "width 1000 rounded down to 992"},
		{"size alias", Input{MainFaceImage: ptr("f"), Size: ptr("1024*768")},
			func(r *Request) bool { return r.Width == 1024 && r.Height == 768 }, ""},
		{"size alias with x, rounded", Input{MainFaceImage: ptr("f"), Size: ptr(" 1000x520 ")},
			func(r *Request) bool { return r.Width == 992 && r.Height == 512 }, "height 520 rounded down to 512"},
		{"size agreeing with width", Input{MainFaceImage: ptr("f"), Size: ptr("512*512"), Width: ptr(512)},
			func(r *Request) bool { return r.Width == 512 && r.Height == 512 }, ""},
		{"seed -1 is random", Input{MainFaceImage: ptr("f"), Seed: ptr("-1")},
			func(r *Request) bool { return r.SeedRandom }, "random seed"},
		{"blank seed is random", Input{MainFaceImage: ptr("f"), Seed: ptr("  ")},
			func(r *Request) bool { return r.SeedRandom }, "random seed"},
		{"seed 42", Input{MainFaceImage: ptr("f"), Seed: ptr("42")},
			func(r *Request) bool { return r.Seed == 42 && !r.SeedRandom }, ""},
		{"seed 42.0", Input{MainFaceImage: ptr("f"), Seed: ptr("42.0")},
			func(r *Request) bool { return r.Seed == 42 }, ""},
		{"jpeg is jpg", Input{MainFaceImage: ptr("f"), OutputFormat: ptr("JPEG")},
			func(r *Request) bool { return r.OutputFormat == JPEG }, ""},
		{"png", Input{MainFaceImage: ptr("f"), OutputFormat: ptr("png")},
			func(r *Request) bool { return r.OutputFormat == PNG }, ""},
		{"true cfg barely on", Input{MainFaceImage: ptr("f"), TrueCFG: ptr(1.02)},
			func(r *Request) bool { return r.TrueCFGOn() }, ""},
		{"true cfg within 0.01 is off", Input{MainFaceImage: ptr("f"), TrueCFG: ptr(1.005)},
			func(r *Request) bool { return !r.TrueCFGOn() }, ""},
		{"negative prompt without cfg noted", Input{MainFaceImage: ptr("f"), NegativePrompt: ptr("ugly")},
			func(r *Request) bool { return r.NegativePrompt == "ugly" }, "negative_prompt is used only when true_cfg > 1"},
		{"start step past the steps noted", Input{MainFaceImage: ptr("f"), NumSteps: ptr(4), StartStep: ptr(4)},
			func(r *Request) bool { return r.StartStep == 4 }, "never injected"},
		{"embedding instead of photo", Input{IDEmbedding: ptr("face.gguf")},
			func(r *Request) bool { return r.IDEmbeddingPath == "face.gguf" && r.FaceImagePath == "" }, ""},
		{"data URI", Input{MainFaceImage: ptr("data:image/png;base64,iVBORw0K")},
			func(r *Request) bool { return string(r.FaceImage) == "\x89PNG\r\n" && r.FaceImagePath == "" }, ""},
		{"data URI without padding", Input{MainFaceImage: ptr("data:image/jpeg;base64,/9j/4A")},
			func(r *Request) bool { return string(r.FaceImage) == "\xff\xd8\xff\xe0" }, ""},
		{"percent-encoded data URI", Input{MainFaceImage: ptr("data:,GIF%38")},
			func(r *Request) bool { return string(r.FaceImage) == "GIF8" }, ""},
		{"photo bytes", Input{FaceImage: []byte{1, 2, 3}},
			func(r *Request) bool { return len(r.FaceImage) == 3 }, ""},
		{"empty prompt kept", Input{MainFaceImage: ptr("f"), Prompt: ptr("")},
			func(r *Request) bool { return r.Prompt == "" }, ""},
		{"wavespeed flags", Input{MainFaceImage: ptr("f"), EnableBase64Output: ptr(true), EnableSyncMode: ptr(true)},
			func(r *Request) bool { return r.EnableBase64Output && r.EnableSyncMode }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.in.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(r) {
				t.Errorf("got %+v", *r)
			}
			if c.note != "" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, c.note) }) {
				t.Errorf("notes %q lack %q", r.Notes, c.note)
			}
		})
	}
}

func TestResolveRejects(t *testing.T) {
	with := func(f func(*Input)) Input {
		in := face()
		f(&in)
		return in
	}
	cases := []struct {
		name   string
		in     Input
		fields []string // the fields named, in order
		msg    string   // part of the message
	}{
		{"no face", Input{}, []string{"main_face_image"}, "required"},
		{"blank face path", Input{MainFaceImage: ptr("  ")}, []string{"main_face_image"}, "required"},
		{"data URI bad base64", Input{MainFaceImage: ptr("data:image/png;base64,!!!")}, []string{"main_face_image"}, "bad base64"},
		{"data URI without comma", Input{MainFaceImage: ptr("data:image/png;base64")}, []string{"main_face_image"}, "without a comma"},
		{"empty data URI", Input{MainFaceImage: ptr("data:image/png;base64,")}, []string{"main_face_image"}, "no bytes"},
		{"photo and embedding", with(func(in *Input) { in.IDEmbedding = ptr("e.gguf") }), []string{"id_embedding"}, "not both"},
		{"empty embedding path", Input{IDEmbedding: ptr("")}, []string{"id_embedding", "main_face_image"}, "empty"},
		{"width low", with(func(in *Input) { in.Width = ptr(255) }), []string{"width"}, "255 is outside 256-1536"},
		{"width high", with(func(in *Input) { in.Width = ptr(1537) }), []string{"width"}, "1537"},
		{"width zero", with(func(in *Input) { in.Width = ptr(0) }), []string{"width"}, "0 is outside"},
		{"height negative", with(func(in *Input) { in.Height = ptr(-16) }), []string{"height"}, "-16"},
		{"size malformed", with(func(in *Input) { in.Size = ptr("1024") }), []string{"size"}, "not W*H"},
		{"size not numbers", with(func(in *Input) { in.Size = ptr("a*b") }), []string{"size"}, "integer"},
		{"size out of range", with(func(in *Input) { in.Size = ptr("2048*512") }), []string{"size"}, "width 2048 is outside"},
		{"size contradicts width", with(func(in *Input) { in.Size = ptr("512*512"); in.Width = ptr(768) }), []string{"size"}, "contradicts"},
		{"num_steps 0", with(func(in *Input) { in.NumSteps = ptr(0) }), []string{"num_steps"}, "0 is outside 1-20"},
		{"num_steps 21", with(func(in *Input) { in.NumSteps = ptr(21) }), []string{"num_steps"}, "21"},
		{"start_step -1", with(func(in *Input) { in.StartStep = ptr(-1) }), []string{"start_step"}, "-1"},
		{"start_step 11", with(func(in *Input) { in.StartStep = ptr(11) }), []string{"start_step"}, "0-10"},
		{"guidance 0.5", with(func(in *Input) { in.GuidanceScale = ptr(0.5) }), []string{"guidance_scale"}, "0.5 is outside 1-10"},
		{"guidance NaN", with(func(in *Input) { in.GuidanceScale = ptr(math.NaN()) }), []string{"guidance_scale"}, "NaN"},
		{"guidance +Inf", with(func(in *Input) { in.GuidanceScale = ptr(math.Inf(1)) }), []string{"guidance_scale"}, "Inf"},
		{"true_cfg 0.9", with(func(in *Input) { in.TrueCFG = ptr(0.9) }), []string{"true_cfg"}, "0.9"},
		{"true_cfg 10.5", with(func(in *Input) { in.TrueCFG = ptr(10.5) }), []string{"true_cfg"}, "10.5"},
		{"id_weight -0.1", with(func(in *Input) { in.IDWeight = ptr(-0.1) }), []string{"id_weight"}, "0-3"},
		{"id_weight 3.5", with(func(in *Input) { in.IDWeight = ptr(3.5) }), []string{"id_weight"}, "3.5"},
		{"max_sequence_length 64", with(func(in *Input) { in.MaxSequenceLength = ptr(64) }), []string{"max_sequence_length"}, "128-512"},
		{"max_sequence_length 513", with(func(in *Input) { in.MaxSequenceLength = ptr(513) }), []string{"max_sequence_length"}, "513"},
		{"num_outputs 0", with(func(in *Input) { in.NumOutputs = ptr(0) }), []string{"num_outputs"}, "1-4"},
		{"num_outputs 5", with(func(in *Input) { in.NumOutputs = ptr(5) }), []string{"num_outputs"}, "5"},
		{"output_format gif", with(func(in *Input) { in.OutputFormat = ptr("gif") }), []string{"output_format"}, `"gif" is not one of png, jpg, jpeg, webp`},
		{"output_quality 0", with(func(in *Input) { in.OutputQuality = ptr(0) }), []string{"output_quality"}, "1-100"},
		{"output_quality 101", with(func(in *Input) { in.OutputQuality = ptr(101) }), []string{"output_quality"}, "101"},
		{"seed -2", with(func(in *Input) { in.Seed = ptr("-2") }), []string{"seed"}, "-1"},
		{"seed text", with(func(in *Input) { in.Seed = ptr("lucky") }), []string{"seed"}, "not an integer"},
		{"seed 2^64", with(func(in *Input) { in.Seed = ptr("18446744073709551616") }), []string{"seed"}, "not an integer"},
		{"seed fraction", with(func(in *Input) { in.Seed = ptr("1.5") }), []string{"seed"}, "not an integer"},
		{"every bad field at once", with(func(in *Input) {
			in.Width, in.NumSteps, in.IDWeight, in.OutputFormat = ptr(10), ptr(99), ptr(9.0), ptr("bmp")
		}), []string{"width", "num_steps", "id_weight", "output_format"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.in.Resolve()
			if err == nil {
				t.Fatalf("accepted: %+v", *r)
			}
			if got := Fields(err); !slices.Equal(got, c.fields) {
				t.Errorf("fields %q, want %q (error: %v)", got, c.fields, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q lacks %q", err, c.msg)
			}
			for _, f := range c.fields {
				if !strings.Contains(err.Error(), f+": ") {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
		})
	}
}

func TestParseInput(t *testing.T) {
	in, ignored, err := ParseInput([]byte(`{"main_face_image": "a.jpg", "prompt": "a man", "width": 1024, "height": 768.0,
		"guidance_scale": 3, "true_cfg": 1.5, "seed": 7, "output_format": "png", "enable_sync_mode": true,
		"negative_prompt": null, "webhook": "x", "extra": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ignored, []string{"extra", "webhook"}) {
		t.Errorf("ignored %q", ignored)
	}
	r, err := in.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.FaceImagePath != "a.jpg" || r.Prompt != "a man" || r.Width != 1024 || r.Height != 768 || r.GuidanceScale != 3 ||
		r.TrueCFG != 1.5 || r.Seed != 7 || r.SeedRandom || r.OutputFormat != PNG || !r.EnableSyncMode ||
		r.NegativePrompt != DefaultNegativePrompt {
		t.Errorf("got %+v", *r)
	}

	for _, c := range []struct {
		json   string
		seed   uint64
		random bool
	}{
		{`{"seed": "12"}`, 12, false},
		{`{"seed": ""}`, 0, true},
		{`{"seed": null}`, 0, true},
		{`{"seed": -1}`, 0, true},
		{`{"seed": 4294967296}`, 4294967296, false},
	} {
		in, _, err := ParseInput([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		in.MainFaceImage = ptr("f")
		r, err := in.Resolve()
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if r.SeedRandom != c.random || (!c.random && r.Seed != c.seed) {
			t.Errorf("%s: seed %d random %v", c.json, r.Seed, r.SeedRandom)
		}
	}
}

func TestParseInputRejects(t *testing.T) {
	cases := []struct {
		json   string
		fields []string
	}{
		{`{"width": "wide"}`, []string{"width"}},
		{`{"width": 900.5}`, []string{"width"}},
		{`{"height": true}`, []string{"height"}},
		{`{"num_steps": 1e12}`, []string{"num_steps"}},
		{`{"guidance_scale": "4"}`, []string{"guidance_scale"}},
		{`{"prompt": 5}`, []string{"prompt"}},
		{`{"seed": [1]}`, []string{"seed"}},
		{`{"enable_base64_output": "yes"}`, []string{"enable_base64_output"}},
		{`{"width": "a", "true_cfg": {}, "output_format": 1}`, []string{"width", "true_cfg", "output_format"}},
	}
	for _, c := range cases {
		_, _, err := ParseInput([]byte(c.json))
		if err == nil {
			t.Errorf("%s: accepted", c.json)
			continue
		}
		if got := Fields(err); !slices.Equal(got, c.fields) {
			t.Errorf("%s: fields %q, want %q (%v)", c.json, got, c.fields, err)
		}
	}
	for _, bad := range []string{``, `[1]`, `{"width": 1`, `"x"`} {
		if _, _, err := ParseInput([]byte(bad)); err == nil || !strings.Contains(err.Error(), "JSON object") {
			t.Errorf("%q: error %v, want a not-a-JSON-object error", bad, err)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"png": PNG, "PNG": PNG, "jpg": JPEG, "jpeg": JPEG, " webp ": WebP} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "gif", "tiff", "jp g"} {
		if _, err := ParseFormat(in); err == nil {
			t.Errorf("ParseFormat(%q) accepted", in)
		}
	}
	if PNG.MIME() != "image/png" || JPEG.MIME() != "image/jpeg" || WebP.MIME() != "image/webp" {
		t.Error("MIME types")
	}
}
