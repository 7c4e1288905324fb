package bisenet_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/conformance"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestRealCheckpointShapes checks the real configuration's state dict
// against the key list of the released parsing_bisenet.pth.
func TestRealCheckpointShapes(t *testing.T) {
	b, err := os.ReadFile(testenv.Shared(t, "checkpoints", "bisenet_parsing.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Tensors map[string][]int `json:"tensors"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	got := bisenet.Real.Shapes()
	if len(got) != len(man.Tensors) {
		t.Errorf("Real has %d tensors, the file %d", len(got), len(man.Tensors))
	}
	src := weights.Map{}
	for name, shape := range man.Tensors {
		if g, ok := got[name]; !ok || !slices.Equal(g, shape) {
			t.Errorf("%s: got %v (present %v), want %v", name, g, ok, shape)
		}
		src[name] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: shape}}
	}
	cfg, err := bisenet.ConfigFrom(src)
	if err != nil || cfg != bisenet.Real {
		t.Errorf("config from the real shapes = %+v (%v), want %+v", cfg, err, bisenet.Real)
	}
}

func TestGoldenConfig(t *testing.T) {
	st := testenv.GoldenWeights(t, "bisenet")
	cfg, err := bisenet.ConfigFrom(st)
	if err != nil {
		t.Fatal(err)
	}
	// The MANIFEST's widths: everything ≥ 64 divided by 8.
	want := bisenet.Config{Stem: 8, Blocks: [4]int{2, 2, 2, 2}, Widths: [4]int{8, 16, 32, 64}, ARM: 16, FFM: 32, HeadMid: 32, AuxMid: 8, Classes: 19}
	if cfg != want {
		t.Fatalf("config %+v, want %+v", cfg, want)
	}
	if err := weights.Check(st, cfg.Shapes(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	st := testenv.GoldenWeights(t, "bisenet")
	edit := func(f func(m weights.Map)) weights.Map {
		m := weights.Map{}
		for _, n := range st.Names() {
			info, _ := st.Info(n)
			data, _ := st.Bytes(n)
			m[n] = weights.Tensor{Info: info, Data: data}
		}
		f(m)
		return m
	}
	cases := []struct {
		name string
		src  weights.Source
		want string
	}{
		{"empty", weights.Map{}, "cp.resnet.conv1.weight"},
		{"missing aux", edit(func(m weights.Map) { delete(m, "conv_out32.conv_out.weight") }), `"conv_out32.conv_out.weight"`},
		{"truncated data", edit(func(m weights.Map) {
			e := m["ffm.conv1.weight"]
			e.Data = e.Data[:4]
			m["ffm.conv1.weight"] = e
		}), `"ffm.conv1.weight" holds 4 bytes`},
		{"integer weight", edit(func(m weights.Map) {
			e := m["cp.arm16.bn_atten.running_var"]
			e.DType = dtype.I32
			m["cp.arm16.bn_atten.running_var"] = e
		}), `"cp.arm16.bn_atten.running_var" is`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bisenet.Load(cpu.New(), tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestArgMax(t *testing.T) {
	// 3 classes × 2 pixels, class-major: pixel 0 → class 2 by 0.5; pixel 1
	// ties classes 0 and 1 → the first, margin 0.
	logits := []float32{
		1, 4,
		2, 4,
		2.5, 3,
	}
	labels, margin, err := bisenet.ArgMax(logits, 3, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(labels, []uint8{2, 0}) || !slices.Equal(margin, []float32{0.5, 0}) {
		t.Errorf("labels %v margin %v", labels, margin)
	}
	if _, _, err := bisenet.ArgMax(logits, 3, 2, 2); err == nil {
		t.Error("wrong size accepted")
	}
}

func TestParseGolden(t *testing.T) {
	st := testenv.GoldenWeights(t, "bisenet")
	c, err := conformance.Open(testenv.Golden(t, "bisenet", "case_forward_lecun.safetensors"), testenv.Golden(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := cpu.New()
	x, err := c.Tensor(b, "in.x")
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := c.I64("out.labels")
	margin, _, _ := c.F32("out.label_margin")
	m, err := bisenet.Load(b, st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Parse(x)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := range want {
		if margin[i] >= 4e-4 && int64(got[i]) != want[i] {
			bad++
		}
	}
	if bad > 0 || len(got) != len(want) {
		t.Errorf("%d of %d labels differ", bad, len(want))
	}
	if _, err := m.Forward(b.Zeros([]int{1, 4, 8, 8})); err == nil {
		t.Error("4-channel input accepted")
	}
}
