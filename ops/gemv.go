package ops

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/fluxpulid/fluxpulid/dtype"
)

var simdDot = hasSIMDDot()

// dotF32 returns Σ a[i]·b[i] (len(a) == len(b)).
func dotF32(a, b []float32) float32 {
	n := 0
	var s float32
	if simdDot {
		n = len(a) &^ 31
		if n > 0 {
			s = dotF32AVX2(&a[0], &b[0], n)
		}
	}
	b = b[:len(a)]
	for i := n; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

// dotBF16 returns Σ a[i]·b[i] for b little-endian bfloat16 bytes
// (len(b) == 2·len(a)).
func dotBF16(a []float32, b []byte) float32 {
	n := 0
	var s float32
	if simdDot {
		n = len(a) &^ 31
		if n > 0 {
			_ = b[2*n-1]
			s = dotBF16AVX2(&a[0], (*uint16)(unsafe.Pointer(&b[0])), n)
		}
	}
	b = b[:2*len(a)]
	for i := n; i < len(a); i++ {
		s += a[i] * math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:]))<<16)
	}
	return s
}

// gemv adds a [m, K] · bᵀ into c [m, N] for the few rows (m < mr) where
// packing the weight for the micro-kernel would cost more than the
// product: each weight row is read once, straight from its storage type,
// and dotted with every row of a while it is in L1. Parallel over N.
func gemv(c, a []float32, m int, b Matrix) {
	n, k := b.N, b.K
	Parallel(n, max(1, 1<<15/max(k*m, 1)), func(lo, hi int) {
		var wide []float32
		if b.DType != dtype.F32 && b.DType != dtype.BF16 {
			wide = make([]float32, k)
		}
		sz := b.DType.Size()
		for j := lo; j < hi; j++ {
			switch b.DType {
			case dtype.F32:
				row := b.F32[j*k : (j+1)*k]
				for i := range m {
					c[i*n+j] += dotF32(a[i*k:(i+1)*k], row)
				}
			case dtype.BF16:
				row := b.Raw[2*j*k : 2*(j+1)*k]
				for i := range m {
					c[i*n+j] += dotBF16(a[i*k:(i+1)*k], row)
				}
			default:
				dtype.ToF32(b.DType, b.Raw[j*k*sz:(j+1)*k*sz], wide)
				for i := range m {
					c[i*n+j] += dotF32(a[i*k:(i+1)*k], wide)
				}
			}
		}
	})
}
