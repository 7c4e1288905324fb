package vulkan

import (
	"fmt"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// BenchmarkLinear measures the tiled matmul shader on a FLUX-like shape
// scaled down for lavapipe; b.N runs are queued, then one read-back
// synchronises.
func BenchmarkLinear(b *testing.B) {
	bk, err := New("")
	if err != nil {
		b.Skip(err)
	}
	defer bk.Close()
	const m, k, n = 256, 1024, 1024
	for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
		b.Run(fmt.Sprintf("%v/%dx%dx%d", dt, m, k, n), func(b *testing.B) {
			x := bk.FromF32([]int{m, k}, make([]float32, m*k))
			w := bk.FromBytes(dt, []int{n, k}, make([]byte, n*k*dt.Size()))
			var y backend.Tensor
			y = bk.Linear(x, w, nil)
			bk.ReadF32(y) // compile the pipeline outside the timing
			b.ResetTimer()
			for range b.N {
				y = bk.Linear(x, w, nil)
				bk.Free(y)
			}
			bk.ReadF32(x)
			b.ReportMetric(float64(2*m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

// BenchmarkAffine measures a memory-bound elementwise shader.
func BenchmarkAffine(b *testing.B) {
	bk, err := New("")
	if err != nil {
		b.Skip(err)
	}
	defer bk.Close()
	const n = 1 << 22
	x := bk.FromF32([]int{n}, make([]float32, n))
	bk.ReadF32(bk.Affine(x, 2, 1))
	b.ResetTimer()
	for range b.N {
		bk.Free(bk.Affine(x, 2, 1))
	}
	bk.ReadF32(x)
	b.ReportMetric(float64(8*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
