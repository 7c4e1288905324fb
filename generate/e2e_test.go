package generate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/generate/tinyset"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/pipeline"
	"github.com/fluxpulid/fluxpulid/sampling"
	"golang.org/x/image/webp"
)

// world is the tiny model set and ID embeddings shared by the end-to-end
// tests (written once per test binary).
type world struct {
	dir        string
	paths      Paths
	models     *Models
	embA, embB string // two identities
	embBadDim  string // tokens of the wrong width
	err        error
}

var (
	theWorld  world
	worldOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theWorld.models != nil {
		theWorld.models.Close()
	}
	if theWorld.dir != "" {
		os.RemoveAll(theWorld.dir)
	}
	os.Exit(code)
}

func getWorld(t *testing.T) *world {
	t.Helper()
	worldOnce.Do(func() {
		w := &theWorld
		w.dir, w.err = os.MkdirTemp("", "fluxpulid-generate-")
		if w.err != nil {
			return
		}
		cfg := tinyset.Default()
		if w.err = tinyset.Write(w.dir, cfg); w.err != nil {
			return
		}
		if w.paths, w.err = Find(w.dir, Paths{}, NeedGenerate); w.err != nil {
			return
		}
		if w.models, w.err = Load(cpu.New(), w.paths, LoadOptions{Need: NeedGenerate}); w.err != nil {
			return
		}
		enc := cfg.PuLID.Encoder
		mk := func(name string, seed uint64, dim int) string {
			if w.err != nil {
				return ""
			}
			e := &idembed.Embedding{Tokens: enc.NumQueries, Dim: dim,
				Cond: tinyset.Values(name, []int{enc.NumQueries, dim}, seed)}
			for i := range e.Cond {
				e.Cond[i] *= 8 // identity tokens of roughly unit size
			}
			p := filepath.Join(w.dir, name)
			w.err = idembed.Save(p, e, dtype.F32)
			return p
		}
		w.embA = mk("a.gguf", 1, enc.OutputDim)
		w.embB = mk("b.gguf", 2, enc.OutputDim)
		w.embBadDim = mk("bad.gguf", 3, enc.OutputDim+1)
	})
	if theWorld.err != nil {
		t.Fatal(theWorld.err)
	}
	return &theWorld
}

// tinyInput is a fast request: 256x256, two steps, png.
func tinyInput(emb string) Input {
	return Input{IDEmbedding: ptr(emb), Width: ptr(256), Height: ptr(256), NumSteps: ptr(2),
		OutputFormat: ptr("png"), Seed: ptr("42")}
}

// small is the image side most tests run at: below the API's 256 minimum,
// which only Resolve enforces, to keep the suite fast on two cores (the
// AE decoder's cost grows with the pixels). TestRunEndToEnd and
// TestRunRoundsSize run at the API's sizes.
const small = 64

// resolveSmall resolves in and shrinks the image to small x small.
func resolveSmall(t *testing.T, in Input) *Request {
	t.Helper()
	r, err := in.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	r.Width, r.Height = small, small
	return r
}

func run(t *testing.T, w *world, in Input) *Result {
	t.Helper()
	return runReq(t, w, resolveSmall(t, in))
}

