package pulid_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/weights"
)

// tiny is the configuration of the golden pulid/ weights (MANIFEST).
var tiny = pulid.Config{
	Encoder: pulid.IDFormerConfig{Dim: 64, Depth: 5, DimHead: 16, Heads: 4, NumIDToken: 5, NumQueries: 32, OutputDim: 128},
	CA:      pulid.CAConfig{Dim: 256, DimHead: 64, Heads: 2, KVDim: 128},
	NumCA:   4,
}

// TestCheckpointShapes: the real configuration lists exactly the tensors
// of pulid_flux_v0.9.1.safetensors, and the configuration read back from
// them is the real one.
func TestCheckpointShapes(t *testing.T) {
	src := testenv.Manifest(t, "pulid_flux_v0.9.1")
	want, err := pulid.Shapes(pulid.Real)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Check(src, want, nil); err != nil {
		t.Fatal(err)
	}
	if len(want) != 312 {
		t.Errorf("%d tensors, want 312", len(want))
	}
	got, err := pulid.ConfigFromWeights(src)
	if err != nil {
		t.Fatal(err)
	}
	if got != pulid.Real {
		t.Errorf("config from weights %+v, want %+v", got, pulid.Real)
	}
}

func TestTinyShapes(t *testing.T) {
	st, err := weights.Open(filepath.Join(testenv.Golden(t), "pulid", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want, err := pulid.Shapes(tiny)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Check(st, want, nil); err != nil {
		t.Fatal(err)
	}
}

// TestLoadReportsProblems: missing, mis-shaped and unexpected tensors are all named.
func TestLoadReportsProblems(t *testing.T) {
	st, err := weights.Open(filepath.Join(testenv.Golden(t), "pulid", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := testenv.Copy(t, st)
	delete(m, "pulid_encoder.layers.3.0.to_kv.weight")
	n := m["pulid_ca.2.norm1.weight"]
	m["pulid_ca.2.norm1.weight"] = weights.Tensor{Info: weights.Info{DType: n.DType, Shape: []int{64}}, Data: n.Data[:128]}
	m["pulid_ca.4.to_q.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.BF16, Shape: []int{1}}, Data: make([]byte, 2)}
	_, err = pulid.Load(cpu.New(), m, tiny)
	if err == nil {
		t.Fatal("Load accepted a broken checkpoint")
	}
	for _, want := range []string{
		`missing tensor "pulid_encoder.layers.3.0.to_kv.weight"`,
		`tensor "pulid_ca.2.norm1.weight" has shape [64], want [128]`,
		`unexpected tensor "pulid_ca.4.to_q.weight"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s:\n%v", want, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*pulid.Config)
		want string
	}{
		{"depth not a multiple of 5", func(c *pulid.Config) { c.Encoder.Depth = 7 }, "multiple of 5"},
		{"zero heads", func(c *pulid.Config) { c.Encoder.Heads = 0 }, "positive"},
		{"zero CA width", func(c *pulid.Config) { c.CA.KVDim = 0 }, "pulid_ca"},
		{"negative CA count", func(c *pulid.Config) { c.NumCA = -1 }, "CA modules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tiny
			tc.edit(&c)
			if _, err := pulid.Shapes(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestUncond: Uncond (IDFormer on zero inputs) reproduces the golden uncond
// id embedding, and bad inputs are errors.
func TestUncond(t *testing.T) {
	dir := testenv.Golden(t)
	st, err := weights.Open(filepath.Join(dir, "pulid", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := cpu.New()
	f, err := pulid.LoadIDFormer(b, st, tiny.Encoder)
	if err != nil {
		t.Fatal(err)
	}
	c, err := safetensors.Open(filepath.Join(dir, "pulid", "case_idformer_uncond.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want, shape, err := c.F32("out.id_embedding")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.Info("in.vit_hidden_0")
	out, err := f.Uncond(b, 1, info.Shape[1])
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadF32(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || out.Shape()[1] != shape[1] || out.Shape()[2] != shape[2] {
		t.Fatalf("shape %v, want %v", out.Shape(), shape)
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 5e-5+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("id_embedding[%d] = %v, want %v", i, got[i], want[i])
		}
	}

	if _, err := f.Forward(b, b.Zeros([]int{1, 1279}), nil, nil); err == nil || !strings.Contains(err.Error(), "id_cond") {
		t.Errorf("bad id_cond: err = %v", err)
	}
}
