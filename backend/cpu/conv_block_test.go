package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// TestConvBlocks checks against the reference a convolution large enough
// that its output positions span several of the GEMM's column blocks
// (3072 positions each, packed from the image by ops.Conv2D's implicit
// im2col) and both workers.
func TestConvBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	c, o, h, w := 64, 8, 100, 90 // kk = 576 taps, 9000 positions
	opt := backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}
	fast, slow := New(), NewReference()
	xs, ws, bs := fill(c*h*w), fill(o*c*9), fill(o)
	run := func(b *Backend) []float32 {
		x := b.FromF32([]int{1, c, h, w}, xs)
		wt := b.Cast(b.FromF32([]int{o, c, 3, 3}, ws), dtype.BF16)
		y, _ := b.ReadF32(b.Conv2D(x, wt, b.FromF32([]int{o}, bs), opt))
		return y
	}
	got, want := run(fast), run(slow)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-3*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("element %d: got %g want %g", i, got[i], want[i])
		}
	}
}
