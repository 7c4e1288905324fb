package ops

import (
	"math/rand/v2"
	"time"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// BenchMatMul times MatMul of an F32 [m, k] activation by a [n, k] weight
// stored as dt (F32, BF16, F16, F8E4M3 or F8E5M2) and returns the rate in
// GFLOPS (2·m·n·k flops per product). It runs one warm-up product, then
// repeats until at least minTime has passed (once if minTime is 0).
func BenchMatMul(m, k, n int, dt dtype.DType, minTime time.Duration) (gflops float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := make([]float32, m*k)
	for i := range a {
		a[i] = rng.Float32()*2 - 1
	}
	b := Matrix{N: n, K: k, DType: dt}
	if dt == dtype.F32 {
		b.F32 = make([]float32, n*k)
		for i := range b.F32 {
			b.F32[i] = rng.Float32()*2 - 1
		}
	} else {
		b.Raw = make([]byte, n*k*dt.Size())
		for i := range b.Raw {
			b.Raw[i] = byte(rng.UintN(256)) & 0x3b // small finite values in any float encoding
		}
	}
	c := make([]float32, m*n)
	MatMul(c, a, m, b, nil)
	iters := 0
	start := time.Now()
	for iters == 0 || time.Since(start) < minTime {
		MatMul(c, a, m, b, nil)
		iters++
	}
	sec := time.Since(start).Seconds() / float64(iters)
	return 2 * float64(m) * float64(n) * float64(k) / sec / 1e9
}
