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

// TestPermute checks Permute against ref.Permute on permutations that
// merge dims, keep or move the last dim, and carry size-1 dims.
func TestPermute(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	for _, tc := range []struct{ shape, perm []int }{
		{[]int{}, []int{}}, {[]int{5}, []int{0}}, {[]int{3, 4}, []int{1, 0}}, {[]int{1, 37, 5, 8}, []int{0, 2, 1, 3}},
		{[]int{2, 3, 4, 5}, []int{3, 2, 1, 0}}, {[]int{2, 3, 4, 5}, []int{0, 1, 2, 3}}, {[]int{2, 3, 4, 5}, []int{2, 3, 0, 1}},
		{[]int{6, 1, 7, 1}, []int{3, 2, 1, 0}}, {[]int{2, 300, 7, 9}, []int{0, 2, 1, 3}}, {[]int{3, 5, 2}, []int{1, 2, 0}},
	} {
		x := randF32(rng, backend.NumElements(tc.shape))
		want := make([]float32, len(x))
		got := make([]float32, len(x))
		ref.Permute(want, x, tc.shape, tc.perm)
		Permute(got, x, tc.shape, tc.perm)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v by %v: [%d] = %v, want %v", tc.shape, tc.perm, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkPermute measures FLUX's head split [1, 4224, 24, 128] →
// [1, 24, 4224, 128] in GB/s read plus written.
func BenchmarkPermute(b *testing.B) {
	shape := []int{1, 4224, 24, 128}
	x := randF32(rand.New(rand.NewPCG(18, 18)), backend.NumElements(shape))
	out := make([]float32, len(x))
	for b.Loop() {
		Permute(out, x, shape, []int{0, 2, 1, 3})
	}
	b.ReportMetric(8*float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
