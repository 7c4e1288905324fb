package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/fluxpulid/fluxpulid/ops/ref"
)

// TestAttention compares the blocked attention with ref.Attention on
// shapes around its block sizes: query blocks (96), key panels (16),
// depth blocks (512) for both D and Lk, causal strips that end inside a
// block, and a bias of every broadcast pattern.
func TestAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, tc := range []struct {
		b, h, lq, lk, d, dv int
		causal              bool
		bias                [4]int // broadcast shape of the bias; zeros: none
	}{
		{1, 1, 1, 1, 1, 1, false, [4]int{}},
		{1, 1, 97, 97, 8, 8, true, [4]int{}},
		{2, 3, 200, 17, 16, 5, false, [4]int{}},
		{1, 2, 50, 600, 24, 40, true, [4]int{}},
		{1, 1, 5, 700, 600, 3, false, [4]int{}},
		{2, 2, 100, 130, 32, 32, false, [4]int{2, 2, 100, 130}},
		{2, 2, 100, 130, 32, 32, true, [4]int{2, 1, 1, 130}},
		{1, 3, 7, 9, 4, 4, false, [4]int{1, 1, 7, 1}},
	} {
		name := fmt.Sprintf("%+v", tc)
		q := randF32(rng, tc.b*tc.h*tc.lq*tc.d)
		k := randF32(rng, tc.b*tc.h*tc.lk*tc.d)
		v := randF32(rng, tc.b*tc.h*tc.lk*tc.dv)
		var bias []float32
		var bstr [4]int
		if tc.bias != [4]int{} {
			n := 1
			for i := 3; i >= 0; i-- {
				if tc.bias[i] > 1 {
					bstr[i] = n
				}
				n *= tc.bias[i]
			}
			bias = randF32(rng, n)
			for i := range bias {
				bias[i] *= 4
			}
		}
		scale := float32(1 / math.Sqrt(float64(tc.d)))
		want := make([]float32, tc.b*tc.h*tc.lq*tc.dv)
		ref.Attention(want, q, k, v, tc.b, tc.h, tc.lq, tc.lk, tc.d, tc.dv, scale, tc.causal, bias, bstr)
		got := make([]float32, len(want))
		for i := range got {
			got[i] = float32(math.NaN())
		}
		Attention(got, q, k, v, tc.b, tc.h, tc.lq, tc.lk, tc.d, tc.dv, scale, tc.causal, bias, bstr)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); !(d <= 2e-6) {
				t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkAttentionFLUX measures one FLUX attention head over the
// 4224-token joint sequence (head dim 128) on every worker: 24 such heads
// per block. GFLOPS counts the two products (4·Lq·Lk·D).
func BenchmarkAttentionFLUX(b *testing.B) {
	const l, d, heads = 4224, 128, 2
	rng := rand.New(rand.NewPCG(10, 10))
	q, k, v := randF32(rng, heads*l*d), randF32(rng, heads*l*d), randF32(rng, heads*l*d)
	out := make([]float32, heads*l*d)
	scale := float32(1 / math.Sqrt(d))
	cpu0 := processCPUTime()
	for b.Loop() {
		Attention(out, q, k, v, 1, heads, l, l, d, d, scale, false, nil, [4]int{})
	}
	cpu := (processCPUTime() - cpu0).Seconds()
	flops := 4 * float64(heads) * l * l * d * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
	b.ReportMetric(flops/cpu/1e9*float64(min(Workers, runtime.NumCPU())), "GFLOPS-cpu")
}
