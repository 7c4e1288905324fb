package sampling

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// goldenCases opens every case of the sampling golden directory whose
// metadata kind is kind (see internal/testenv for where the golden
// directory is found).
func goldenCases(t *testing.T, kind string) []*safetensors.File {
	t.Helper()
	dir := testenv.Golden(t, "sampling")
	paths, err := filepath.Glob(filepath.Join(dir, "case_*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*safetensors.File
	for _, p := range paths {
		f, err := safetensors.Open(p)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		if f.Metadata["kind"] != kind {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatalf("no %s case in %s", kind, dir)
	}
	return out
}

// metaFloat reads a float metadata value (atol, rtol).
func metaFloat(t *testing.T, f *safetensors.File, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(f.Metadata[key], 64)
	if err != nil {
		t.Fatalf("%s: metadata %s: %v", f.Path, key, err)
	}
	return v
}

// params decodes the case's params JSON keeping numbers exact.
func params(t *testing.T, f *safetensors.File) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(f.Metadata["params"])))
	dec.UseNumber()
	var p map[string]any
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: params: %v", f.Path, err)
	}
	return p
}

func tensor(t *testing.T, f *safetensors.File, name string) ([]float32, []int) {
	t.Helper()
	v, shape, err := f.F32(name)
	if err != nil {
		t.Fatalf("%s: %v", f.Path, err)
	}
	return v, shape
}

// allClose checks |got - want| <= atol + rtol*|want| elementwise and reports
// the worst element.
func allClose(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	bad, worst, worstAt := 0, 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			bad++
			if worstAt < 0 || d > worst || math.IsNaN(d) {
				worst, worstAt = d, i
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance (atol %g rtol %g); worst at %d: got %v want %v",
			what, bad, len(got), atol, rtol, worstAt, got[worstAt], want[worstAt])
	}
}

func sameShape(a []int, b ...int) bool {
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
