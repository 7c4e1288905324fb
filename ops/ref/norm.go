package ref

import (
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
)

// Softmax normalises each row of n elements.
func Softmax(dst, src []float32, n int) {
	for r := 0; r+n <= len(src); r += n {
		row, out := src[r:r+n], dst[r:r+n]
		m := math.Inf(-1)
		for _, x := range row {
			m = math.Max(m, float64(x))
		}
		var s float64
		for _, x := range row {
			s += math.Exp(float64(x) - m)
		}
		for i, x := range row {
			out[i] = float32(math.Exp(float64(x)-m) / s)
		}
	}
}

// LayerNorm normalises rows of n elements, then scales by w and adds b
// (either may be nil).
func LayerNorm(dst, src, w, b []float32, n int, eps float32) {
	for r := 0; r+n <= len(src); r += n {
		row, out := src[r:r+n], dst[r:r+n]
		var mean, v float64
		for _, x := range row {
			mean += float64(x)
		}
		mean /= float64(n)
		for _, x := range row {
			d := float64(x) - mean
			v += d * d
		}
		inv := 1 / math.Sqrt(v/float64(n)+float64(eps))
		for i, x := range row {
			y := (float64(x) - mean) * inv
			if w != nil {
				y *= float64(w[i])
			}
			if b != nil {
				y += float64(b[i])
			}
			out[i] = float32(y)
		}
	}
}

// RMSNorm computes x·rsqrt(mean(x²)+eps)·w per row of n elements.
func RMSNorm(dst, src, w []float32, n int, eps float32) {
	for r := 0; r+n <= len(src); r += n {
		row, out := src[r:r+n], dst[r:r+n]
		var ss float64
		for _, x := range row {
			ss += float64(x) * float64(x)
		}
		inv := 1 / math.Sqrt(ss/float64(n)+float64(eps))
		for i, x := range row {
			y := float64(x) * inv
			if w != nil {
				y *= float64(w[i])
			}
			out[i] = float32(y)
		}
	}
}

// GroupNorm normalises x [N, C, S] over groups of C/groups channels × S
// and applies per-channel w, b (may be nil).
func GroupNorm(dst, src []float32, n, c, s, groups int, w, b []float32, eps float32) {
	cg := c / groups
	for i := range n {
		for g := range groups {
			base := (i*c + g*cg) * s
			blk := src[base : base+cg*s]
			var mean, v float64
			for _, x := range blk {
				mean += float64(x)
			}
			mean /= float64(len(blk))
			for _, x := range blk {
				d := float64(x) - mean
				v += d * d
			}
			inv := 1 / math.Sqrt(v/float64(len(blk))+float64(eps))
			for ch := range cg {
				cc := g*cg + ch
				for p := range s {
					y := (float64(src[base+ch*s+p]) - mean) * inv
					if w != nil {
						y *= float64(w[cc])
					}
					if b != nil {
						y += float64(b[cc])
					}
					dst[base+ch*s+p] = float32(y)
				}
			}
		}
	}
}

// Reduce reduces rows of n elements to one value each.
func Reduce(op backend.ReduceOp, dst, src []float32, n int) {
	for r := range dst {
		row := src[r*n : r*n+n]
		switch op {
		case backend.Sum, backend.Mean:
			var s float64
			for _, x := range row {
				s += float64(x)
			}
			if op == backend.Mean {
				s /= float64(n)
			}
			dst[r] = float32(s)
		case backend.ReduceMax:
			m := float32(math.Inf(-1))
			for _, x := range row {
				if x > m || x != x {
					m = x
				}
			}
			dst[r] = m
		}
	}
}
