package flux

import (
	"math"
	"testing"
)

// TestTimestepEmbeddingHand checks values derivable by hand: t = 0 gives
// cos 0 = 1 then sin 0 = 0 (cos first), and frequency 0 is exp(0) = 1, so
// column 0 is cos(1000·t) and column half is sin(1000·t).
func TestTimestepEmbeddingHand(t *testing.T) {
	const dim = 8
	e := TimestepEmbedding([]float32{0, 0.25}, dim, 10000, 1000)
	for k := range dim {
		want := float32(0)
		if k < dim/2 {
			want = 1
		}
		if e[k] != want {
			t.Errorf("t=0 column %d = %v, want %v", k, e[k], want)
		}
	}
	row := e[dim:]
	if want := float32(math.Cos(250)); row[0] != want {
		t.Errorf("t=0.25 cos column 0 = %v, want cos(250) = %v", row[0], want)
	}
	if want := float32(math.Sin(250)); row[dim/2] != want {
		t.Errorf("t=0.25 sin column 0 = %v, want sin(250) = %v", row[dim/2], want)
	}
	// frequency k of 4 is 10000^(-k/4): 1, 0.1, 0.01, 0.001
	f := TimestepFreqs(4, 10000)
	for k, want := range []float64{1, 0.1, 0.01, 0.001} {
		if math.Abs(float64(f[k])-want) > 1e-7*want {
			t.Errorf("freq %d = %v, want %v", k, f[k], want)
		}
	}
	// odd dims get a zero column, as the reference pads
	if e := TimestepEmbedding([]float32{0.5}, 5, 10000, 1000); len(e) != 5 || e[4] != 0 {
		t.Errorf("odd dim: %v", e)
	}
}

// TestSleefExpf compares the emulated expf with a correctly rounded exp
// over a range: it must stay within 1 ulp (SLEEF's u10 bound).
func TestSleefExpf(t *testing.T) {
	for x := float32(-20); x < 20; x += 0.0137 {
		got := sleefExpf(x)
		want := float32(math.Exp(float64(x)))
		if d := math.Abs(float64(math.Float32bits(got)) - float64(math.Float32bits(want))); d > 1 {
			t.Fatalf("expf(%v) = %v, correctly rounded %v (%v ulp)", x, got, want, d)
		}
	}
}

// TestEmbedNDHand: for axes (2, 4) with theta 100, token (3, 5) has angles
// 3·1 (axis 0), then 5·1 and 5·100^(−1/2) = 0.5 (axis 1).
func TestEmbedNDHand(t *testing.T) {
	cos, sin, err := EmbedND([]float32{0, 0, 3, 5}, []int{2, 4}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cos) != 6 {
		t.Fatalf("%d entries, want 2 tokens × 3", len(cos))
	}
	for j := range 3 {
		if cos[j] != 1 || sin[j] != 0 {
			t.Errorf("position 0 entry %d: cos %v sin %v", j, cos[j], sin[j])
		}
	}
	for j, a := range []float64{3, 5, 0.5} {
		if cos[3+j] != float32(math.Cos(a)) || sin[3+j] != float32(math.Sin(a)) {
			t.Errorf("entry %d: cos %v sin %v, want angle %v", j, cos[3+j], sin[3+j], a)
		}
	}
	if _, _, err := EmbedND([]float32{1, 2, 3}, []int{2, 4}, 100); err == nil {
		t.Error("3 values for 2 axes accepted")
	}
	if _, _, err := EmbedND([]float32{1, 2}, []int{3, 4}, 100); err == nil {
		t.Error("odd axis width accepted")
	}
}