func runReq(t *testing.T, w *world, r *Request) *Result {
	t.Helper()
	res, err := Run(context.Background(), w.models, r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decodeRGB(t *testing.T, img Image) *image.NRGBA {
	t.Helper()
	var m image.Image
	var err error
	switch img.Format {
	case PNG:
		m, err = png.Decode(bytes.NewReader(img.Data))
	case JPEG:
		m, err = jpeg.Decode(bytes.NewReader(img.Data))
	case WebP:
		m, err = webp.Decode(bytes.NewReader(img.Data))
	}
	if err != nil {
		t.Fatalf("decode %s output: %v", img.Format, err)
	}
	out := image.NewNRGBA(m.Bounds())
	for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
		for x := m.Bounds().Min.X; x < m.Bounds().Max.X; x++ {
			out.Set(x, y, m.At(x, y))
		}
	}
	return out
}

func TestRunEndToEnd(t *testing.T) {
	w := getWorld(t)
	var events []Event
	r, err := tinyInput(w.embA).Resolve()
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunProgress(context.Background(), w.models, r, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 || res.Seed != 42 || res.Width != 256 || res.Height != 256 || res.Face != nil {
		t.Fatalf("result %d images, seed %d, %dx%d", len(res.Images), res.Seed, res.Width, res.Height)
	}
	img := decodeRGB(t, res.Images[0])
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("image is %dx%d, want 256x256", b.Dx(), b.Dy())
	}
	// Random weights make a meaningless picture, but not a flat one: the
	// pixels must vary (a broken decode gives one colour).
	levels := map[uint8]bool{}
	for i := 0; i < len(img.Pix); i += 4 {
		levels[img.Pix[i]] = true
	}
	if len(levels) < 8 {
		t.Errorf("the red channel has only %d distinct values", len(levels))
	}
	var stages []string
	steps := 0
	for _, e := range events {
		if len(stages) == 0 || stages[len(stages)-1] != e.Stage {
			stages = append(stages, e.Stage)
		}
		if e.Stage == "denoise" {
			steps++
			if e.Steps != 2 || e.Step != steps || e.Outputs != 1 {
				t.Errorf("denoise event %+v", e)
			}
		}
	}
	if !slices.Equal(stages, []string{"face", "prompt", "denoise", "encode"}) || steps != 2 {
		t.Errorf("stages %v with %d steps", stages, steps)
	}

}

func TestRunDeterminism(t *testing.T) {
	w := getWorld(t)
	base := run(t, w, tinyInput(w.embA))
	if b := decodeRGB(t, base.Images[0]).Bounds(); b.Dx() != small || b.Dy() != small {
		t.Fatalf("image %v", b)
	}
	// The same seed gives the same bytes; another seed another image. The
	// repeated prompt comes from the conditioner's cache.
	cond := w.models.Text.(promptEncoder).c
	misses := cond.Misses()
	if !bytes.Equal(run(t, w, tinyInput(w.embA)).Images[0].Data, base.Images[0].Data) {
		t.Error("the same request and seed gave a different image")
	}
	if got := cond.Misses(); got != misses {
		t.Errorf("a repeated prompt was encoded again (%d encodings, %d before)", got, misses)
	}
	other := tinyInput(w.embA)
	other.Seed = ptr("43")
	if bytes.Equal(run(t, w, other).Images[0].Data, base.Images[0].Data) {
		t.Error("seeds 42 and 43 gave the same image")
	}
	// A different prompt changes the image.
	prompted := tinyInput(w.embA)
	prompted.Prompt = ptr("a photo of a person on the moon")
	if bytes.Equal(run(t, w, prompted).Images[0].Data, base.Images[0].Data) {
		t.Error("a different prompt gave the same image")
	}
}

func TestRunRandomSeedEchoed(t *testing.T) {
	w := getWorld(t)
	in := tinyInput(w.embA)
	in.Seed = ptr("-1")
	in.NumSteps = ptr(1)
	res := run(t, w, in)
	// The echoed seed reproduces the image.
	in.Seed = ptr(fmt.Sprint(res.Seed))
	if !bytes.Equal(run(t, w, in).Images[0].Data, res.Images[0].Data) {
		t.Errorf("echoed seed %d does not reproduce the image", res.Seed)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, fmt.Sprintf("random seed %d", res.Seed)) }) {
		t.Errorf("notes %q do not name the random seed", res.Notes)
	}
}

func TestRunSeveralOutputs(t *testing.T) {
	w := getWorld(t)
	in := tinyInput(w.embA)
	in.NumSteps = ptr(1)
	one := run(t, w, in)
	in.NumOutputs = ptr(2)
	two := run(t, w, in)
	if len(two.Images) != 2 {
		t.Fatalf("%d images, want 2", len(two.Images))
	}
	if !bytes.Equal(two.Images[0].Data, one.Images[0].Data) {
		t.Error("output 0 of two differs from the single output of the same seed")
	}
	if bytes.Equal(two.Images[0].Data, two.Images[1].Data) {
		t.Error("the two outputs are the same image")
	}
}

func TestRunIDWeight(t *testing.T) {
	w := getWorld(t)
	with := func(emb string, weight float64) []byte {
		in := tinyInput(emb)
		in.IDWeight = ptr(weight)
		return run(t, w, in).Images[0].Data
	}
	a0, b0 := with(w.embA, 0), with(w.embB, 0)
	if !bytes.Equal(a0, b0) {
		t.Error("id_weight 0: the identity still changes the image")
	}
	if bytes.Equal(with(w.embA, 1), with(w.embB, 1)) {
		t.Error("id_weight 1: two identities gave the same image")
	}
	// id_weight 0 is generation without any identity.
	r, _ := tinyInput(w.embA).Resolve()
	m := w.models
	txt, vec, _ := m.Text.EncodePrompt(m.Backend, r.Prompt, r.MaxSequenceLength)
	c := m.Flux.Cfg
	noise, shape, err := sampling.GetNoise(1, small, small, 42, sampling.MathAVX2)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pipeline.Generate(context.Background(), m.Backend, pipeline.Models{Flux: m.Flux, AE: m.AE}, pipeline.Conditioning{
		Txt: m.Backend.FromF32([]int{1, r.MaxSequenceLength, c.ContextInDim}, txt),
		Vec: m.Backend.FromF32([]int{1, c.VecInDim}, vec),
	}, pipeline.Options{Width: small, Height: small, NumSteps: 2, Guidance: 4, TrueCFG: 1, IDWeight: 1,
		Noise: &sampling.Tensor{Shape: shape[:], Data: noise}})
	if err != nil {
		t.Fatal(err)
	}
	noID, err := EncodeImage(out.Pixels[0], small, small, PNG, 80)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(noID, a0) {
		t.Error("id_weight 0 differs from generating without an identity")
	}
}

