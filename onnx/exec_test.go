package onnx

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// goldenCase opens a case file and returns it with its per-tensor
// tolerances (FORMAT.md: `tolerances` overrides the case atol/rtol).
func goldenCase(t *testing.T, path string) (*safetensors.File, func(name string) (float64, float64)) {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	atol, _ := strconv.ParseFloat(f.Metadata["atol"], 64)
	rtol, _ := strconv.ParseFloat(f.Metadata["rtol"], 64)
	var per map[string]struct{ Atol, Rtol *float64 }
	json.Unmarshal([]byte(f.Metadata["tolerances"]), &per)
	return f, func(name string) (float64, float64) {
		a, r := atol, rtol
		p, ok := per[name]
		if !ok {
			p, ok = per[strings.TrimPrefix(name, "out.")]
		}
		if ok {
			if p.Atol != nil {
				a = *p.Atol
			}
			if p.Rtol != nil {
				r = *p.Rtol
			}
		}
		return a, r
	}
}

// expectClose fails unless |got - want| <= atol + rtol·|want| everywhere.
func expectClose(t *testing.T, name string, b backend.Backend, got backend.Tensor, f *safetensors.File, key string, tol func(string) (float64, float64)) {
	t.Helper()
	want, shape, err := f.F32(key)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(got.Shape(), shape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), shape)
		return
	}
	g, err := b.ReadF32(got)
	if err != nil {
		t.Fatal(err)
	}
	atol, rtol := tol(key)
	bad, worst := 0, 0.0
	for i := range want {
		d := math.Abs(float64(g[i]) - float64(want[i]))
		worst = max(worst, d)
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d/%d elements outside atol %g rtol %g (max abs err %.3g)", name, bad, len(want), atol, rtol, worst)
	} else {
		t.Logf("%s: max abs err %.3g (atol %g)", name, worst, atol)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRunArcface runs the exported iresnet on the golden faces: the graph
// output must match onnxruntime's, and the residual stream after each
// stage (the Add ending its last block) the torch forward hooks.
func TestRunArcface(t *testing.T) {
	dir := testenv.Golden(t, "arcface")
	m, err := ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	b := cpu.New()
	p, err := Load(m, b)
	if err != nil {
		t.Fatal(err)
	}
	c, tol := goldenCase(t, filepath.Join(dir, "case_forward.safetensors"))
	blob, shape, _ := c.F32("in.blob")
	stages := map[string]string{}
	for _, n := range m.Graph.Nodes {
		// "/layer3/layer3.1/Add": the last block's Add of each stage wins
		if n.OpType == "Add" && strings.HasPrefix(n.Name, "/layer") {
			stages["out."+strings.Split(n.Name, "/")[1]+"_out"] = n.Outputs[0]
		}
	}
	if len(stages) != 4 {
		t.Fatalf("found stage outputs %v", stages)
	}
	extra := []string{}
	for _, v := range stages {
		extra = append(extra, v)
	}
	out, err := p.Run(map[string]backend.Tensor{"data": b.FromF32(shape, blob)}, extra...)
	if err != nil {
		t.Fatal(err)
	}
	expectClose(t, "embedding", b, out[p.Outputs()[0]], c, "out.ort_embedding", tol)
	for key, v := range stages {
		expectClose(t, key, b, out[v], c, key, tol)
	}
}

// TestRunScrfd runs the SCRFD-shaped graph (dynamic H, W; shape
// arithmetic feeding Resize) at both golden sizes.
func TestRunScrfd(t *testing.T) {
	dir := testenv.Golden(t, "scrfd")
	m, err := ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	b := cpu.New()
	p, err := Load(m, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"case_forward_160x160", "case_forward"} {
		t.Run(name, func(t *testing.T) {
			c, tol := goldenCase(t, filepath.Join(dir, name+".safetensors"))
			blob, shape, _ := c.F32("in.blob")
			out, err := p.Run(map[string]backend.Tensor{"input.1": b.FromF32(shape, blob)})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Outputs() {
				expectClose(t, o, b, out[o], c, "out."+o, tol)
			}
		})
	}
}

// BenchmarkRunArcface times the executor on the golden iresnet18/8 graph
// (batch 2, 112×112), host overhead included.
func BenchmarkRunArcface(bm *testing.B) {
	dir := testenv.Golden(bm, "arcface")
	m, err := ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		bm.Fatal(err)
	}
	b := cpu.New()
	p, err := Load(m, b)
	if err != nil {
		bm.Fatal(err)
	}
	x := b.FromF32([]int{2, 3, 112, 112}, make([]float32, 2*3*112*112))
	for bm.Loop() {
		out, err := p.Run(map[string]backend.Tensor{"data": x})
		if err != nil {
			bm.Fatal(err)
		}
		b.ReadF32(out[p.Outputs()[0]])
	}
}
