package backend

import "slices"

// The operand rules every backend applies before computing: each helper
// checks one op's operand shapes, fails op with a *Error naming the
// problem, and returns the output geometry.

// Rows splits shape into rows of its last dim: (rows, row length); a
// scalar is one row of one element.
func Rows(shape []int) (int, int) {
	if len(shape) == 0 {
		return 1, 1
	}
	return NumElements(shape[:len(shape)-1]), shape[len(shape)-1]
}

// MatMulShape checks a [..., M, K] · w[..., N, K]ᵀ product and returns the
// broadcast batch dims and M, K, N.
func MatMulShape(op string, as, ws []int) (batch []int, m, k, n int) {
	if len(as) < 2 || len(ws) < 2 {
		Fail(op, "operands need rank ≥ 2, got %v and %v", as, ws)
	}
	m, k = as[len(as)-2], as[len(as)-1]
	n, k2 := ws[len(ws)-2], ws[len(ws)-1]
	if k != k2 {
		Fail(op, "inner dims differ: %v · %vᵀ", as, ws)
	}
	batch, err := Broadcast(as[:len(as)-2], ws[:len(ws)-2])
	if err != nil {
		Fail(op, "batch dims: %v", err)
	}
	return batch, m, k, n
}

// ConcatShape checks that shapes agree off axis and returns the resolved
// axis and the concatenated shape.
func ConcatShape(op string, axis int, shapes ...[]int) (int, []int) {
	if len(shapes) == 0 {
		Fail(op, "no operands")
	}
	first := shapes[0]
	axis = Axis(op, axis, len(first))
	shape := slices.Clone(first)
	shape[axis] = 0
	for _, s := range shapes {
		if len(s) != len(first) {
			Fail(op, "ranks differ: %v and %v", first, s)
		}
		for d := range s {
			if d != axis && s[d] != first[d] {
				Fail(op, "shapes %v and %v differ off axis %d", first, s, axis)
			}
		}
		shape[axis] += s[axis]
	}
	return axis, shape
}

// SliceShape checks the range [start:end:step] of dim axis of shape and
// returns the resolved axis and the sliced shape.
func SliceShape(op string, shape []int, axis, start, end, step int) (int, []int) {
	axis = Axis(op, axis, len(shape))
	if step <= 0 || start < 0 || end > shape[axis] || start > end {
		Fail(op, "range [%d:%d:%d] out of bounds for dim %d of %v", start, end, step, axis, shape)
	}
	out := slices.Clone(shape)
	out[axis] = (end - start + step - 1) / step
	return axis, out
}

// PadShape checks per-dim pads (negative ones crop) and returns the padded
// shape.
func PadShape(op string, shape, before, after []int) []int {
	if len(before) != len(shape) || len(after) != len(shape) {
		Fail(op, "pads %v/%v for rank %d", before, after, len(shape))
	}
	out := make([]int, len(shape))
	for i := range out {
		out[i] = shape[i] + before[i] + after[i]
		if out[i] < 0 {
			Fail(op, "pads %v/%v crop %v below zero", before, after, shape)
		}
	}
	return out
}

// Conv2DShape checks x [N, C, H, W] against w [O, C/groups, kh, kw] and
// normalised options, and returns the output height and width.
func Conv2DShape(op string, xs, ws []int, opt ConvOptions) (oh, ow int) {
	if len(xs) != 4 || len(ws) != 4 || opt.Groups <= 0 || xs[1] != ws[1]*opt.Groups || ws[0]%opt.Groups != 0 ||
		opt.Stride[0] <= 0 || opt.Stride[1] <= 0 || opt.Dilation[0] <= 0 || opt.Dilation[1] <= 0 {
		Fail(op, "x %v, w %v, %+v do not fit", xs, ws, opt)
	}
	oh = ConvOutSize(xs[2], ws[2], opt.Stride[0], opt.Pad[0], opt.Pad[2], opt.Dilation[0], false)
	ow = ConvOutSize(xs[3], ws[3], opt.Stride[1], opt.Pad[1], opt.Pad[3], opt.Dilation[1], false)
	return oh, ow
}

// LinearShape checks x [..., K] against w [N, K] and returns N and K.
func LinearShape(op string, xs, ws []int) (n, k int) {
	if len(ws) != 2 || len(xs) < 1 || xs[len(xs)-1] != ws[1] {
		Fail(op, "x %v does not fit weight %v", xs, ws)
	}
	return ws[0], ws[1]
}

// RoPEShape checks x [B, H, L, D] (D even) against cos and sin tables of
// [L, D/2], or [B, L, D/2] per sample, and reports whether they are per
// sample.
func RoPEShape(op string, xs, cs, ss []int) (batched bool) {
	if len(xs) != 4 || xs[3]%2 != 0 {
		Fail(op, "x %v must be [B, H, L, D] with even D", xs)
	}
	batched = len(cs) == 3
	want := []int{xs[2], xs[3] / 2}
	if batched {
		want = []int{xs[0], xs[2], xs[3] / 2}
	}
	if !slices.Equal(cs, want) || !slices.Equal(ss, want) {
		Fail(op, "cos/sin %v, %v for x %v: want %v", cs, ss, xs, want)
	}
	return batched
}