func TestRunTrueCFG(t *testing.T) {
	w := getWorld(t)
	in := tinyInput(w.embA) // the file has no uncond tokens: the IDFormer computes them
	in.NumSteps = ptr(1)
	off := run(t, w, in)
	// True CFG starts at step 1: a one-step run never takes the negative branch.
	in.TrueCFG = ptr(3.0)
	if !bytes.Equal(run(t, w, in).Images[0].Data, off.Images[0].Data) {
		t.Error("one step with true_cfg 3 differs from true_cfg 1, but CFG starts at step 1")
	}
	in.NumSteps = ptr(2)
	on := run(t, w, in)
	in.TrueCFG = ptr(1.0)
	if bytes.Equal(run(t, w, in).Images[0].Data, on.Images[0].Data) {
		t.Error("two steps: true_cfg 3 gave the image of true_cfg 1")
	}
	in.TrueCFG = ptr(3.0)
	in.NegativePrompt = ptr("something else entirely")
	if bytes.Equal(run(t, w, in).Images[0].Data, on.Images[0].Data) {
		t.Error("with true CFG, the negative prompt does not matter")
	}
}

func TestRunJPEG(t *testing.T) {
	w := getWorld(t)
	size := map[int]int{}
	for _, q := range []int{10, 95} {
		in := tinyInput(w.embA)
		in.NumSteps = ptr(1)
		in.OutputFormat, in.OutputQuality = ptr("jpeg"), ptr(q)
		res := run(t, w, in)
		img := res.Images[0]
		if img.Format != JPEG || !bytes.HasPrefix(img.Data, []byte{0xff, 0xd8, 0xff}) {
			t.Fatalf("quality %d: format %s, not a JPEG", q, img.Format)
		}
		if b := decodeRGB(t, img).Bounds(); b.Dx() != small || b.Dy() != small {
			t.Errorf("jpeg is %dx%d", b.Dx(), b.Dy())
		}
		size[q] = len(img.Data)
	}
	if size[10] >= size[95] {
		t.Errorf("quality 10 gave %d bytes, quality 95 %d: quality is not applied", size[10], size[95])
	}
}

// TestRunWebP checks that webp output (the hosted APIs' default) is
// lossless: it decodes to exactly the pixels of the png of the same run.
func TestRunWebP(t *testing.T) {
	w := getWorld(t)
	in := tinyInput(w.embA)
	in.NumSteps = ptr(1)
	png := run(t, w, in).Images[0]
	in.OutputFormat = ptr("webp")
	res := run(t, w, in)
	img := res.Images[0]
	if img.Format != WebP || !bytes.HasPrefix(img.Data, []byte("RIFF")) || string(img.Data[8:12]) != "WEBP" {
		t.Fatalf("format %s, not a WebP file", img.Format)
	}
	if got, want := decodeRGB(t, img), decodeRGB(t, png); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("webp pixels differ from the png of the same run")
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "lossless") }) {
		t.Errorf("notes %q do not say webp is written lossless", res.Notes)
	}
}

func TestRunRoundsSize(t *testing.T) {
	w := getWorld(t)
	in := tinyInput(w.embA)
	in.NumSteps = ptr(1)
	in.Width, in.Height = ptr(271), ptr(260)
	r, err := in.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	res := runReq(t, w, r)
	if b := decodeRGB(t, res.Images[0]).Bounds(); b.Dx() != 256 || b.Dy() != 256 || res.Width != 256 {
		t.Errorf("image %dx%d, want the rounded 256x256", b.Dx(), b.Dy())
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "width 271 rounded down to 256") }) {
		t.Errorf("notes %q do not report the rounding", res.Notes)
	}
}

