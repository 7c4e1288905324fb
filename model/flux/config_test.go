package flux_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/weights"
)

// tiny is the configuration of the golden flux/ weights (MANIFEST).
var tiny = flux.Config{InChannels: 64, VecInDim: 32, ContextInDim: 48, HiddenSize: 256, MLPRatio: 4,
	NumHeads: 2, Depth: 3, DepthSingleBlocks: 5, AxesDim: []int{16, 56, 56}, Theta: 10000,
	QKVBias: true, GuidanceEmbed: true}

// TestCheckpointShapes builds the real configurations' shape lists (no
// tensors allocated) and compares them with the real checkpoints' manifests.
func TestCheckpointShapes(t *testing.T) {
	for _, tc := range []struct{ manifest, config string }{
		{"flux1-dev", "flux-dev"},
		{"flux1-schnell", "flux-schnell"},
		{"flux1-dev", "flux-krea-dev"}, // Krea-dev ships FLUX.1-dev's layout
	} {
		t.Run(tc.config, func(t *testing.T) {
			src := testenv.Manifest(t, tc.manifest)
			want, err := flux.Shapes(flux.Configs[tc.config])
			if err != nil {
				t.Fatal(err)
			}
			if err := weights.Check(src, want, nil); err != nil {
				t.Fatalf("%s vs %s.json: %v", tc.config, tc.manifest, err)
			}
			if len(want) != len(src) {
				t.Fatalf("%d tensors, manifest has %d", len(want), len(src))
			}
			got, err := flux.ConfigFromWeights(src)
			if err != nil {
				t.Fatal(err)
			}
			if d := flux.Configs[tc.config].Diff(got); len(d) > 0 {
				t.Errorf("config read from %s.json differs: %v", tc.manifest, d)
			}
			if _, err := flux.ResolveConfig(tc.config, src); err != nil {
				t.Errorf("ResolveConfig: %v", err)
			}
		})
	}
}

// TestResolveConfigMismatch: a named configuration that does not fit the
// weights names the fields that differ.
func TestResolveConfigMismatch(t *testing.T) {
	dev := testenv.Manifest(t, "flux1-dev")
	schnell := testenv.Manifest(t, "flux1-schnell")
	for _, tc := range []struct {
		name string
		src  weights.Map
		cfg  string
		want string
	}{
		{"schnell config on dev weights", dev, "flux-schnell", "guidance_embed false != true"},
		{"dev config on schnell weights", schnell, "flux-dev", "guidance_embed true != false"},
		{"unknown name", dev, "flux-pro", "unknown configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flux.ResolveConfig(tc.cfg, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	// a truncated model (12 double blocks) is caught by its depth
	cut := weights.Map{}
	for n, v := range dev {
		if i := blockIndex(n, "double_blocks."); i < 12 {
			cut[n] = v
		}
	}
	if _, err := flux.ResolveConfig("flux-dev", cut); err == nil || !strings.Contains(err.Error(), "depth 19 != 12") {
		t.Fatalf("truncated: err = %v", err)
	}
}

func blockIndex(name, prefix string) int {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return -1
	}
	i := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		i = i*10 + int(c-'0')
	}
	return i
}

// TestTinyShapes: the golden weights hold exactly the tiny configuration's tensors.
func TestTinyShapes(t *testing.T) {
	st, err := weights.Open(filepath.Join(testenv.Golden(t), "flux", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want, err := flux.Shapes(tiny)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Check(st, want, nil); err != nil {
		t.Fatal(err)
	}
	got, err := flux.ConfigFromWeights(st)
	if err != nil {
		t.Fatal(err)
	}
	if d := tiny.Diff(got); len(d) > 0 {
		t.Fatalf("config from weights: %v", d)
	}
}

// TestLoadReportsProblems: a checkpoint with a missing, a mis-shaped and an
// unexpected tensor fails to load with all three named.
func TestLoadReportsProblems(t *testing.T) {
	st, err := weights.Open(filepath.Join(testenv.Golden(t), "flux", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := testenv.Copy(t, st)
	delete(m, "double_blocks.1.img_attn.proj.bias")
	tx := m["txt_in.weight"]
	m["txt_in.weight"] = weights.Tensor{Info: weights.Info{DType: tx.DType, Shape: []int{256, 47}}, Data: tx.Data[:256*47*2]}
	m["single_blocks.5.linear1.bias"] = weights.Tensor{Info: weights.Info{DType: dtype.BF16, Shape: []int{1792}}, Data: make([]byte, 1792*2)}
	m["pulid_ca.0.norm1.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.BF16, Shape: []int{4}}, Data: make([]byte, 8)} // not FLUX's: ignored

	_, err = flux.Load(cpu.New(), m, tiny)
	if err == nil {
		t.Fatal("Load accepted a broken checkpoint")
	}
	for _, want := range []string{
		`missing tensor "double_blocks.1.img_attn.proj.bias"`,
		`tensor "txt_in.weight" has shape [256 47], want [256 48]`,
		`unexpected tensor "single_blocks.5.linear1.bias"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "pulid_ca") {
		t.Errorf("a PuLID tensor merged into the file was reported: %v", err)
	}

	// weights.Check over the shape list says the same
	want, _ := flux.Shapes(tiny)
	err = weights.Check(m, want, func(n string) bool { return strings.HasPrefix(n, "pulid_") })
	if err == nil || !strings.Contains(err.Error(), "3 problem(s)") {
		t.Errorf("Check: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*flux.Config)
		want string
	}{
		{"heads do not divide hidden", func(c *flux.Config) { c.NumHeads = 3 }, "not divisible"},
		{"axes do not sum to head dim", func(c *flux.Config) { c.AxesDim = []int{16, 56, 54} }, "sums to"},
		{"odd axis", func(c *flux.Config) { c.AxesDim = []int{15, 57, 56} }, "even"},
		{"zero hidden", func(c *flux.Config) { c.HiddenSize = 0 }, "hidden_size"},
		{"negative depth", func(c *flux.Config) { c.Depth = -1 }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tiny
			c.AxesDim = slices.Clone(tiny.AxesDim)
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	for name, c := range flux.Configs {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := flux.NumIDModules(flux.Configs["flux-dev"], 2, 4); n != 20 {
		t.Errorf("flux-dev has %d PuLID injection points, want 20", n)
	}
	if n := flux.NumIDModules(tiny, 2, 4); n != 4 {
		t.Errorf("tiny has %d PuLID injection points, want 4", n)
	}
}
