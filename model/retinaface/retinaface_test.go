package retinaface_test

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
	"github.com/fluxpulid/fluxpulid/model/retinaface"
	"github.com/fluxpulid/fluxpulid/weights"
)

// checkpointShapes reads a shared/checkpoints manifest's tensor list.
func checkpointShapes(t *testing.T, name string) map[string][]int {
	t.Helper()
	b, err := os.ReadFile(testenv.Shared(t, "checkpoints", name))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Tensors map[string][]int `json:"tensors"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Tensors
}

// TestRealCheckpointShapes checks the R50 configuration's state dict
// against the key list of the released detection_Resnet50_Final.pth
// (which carries DataParallel's `module.` prefix).
func TestRealCheckpointShapes(t *testing.T) {
	want := checkpointShapes(t, "retinaface_resnet50.json")
	got := retinaface.R50.Shapes()
	if len(got) != len(want) {
		t.Errorf("R50 has %d tensors, real file %d", len(got), len(want))
	}
	for name, shape := range want {
		key, ok := strings.CutPrefix(name, "module.")
		if !ok {
			t.Fatalf("real key %q has no module. prefix", name)
		}
		if g, ok := got[key]; !ok || !slices.Equal(g, shape) {
			t.Errorf("%s: got %v (present %v), want %v", key, g, ok, shape)
		}
	}
	// A source with exactly the real names and shapes yields the R50 config.
	src := weights.Map{}
	for name, shape := range want {
		src[name] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: shape}}
	}
	cfg, err := retinaface.ConfigFrom(retinaface.StripModule(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg != retinaface.R50 {
		t.Errorf("config from the real shapes = %+v, want %+v", cfg, retinaface.R50)
	}
}

// TestGoldenConfig reads the shrunken golden net's config from its weights
// (the widths its MANIFEST states) and checks its key set.
func TestGoldenConfig(t *testing.T) {
	st := testenv.GoldenWeights(t, "retinaface")
	cfg, err := retinaface.ConfigFrom(st)
	if err != nil {
		t.Fatal(err)
	}
	want := retinaface.Config{Stem: 8, Blocks: [4]int{3, 4, 6, 3}, Mid: [4]int{8, 16, 32, 64}, Out: [4]int{32, 64, 128, 256}, FPN: 32, Anchors: 2}
	if cfg != want {
		t.Fatalf("config %+v, want %+v", cfg, want)
	}
	if err := weights.Check(st, cfg.Shapes(), nil); err != nil {
		t.Fatal(err)
	}
}

// TestModulePrefix loads the weights under DataParallel's `module.` names.
func TestModulePrefix(t *testing.T) {
	st := testenv.GoldenWeights(t, "retinaface")
	m := weights.Map{}
	for _, n := range st.Names() {
		info, _ := st.Info(n)
		data, _ := st.Bytes(n)
		m["module."+n] = weights.Tensor{Info: info, Data: data}
	}
	if _, err := retinaface.Load(cpu.New(), m); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	st := testenv.GoldenWeights(t, "retinaface")
	copyWithout := func(drop string, reshape map[string][]int) weights.Map {
		m := weights.Map{}
		for _, n := range st.Names() {
			if n == drop {
				continue
			}
			info, _ := st.Info(n)
			data, _ := st.Bytes(n)
			if s, ok := reshape[n]; ok {
				info.Shape = s
			}
			m[n] = weights.Tensor{Info: info, Data: data}
		}
		return m
	}
	cases := []struct {
		name string
		src  weights.Source
		want string
	}{
		{"empty", weights.Map{}, "body.conv1.weight"},
		{"missing bn", copyWithout("fpn.merge1.1.running_var", nil), `"fpn.merge1.1.running_var"`},
		{"wrong shape", copyWithout("", map[string][]int{"ssh2.conv3X3.0.weight": {16, 32, 1, 9}}), `"ssh2.conv3X3.0.weight" has shape`},
		{"extra", func() weights.Map {
			m := copyWithout("", nil)
			m["body.fc.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: []int{1}}, Data: make([]byte, 4)}
			return m
		}(), "body.fc.weight"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := retinaface.Load(cpu.New(), tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestDetectMatchesGolden runs Detect end to end on the golden photo.
func TestDetectMatchesGolden(t *testing.T) {
	st := testenv.GoldenWeights(t, "retinaface")
	c, err := conformance.Open(testenv.Golden(t, "retinaface", "case_net_hinton.safetensors"), testenv.Golden(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	img, _ := c.Bytes("in.image_bgr")
	info, _ := c.Info("in.image_bgr")
	want, _, err := c.F32("out.detections")
	if err != nil {
		t.Fatal(err)
	}
	m, err := retinaface.Load(cpu.New(), st)
	if err != nil {
		t.Fatal(err)
	}
	faces, err := m.Detect(img, info.Shape[0], info.Shape[1], retinaface.PuLIDConfThreshold, retinaface.NMSThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces)*15 != len(want) {
		t.Fatalf("%d faces, want %d", len(faces), len(want)/15)
	}
	for i, f := range faces {
		r := f.Row()
		for j := range r {
			if d := r[j] - want[15*i+j]; d > 0.1 || d < -0.1 {
				t.Fatalf("face %d value %d: %v, want %v", i, j, r[j], want[15*i+j])
			}
		}
	}
	if _, err := m.Detect(img[:10], info.Shape[0], info.Shape[1], 0.97, 0.4); err == nil {
		t.Error("a truncated image was accepted")
	}
}

func TestPriors(t *testing.T) {
	// 32×48 image: level grids 4×6, 2×3, 1×2 with 2 anchors each.
	p := retinaface.Priors(32, 48)
	if n := retinaface.NumPriors(32, 48); len(p) != 4*n || n != 2*(24+6+2) {
		t.Fatalf("%d prior values for %d priors", len(p), n)
	}
	// First prior: cell (0,0) of stride 8, min size 16.
	want := []float32{4.0 / 48, 4.0 / 32, 16.0 / 48, 16.0 / 32}
	if !slices.Equal(p[:4], want) {
		t.Errorf("first prior %v, want %v", p[:4], want)
	}
	// Second anchor of cell (1, 2) of stride 8: index (1·6+2)·2+1.
	i := 4 * ((1*6+2)*2 + 1)
	want = []float32{20.0 / 48, 12.0 / 32, 32.0 / 48, 32.0 / 32}
	if !slices.Equal(p[i:i+4], want) {
		t.Errorf("prior %v, want %v", p[i:i+4], want)
	}
}

func TestNMS(t *testing.T) {
	f := func(x1, y1, x2, y2, s float32) retinaface.Face {
		return retinaface.Face{Box: [4]float32{x1, y1, x2, y2}, Score: s}
	}
	// IoU of a 10×10 box with one shifted by 4: 60/140 = 0.43 > 0.4 → dropped;
	// shifted by 5: 50/150 = 0.33 → kept.
	got := retinaface.NMS([]retinaface.Face{f(0, 0, 10, 10, .99), f(4, 0, 14, 10, .98), f(0, 5, 10, 15, .975)}, 0.4)
	if len(got) != 2 || got[0].Score != .99 || got[1].Score != .975 {
		t.Fatalf("kept %+v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := retinaface.Decode(make([]float32, 4), make([]float32, 2), make([]float32, 9), make([]float32, 4), 8, 8, .5, .4); err == nil {
		t.Error("mismatched landmark length accepted")
	}
}
