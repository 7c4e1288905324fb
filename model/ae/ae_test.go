package ae

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestRealCheckpointShapes: the real configuration builds exactly the
// tensor names and shapes of ae.safetensors as listed in
// checkpoints/ae.json (from the reference module at real size).
func TestRealCheckpointShapes(t *testing.T) {
	b, err := os.ReadFile(testenv.Shared(t, "checkpoints", "ae.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Config  Config           `json:"config"`
		Tensors map[string][]int `json:"tensors"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	want := manifest.Tensors
	if len(want) != 244 {
		t.Fatalf("manifest lists %d tensors, expected 244", len(want))
	}
	cfg := FluxConfig()
	if manifest.Config.String() != cfg.String() || manifest.Config.ScaleFactor != cfg.ScaleFactor || manifest.Config.ShiftFactor != cfg.ShiftFactor {
		t.Errorf("manifest config %s (scale %v shift %v), FluxConfig %s", manifest.Config, manifest.Config.ScaleFactor, manifest.Config.ShiftFactor, cfg)
	}
	got := cfg.Shapes()
	for name, shape := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("FluxConfig lacks %q", name)
		} else if !slices.Equal(g, shape) {
			t.Errorf("%q: shape %v, manifest %v", name, g, shape)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("FluxConfig has %q, the manifest does not", name)
		}
	}
	var params int
	for _, s := range got {
		n := 1
		for _, d := range s {
			n *= d
		}
		params += n
	}
	if params != 83819683 {
		t.Errorf("%d parameters, want 83819683", params)
	}

	// A source with the manifest's shapes infers the real configuration.
	src := weights.Map{}
	for name, shape := range want {
		src[name] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: shape}}
	}
	inferred, err := InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	if inferred.String() != cfg.String() || inferred.ScaleFactor != FluxScaleFactor || inferred.ShiftFactor != FluxShiftFactor {
		t.Errorf("inferred %s, want %s", inferred, cfg)
	}
	if cfg.Factor() != 8 {
		t.Errorf("factor %d, want 8", cfg.Factor())
	}
}

func TestInferGoldenConfig(t *testing.T) {
	st, err := weights.OpenFiles(testenv.Golden(t, "ae", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := InferConfig(st)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{InChannels: 3, Ch: 32, OutCh: 3, ChMult: []int{1, 1, 2, 2}, NumResBlocks: 1, ZChannels: 16}
	if c.String() != want.String() {
		t.Errorf("inferred %s, want %s", c, want)
	}
	if _, err := Load(cpu.New(), st, c); err != nil {
		t.Fatal(err)
	}
}

// TestMismatchedCheckpoint: loading a file whose names or shapes do not
// match names every missing, unexpected and mis-shaped tensor.
func TestMismatchedCheckpoint(t *testing.T) {
	cfg := Config{InChannels: 3, Ch: 32, OutCh: 3, ChMult: []int{1, 2}, NumResBlocks: 1, ZChannels: 4, ScaleFactor: 1}
	good := weights.Map{}
	for name, shape := range cfg.Shapes() {
		good[name] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: shape}, Data: make([]byte, 4*numel(shape))}
	}
	if _, err := Load(cpu.New(), good, cfg); err != nil {
		t.Fatalf("complete checkpoint: %v", err)
	}

	bad := weights.Map{}
	for k, v := range good {
		bad[k] = v
	}
	delete(bad, "decoder.mid.attn_1.q.weight")
	bad["decoder.extra.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: []int{1}}, Data: make([]byte, 4)}
	bad["encoder.conv_in.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: []int{32, 4, 3, 3}}, Data: make([]byte, 4*32*4*9)}
	_, err := Load(cpu.New(), bad, cfg)
	if err == nil {
		t.Fatal("mismatched checkpoint loaded")
	}
	for _, want := range []string{
		`missing tensor "decoder.mid.attn_1.q.weight"`,
		`unexpected tensor "decoder.extra.weight"`,
		`tensor "encoder.conv_in.weight" has shape [32 4 3 3], want [32 3 3 3]`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if _, err := InferConfig(bad); err == nil {
		t.Error("InferConfig accepted the mismatched checkpoint")
	}
	if _, err := InferConfig(weights.Map{}); err == nil {
		t.Error("InferConfig accepted an empty source")
	}
}

func TestConfigValidate(t *testing.T) {
	base := FluxConfig()
	for name, mutate := range map[string]func(*Config){
		"no levels":         func(c *Config) { c.ChMult = nil },
		"zero res blocks":   func(c *Config) { c.NumResBlocks = 0 },
		"groups":            func(c *Config) { c.Ch = 48 },
		"zero z":            func(c *Config) { c.ZChannels = 0 },
		"zero scale":        func(c *Config) { c.ScaleFactor = 0 },
		"non-positive mult": func(c *Config) { c.ChMult = []int{1, 0} },
	} {
		c := base
		c.ChMult = slices.Clone(base.ChMult)
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted %s", name, c)
		}
	}
	if err := base.Validate(); err != nil {
		t.Errorf("FluxConfig: %v", err)
	}
}

func TestDecodeRejectsBadLatent(t *testing.T) {
	st, err := weights.OpenFiles(testenv.Golden(t, "ae", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := cpu.New()
	m, err := LoadInferred(b, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decode(b.Zeros([]int{1, 8, 4, 4}), nil); err == nil {
		t.Error("latent with 8 channels decoded")
	}
	if _, err := m.EncodeMean(b.Zeros([]int{1, 3, 60, 64})); err == nil {
		t.Error("image of height 60 (not a multiple of 8) encoded")
	}
	// A well-formed latent decodes to the image size factor 8 implies.
	img, err := m.Decode(b.Zeros([]int{1, 16, 2, 3}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(img.Shape(), []int{1, 3, 16, 24}) {
		t.Errorf("image shape %v", img.Shape())
	}
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// BenchmarkDecodeTiny decodes a 32x32 latent (256x256 px) with the tiny
// golden AE.
func BenchmarkDecodeTiny(bm *testing.B) {
	st, err := weights.OpenFiles(testenv.Golden(bm, "ae", "weights.safetensors"))
	if err != nil {
		bm.Fatal(err)
	}
	defer st.Close()
	b := cpu.New()
	m, err := LoadInferred(b, st)
	if err != nil {
		bm.Fatal(err)
	}
	z := b.Zeros([]int{1, 16, 32, 32})
	for bm.Loop() {
		img, err := m.Decode(z, nil)
		if err != nil {
			bm.Fatal(err)
		}
		if _, err := b.ReadF32(img); err != nil {
			bm.Fatal(err)
		}
	}
}
