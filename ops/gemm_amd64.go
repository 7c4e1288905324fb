//go:build !purego

package ops

//go:noescape
func gemm6x16AVX2(k int, a, b, c *float32, ldc int)

// microKernelAVX2 is the AVX2+FMA micro-kernel (gemm_amd64.s): products
// are fused into the sums, so results differ from microKernelGo's by
// rounding only.
func microKernelAVX2(k int, a, b, c []float32, ldc int) {
	if k == 0 {
		return
	}
	_ = a[mr*k-1]
	_ = b[nr*k-1]
	_ = c[(mr-1)*ldc+nr-1]
	gemm6x16AVX2(k, &a[0], &b[0], &c[0], ldc)
}

func init() {
	if CPU.AVX2 && CPU.FMA3 {
		microKernel = microKernelAVX2
		kernelName = "avx2+fma 6x16"
	}
}
