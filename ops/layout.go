package ops

import "github.com/fluxpulid/fluxpulid/backend"

// Permute writes x (shape in) with its dims reordered by perm into dst:
// dst's dim i is x's dim perm[i] (ref.Permute). Size-1 dims are dropped
// and output dims that are adjacent in x merged, so a permutation that
// keeps the last dim last (FLUX's [B, L, H, D] → [B, H, L, D]) copies
// whole rows; work is split over output rows.
func Permute(dst, x []float32, in []int, perm []int) {
	st := backend.Strides(in)
	// output dims as (size, stride in x), merged where contiguous in x
	var size, stride []int
	for _, p := range perm {
		if in[p] == 1 {
			continue
		}
		if k := len(size) - 1; k >= 0 && stride[k] == st[p]*in[p] {
			size[k] *= in[p]
			stride[k] = st[p]
			continue
		}
		size = append(size, in[p])
		stride = append(stride, st[p])
	}
	run := 1
	if k := len(size) - 1; k >= 0 && stride[k] == 1 {
		run = size[k]
		size, stride = size[:k], stride[:k]
	}
	rows := backend.NumElements(size)
	if rows*run != len(dst) {
		panic("ops: Permute sizes do not match")
	}
	Parallel(rows, max(1, 1<<14/run), func(lo, hi int) {
		idx := make([]int, len(size))
		off, r := 0, lo
		for d := len(size) - 1; d >= 0; d-- {
			idx[d] = r % size[d]
			r /= size[d]
			off += idx[d] * stride[d]
		}
		for row := lo; row < hi; row++ {
			if run == 1 {
				dst[row] = x[off]
			} else {
				copy(dst[row*run:(row+1)*run], x[off:off+run])
			}
			for d := len(size) - 1; d >= 0; d-- {
				idx[d]++
				off += stride[d]
				if idx[d] < size[d] {
					break
				}
				off -= stride[d] * size[d]
				idx[d] = 0
			}
		}
	})
}
