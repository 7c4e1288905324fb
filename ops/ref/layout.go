package ref

import "github.com/fluxpulid/fluxpulid/backend"

// Permute writes x (shape in) with its dims reordered by perm.
func Permute(dst, x []float32, in []int, perm []int) {
	st := backend.Strides(in)
	out := make([]int, len(in))
	ps := make([]int, len(in))
	for i, p := range perm {
		out[i] = in[p]
		ps[i] = st[p]
	}
	idx := make([]int, len(out))
	for i := range dst {
		off := 0
		for d := range out {
			off += idx[d] * ps[d]
		}
		dst[i] = x[off]
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// Concat joins parts along axis; outer is the product of the dims before
// axis and inner[i] the length of part i's row from axis on.
func Concat(dst []float32, parts [][]float32, outer int, inner []int) {
	o := 0
	for r := range outer {
		for i, p := range parts {
			o += copy(dst[o:], p[r*inner[i]:(r+1)*inner[i]])
		}
	}
}

// Slice copies indices start, start+step, … < end of axis.
func Slice(dst, x []float32, shape []int, axis, start, end, step int) {
	outer := backend.NumElements(shape[:axis])
	inner := backend.NumElements(shape[axis+1:])
	o := 0
	for r := range outer {
		for i := start; i < end; i += step {
			base := (r*shape[axis] + i) * inner
			o += copy(dst[o:], x[base:base+inner])
		}
	}
}

// Pad surrounds x with value; out = in + before + after per dim (negative
// amounts crop).
func Pad(dst, x []float32, in, before, after []int, value float32) {
	out := make([]int, len(in))
	for i := range in {
		out[i] = in[i] + before[i] + after[i]
	}
	st := backend.Strides(in)
	idx := make([]int, len(out))
	for i := range dst {
		off, inside := 0, true
		for d := range out {
			s := idx[d] - before[d]
			if s < 0 || s >= in[d] {
				inside = false
				break
			}
			off += s * st[d]
		}
		if inside {
			dst[i] = x[off]
		} else {
			dst[i] = value
		}
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
}
