package arcface_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/conformance"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/arcface"
	"github.com/fluxpulid/fluxpulid/onnx"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestRealCheckpointShapes checks iresnet100's state dict, as the loader
// reads it, against the real parameter list (shared/checkpoints).
func TestRealCheckpointShapes(t *testing.T) {
	b, err := os.ReadFile(testenv.Shared(t, "checkpoints", "iresnet100.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Config struct {
			Layers      []int `json:"layers"`
			NumFeatures int   `json:"num_features"`
		} `json:"config"`
		Tensors map[string][]int `json:"tensors"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	got := arcface.R100.Shapes()
	if len(got) != len(m.Tensors) {
		t.Errorf("R100 has %d tensors, the real parameter set %d", len(got), len(m.Tensors))
	}
	for name, shape := range m.Tensors {
		if g, ok := got[name]; !ok {
			t.Errorf("R100 lacks %q", name)
		} else if !reflect.DeepEqual(g, shape) {
			t.Errorf("%q: R100 %v, real %v", name, g, shape)
		}
	}
	if !reflect.DeepEqual(m.Config.Layers, arcface.R100.Blocks[:]) || m.Config.NumFeatures != arcface.R100.Features {
		t.Errorf("R100 %+v vs real config %+v", arcface.R100, m.Config)
	}
	// ConfigFrom reads R100 back from the real shapes.
	src := weights.Map{}
	for name, shape := range m.Tensors {
		src[name] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: shape}}
	}
	if cfg, err := arcface.ConfigFrom(src); err != nil || cfg != arcface.R100 {
		t.Errorf("ConfigFrom(real shapes) = %+v, %v; want %+v", cfg, err, arcface.R100)
	}
}

// TestGoldenConfig: the golden net is an iresnet18 with widths / 8.
func TestGoldenConfig(t *testing.T) {
	st := testenv.GoldenWeights(t, "arcface")
	cfg, err := arcface.ConfigFrom(st)
	if err != nil {
		t.Fatal(err)
	}
	want := arcface.Config{Stem: 8, Blocks: [4]int{2, 2, 2, 2}, Widths: [4]int{8, 16, 32, 64}, FCIn: 64 * 49, Features: 64}
	if cfg != want {
		t.Errorf("config %+v, want %+v", cfg, want)
	}
	if got := want.Shapes(); len(got) != len(st.Names()) {
		t.Errorf("Shapes lists %d tensors, the golden file has %d", len(got), len(st.Names()))
	}
}

// TestStateDictMatchesONNX embeds the golden faces through both weight
// sources: the executor on the ONNX export and the net built from the
// state dict must agree within the golden tolerance of the embedding.
func TestStateDictMatchesONNX(t *testing.T) {
	st := testenv.GoldenWeights(t, "arcface")
	dir := testenv.Golden(t, "arcface")
	c, err := conformance.Open(filepath.Join(dir, "case_forward.safetensors"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := cpu.New()
	m, err := arcface.Load(b, st)
	if err != nil {
		t.Fatal(err)
	}
	g, err := arcface.OpenONNX(b, filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if g.InputMean != 127.5 || g.InputStd != 127.5 {
		t.Errorf("normalisation %g/%g, want 127.5/127.5 for an arcface_torch export", g.InputMean, g.InputStd)
	}
	blob, err := c.Tensor(b, "in.blob")
	if err != nil {
		t.Fatal(err)
	}
	e1, err := m.Embed(blob)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := g.Embed(blob)
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := b.ReadF32(e1)
	v2, _ := b.ReadF32(e2)
	atol, _ := c.Float("atol")
	for i := range v1 {
		if d := math.Abs(float64(v1[i] - v2[i])); d > atol {
			t.Fatalf("embedding[%d]: state dict %g, ONNX %g", i, v1[i], v2[i])
		}
	}
}

// TestLoadErrors: a wrong or incomplete checkpoint is refused with the
// problem named.
func TestLoadErrors(t *testing.T) {
	st := testenv.GoldenWeights(t, "arcface")
	full := weights.Map{}
	for _, n := range st.Names() {
		info, _ := st.Info(n)
		data, _ := st.Bytes(n)
		full[n] = weights.Tensor{Info: weights.Info{DType: info.DType, Shape: info.Shape}, Data: data}
	}
	without := func(name string) weights.Map {
		m := weights.Map{}
		for k, v := range full {
			if k != name {
				m[k] = v
			}
		}
		return m
	}
	with := func(name string, tt weights.Tensor) weights.Map {
		m := without("")
		m[name] = tt
		return m
	}
	b := cpu.New()
	for _, tt := range []struct {
		name string
		src  weights.Source
		want string
	}{
		{"not an iresnet", weights.Map{}, "no conv1.weight"},
		{"missing BatchNorm", without("layer2.1.bn1.running_var"), `missing tensor "layer2.1.bn1.running_var"`},
		{"missing PReLU", without("layer3.0.prelu.weight"), `missing tensor "layer3.0.prelu.weight"`},
		{"extra tensor", with("head.weight", full["fc.bias"]), `unexpected tensors, e.g. "head.weight"`},
		{"wrong shape", with("layer1.0.prelu.weight", full["fc.bias"]), `"layer1.0.prelu.weight" has shape [64], want [8]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := arcface.Load(b, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	m, err := arcface.Load(b, full)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(b.Zeros([]int{1, 3, 96, 96})); err == nil || !strings.Contains(err.Error(), "expects 112×112") {
		t.Errorf("96×96 input: %v", err)
	}
}

// TestONNXNormalisation: MXNet-converted models carry Sub/Mul nodes up
// front and take raw pixels (insightface ArcFaceONNX).
func TestONNXNormalisation(t *testing.T) {
	m, err := onnx.ReadFile(testenv.Golden(t, "arcface", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m.Graph.Nodes[0].Name = "_minus0"
	m.Graph.Nodes[1].Name = "_mul0"
	g, err := arcface.LoadONNX(cpu.New(), m)
	if err != nil {
		t.Fatal(err)
	}
	if g.InputMean != 0 || g.InputStd != 1 {
		t.Errorf("normalisation %g/%g, want 0/1", g.InputMean, g.InputStd)
	}
}
