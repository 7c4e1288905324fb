package convbn

import (
	"math"
	"testing"
)

// TestFold checks bn(conv(x)) = conv'(x) on one hand-computed channel:
// γ=2, β=1, μ=3, σ²=3 (so s = 2/√(3+ε) ≈ 1.1547), conv bias 0.5.
func TestFold(t *testing.T) {
	w := []float32{1, -2, 0.5, 4}
	fw, fb := Fold(w, []float32{0.5, 0}, []float32{2, 1}, []float32{1, 0}, []float32{3, 0}, []float32{3, 1 - Eps}, Eps)
	s := 2 / math.Sqrt(3+Eps)
	want := []float32{float32(1 * s), float32(-2 * s), 0.5, 4} // second channel: s = 1
	for i := range want {
		if math.Abs(float64(fw[i]-want[i])) > 1e-6 {
			t.Errorf("w[%d] = %v, want %v", i, fw[i], want[i])
		}
	}
	if b := float32(1 - 3*s + 0.5*s); math.Abs(float64(fb[0]-b)) > 1e-6 || fb[1] != 0 {
		t.Errorf("bias %v, want [%v 0]", fb, b)
	}
}
