package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/ops/ref"
)

// TestBinary checks the specialised loops against ref.Binary bit for bit
// on each broadcasting path, NaN operands of Max and Min included.
func TestBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	for _, s := range [][2][]int{
		{{3, 1000}, {3, 1000}}, {{2, 5, 7}, {7}}, {{2, 5, 7}, {1, 1, 7}}, {{4, 3}, {4, 1}}, {{2, 1, 3}, {1, 4, 1}},
	} {
		out, _ := backend.Broadcast(s[0], s[1])
		a := randF32(rng, backend.NumElements(s[0]))
		b := randF32(rng, backend.NumElements(s[1]))
		a[0], b[len(b)-1] = float32(math.NaN()), float32(math.NaN())
		for op := backend.Add; op <= backend.Min; op++ {
			want := make([]float32, backend.NumElements(out))
			got := make([]float32, len(want))
			ref.Binary(op, want, out, a, s[0], b, s[1])
			Binary(op, got, out, a, s[0], b, s[1])
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v %v: [%d] = %v, want %v", op, s, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkBinary measures FLUX's modulation multiply (a per-channel
// vector over 4224 tokens × 3072) in GB/s of operands and result.
func BenchmarkBinary(b *testing.B) {
	rng := rand.New(rand.NewPCG(16, 16))
	x, m := randF32(rng, 4224*3072), randF32(rng, 3072)
	out := make([]float32, len(x))
	shape := []int{1, 4224, 3072}
	for b.Loop() {
		Binary(backend.Mul, out, shape, x, shape, m, []int{1, 1, 3072})
	}
	b.ReportMetric(8*float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