func TestRunRejects(t *testing.T) {
	w := getWorld(t)
	cases := []struct {
		name  string
		in    func(*Input)
		field string
		msg   string
	}{
		{"missing embedding file", func(in *Input) { in.IDEmbedding = ptr(filepath.Join(w.dir, "nope.gguf")) }, "id_embedding", "nope.gguf"},
		{"embedding not gguf", func(in *Input) { in.IDEmbedding = ptr(w.paths.AE) }, "id_embedding", "GGUF"},
		{"embedding of the wrong width", func(in *Input) { in.IDEmbedding = ptr(w.embBadDim) }, "", "4 x 33 tokens"},
		{"photo URL", func(in *Input) { in.IDEmbedding = nil; in.MainFaceImage = ptr("https://example.com/me.jpg") }, "main_face_image", "is a URL"},
		{"face photo without face models", func(in *Input) { in.IDEmbedding = nil; in.MainFaceImage = ptr("me.jpg") }, "", "face models are not loaded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := tinyInput(w.embA)
			c.in(&in)
			_, err := Run(context.Background(), w.models, resolveSmall(t, in))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q lacks %q", err, c.msg)
			}
			var fe *FieldError
			if c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field) {
				t.Errorf("error %v does not name field %s", err, c.field)
			}
		})
	}
	// A cancelled job stops with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, _ := tinyInput(w.embA).Resolve()
	if _, err := Run(ctx, w.models, r); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	_, err := Find(dir, Paths{}, NeedGenerate|NeedFace)
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("empty dir: %v", err)
	}
	if len(me.Missing) != len(Components) {
		t.Errorf("%d missing, want all %d:\n%v", len(me.Missing), len(Components), err)
	}
	for _, c := range Components {
		if !strings.Contains(err.Error(), c.Name) || !strings.Contains(err.Error(), c.What) || !strings.Contains(err.Error(), "--"+c.Key) {
			t.Errorf("the report does not name %s (%s) and --%s", c.Name, c.What, c.Key)
		}
	}

	// Layouts: files at the top, in sub-folders, a sharded folder, overrides.
	touch := func(rel string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	touch("flux1-dev.safetensors")
	touch("vae/ae.safetensors")
	touch("pulid/pulid_flux_v0.9.0.safetensors")
	touch("text_encoder_2/model-00001-of-00002.safetensors")
	touch("tokenizer_2/spiece.model")
	touch("clip_l.safetensors")
	touch("tokenizer/vocab.json")
	touch("antelopev2/scrfd_10g_bnkps.onnx")
	touch("facexlib/weights/detection_Resnet50_Final.pth")
	touch("parsing_bisenet.pth")
	own := touch("elsewhere/my_eva.pt")
	p, err := Find(dir, Paths{EVA: own}, NeedGenerate|NeedFace)
	if !errors.As(err, &me) || len(me.Missing) != 1 || !strings.Contains(me.Missing[0], "glintr100.onnx") {
		t.Fatalf("want only glintr100.onnx missing, got %v", err)
	}
	touch("antelopev2/glintr100.onnx")
	if p, err = Find(dir, Paths{EVA: own}, NeedGenerate|NeedFace); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"flux": "flux1-dev.safetensors", "ae": "vae/ae.safetensors", "pulid": "pulid/pulid_flux_v0.9.0.safetensors",
		"t5": "text_encoder_2", "t5-tokenizer": "tokenizer_2/spiece.model", "clip": "clip_l.safetensors",
		"clip-tokenizer": "tokenizer", "scrfd": "antelopev2/scrfd_10g_bnkps.onnx", "arcface": "antelopev2/glintr100.onnx",
		"retinaface": "facexlib/weights/detection_Resnet50_Final.pth", "bisenet": "parsing_bisenet.pth", "eva": "elsewhere/my_eva.pt",
	} {
		if got := p.Get(key); got != filepath.Join(dir, want) {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}

	// Only what the job needs is required; a bad override is reported.
	if _, err := Find(t.TempDir(), Paths{}, NeedFace); !errors.As(err, &me) || len(me.Missing) != 6 {
		t.Errorf("face only: %v", err)
	}
	_, err = Find(dir, Paths{Flux: filepath.Join(dir, "typo.safetensors"), CLIPTokenizer: filepath.Join(dir, "clip_l.safetensors")}, NeedGenerate)
	if !errors.As(err, &me) || len(me.Missing) != 2 || !strings.Contains(err.Error(), "typo.safetensors: no such file") ||
		!strings.Contains(err.Error(), "not a folder") {
		t.Errorf("bad overrides: %v", err)
	}
}

// TestLoadBadFiles checks that a truncated or wrong model file is an error
// naming the file, and that what was already opened is released (no panic
// in the clean-up of a half-loaded set).
func TestLoadBadFiles(t *testing.T) {
	w := getWorld(t)
	truncated := filepath.Join(t.TempDir(), "flux1-dev.safetensors")
	data, err := os.ReadFile(w.paths.Flux)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, data[:1000], 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*Paths)
		want string
	}{
		{"truncated flux", func(p *Paths) { p.Flux = truncated }, truncated},
		{"ae given as flux", func(p *Paths) { p.Flux = w.paths.AE }, "flux " + w.paths.AE},
		{"flux given as ae", func(p *Paths) { p.AE = w.paths.Flux }, "ae " + w.paths.Flux},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := w.paths
			c.edit(&p)
			m, err := Load(cpu.New(), p, LoadOptions{Need: NeedGenerate})
			if err == nil || m != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load = %v, %v; want an error naming %q", m, err, c.want)
			}
		})
	}
}
