package ops

import (
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Matrix is the right-hand operand of MatMul: N rows of K elements, stored
// either as float32 or as raw little-endian elements of a weight type that
// is widened to float32 panel by panel (never whole).
type Matrix struct {
	N, K  int
	DType dtype.DType
	F32   []float32 // DType F32
	Raw   []byte    // other float types
}

// Block sizes: a panel of nc rows × kc columns of the weight (64 KiB as
// float32) stays in L2 while every row of A streams past it.
const (
	kc = 256
	nc = 64
	mc = 64
)

// kernelName names the micro-kernel in use (reported by Describe).
var kernelName = "go"

// microKernel computes c[i][j] += Σ_p a[i][p]·b[j][p] for a 4×4 tile,
// with a rows lda apart and packed b rows kc apart. It is a variable so
// SIMD implementations can replace it at start-up.
var microKernel = microKernelGo

func microKernelGo(c []float32, ldc int, a []float32, lda int, b []float32, ldb, k int, rows, cols int) {
	if rows == 4 && cols == 4 {
		var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
		a0, a1, a2, a3 := a[:k], a[lda:lda+k], a[2*lda:2*lda+k], a[3*lda:3*lda+k]
		b0, b1, b2, b3 := b[:k], b[ldb:ldb+k], b[2*ldb:2*ldb+k], b[3*ldb:3*ldb+k]
		for p := range k {
			x0, x1, x2, x3 := a0[p], a1[p], a2[p], a3[p]
			y0, y1, y2, y3 := b0[p], b1[p], b2[p], b3[p]
			c00 += x0 * y0
			c01 += x0 * y1
			c02 += x0 * y2
			c03 += x0 * y3
			c10 += x1 * y0
			c11 += x1 * y1
			c12 += x1 * y2
			c13 += x1 * y3
			c20 += x2 * y0
			c21 += x2 * y1
			c22 += x2 * y2
			c23 += x2 * y3
			c30 += x3 * y0
			c31 += x3 * y1
			c32 += x3 * y2
			c33 += x3 * y3
		}
		c[0] += c00
		c[1] += c01
		c[2] += c02
		c[3] += c03
		c[ldc] += c10
		c[ldc+1] += c11
		c[ldc+2] += c12
		c[ldc+3] += c13
		c[2*ldc] += c20
		c[2*ldc+1] += c21
		c[2*ldc+2] += c22
		c[2*ldc+3] += c23
		c[3*ldc] += c30
		c[3*ldc+1] += c31
		c[3*ldc+2] += c32
		c[3*ldc+3] += c33
		return
	}
	for i := range rows {
		ai := a[i*lda : i*lda+k]
		for j := range cols {
			bj := b[j*ldb : j*ldb+k]
			var s float32
			for p, x := range ai {
				s += x * bj[p]
			}
			c[i*ldc+j] += s
		}
	}
}

// MatMul computes c [M, N] = a [M, K] · bᵀ (+ bias [N] if not nil),
// parallel over tiles of the output.
func MatMul(c, a []float32, m int, b Matrix, bias []float32) {
	n, k := b.N, b.K
	for i := range m {
		row := c[i*n : i*n+n]
		if bias != nil {
			copy(row, bias)
		} else {
			clear(row)
		}
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	mTiles := (m + mc - 1) / mc
	nTiles := (n + nc - 1) / nc
	Parallel(mTiles*nTiles, 1, func(lo, hi int) {
		panel := make([]float32, nc*kc)
		for t := lo; t < hi; t++ {
			// n-major order: consecutive tiles of a worker share the panel.
			ni, mi := t/mTiles, t%mTiles
			n0, m0 := ni*nc, mi*mc
			nn, mm := min(nc, n-n0), min(mc, m-m0)
			for k0 := 0; k0 < k; k0 += kc {
				kk := min(kc, k-k0)
				packPanel(panel, b, n0, nn, k0, kk)
				for i := 0; i < mm; i += 4 {
					rows := min(4, mm-i)
					for j := 0; j < nn; j += 4 {
						cols := min(4, nn-j)
						microKernel(c[(m0+i)*n+n0+j:], n, a[(m0+i)*k+k0:], k, panel[j*kc:], kc, kk, rows, cols)
					}
				}
			}
		}
	})
}

// packPanel widens rows [n0, n0+nn) × cols [k0, k0+kk) of b into dst with
// row stride kc.
func packPanel(dst []float32, b Matrix, n0, nn, k0, kk int) {
	for j := range nn {
		off := (n0+j)*b.K + k0
		out := dst[j*kc : j*kc+kk]
		if b.DType == dtype.F32 {
			copy(out, b.F32[off:off+kk])
			continue
		}
		sz := b.DType.Size()
		dtype.ToF32(b.DType, b.Raw[off*sz:(off+kk)*sz], out)
	}
}
