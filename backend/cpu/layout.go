package cpu

import (
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/ops"
	"github.com/fluxpulid/fluxpulid/ops/ref"
)

func (b *Backend) Reshape(x backend.Tensor, shape ...int) backend.Tensor {
	t := get("reshape", x)
	s := backend.ResolveReshape("reshape", t.shape, shape)
	// a view: tensors are immutable, so sharing the data is safe
	return &Tensor{shape: s, dt: t.dt, f: t.f, raw: t.raw}
}

func (b *Backend) Permute(x backend.Tensor, perm ...int) backend.Tensor {
	const op = "permute"
	t := get(op, x)
	if len(perm) != len(t.shape) {
		backend.Fail(op, "perm %v for rank %d", perm, len(t.shape))
	}
	seen := make([]bool, len(perm))
	shape := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			backend.Fail(op, "invalid permutation %v", perm)
		}
		seen[p] = true
		shape[i] = t.shape[p]
	}
	out := newF32(shape)
	xd := f32(op, x)
	if b.reference {
		ref.Permute(out.f, xd, t.shape, perm)
		return out
	}
	ops.Permute(out.f, xd, t.shape, perm)
	return out
}

func (b *Backend) Concat(axis int, ts ...backend.Tensor) backend.Tensor {
	const op = "concat"
	if len(ts) == 0 {
		backend.Fail(op, "no operands")
	}
	first := get(op, ts[0]).shape
	axis = backend.Axis(op, axis, len(first))
	shape := slices.Clone(first)
	shape[axis] = 0
	parts := make([][]float32, len(ts))
	inner := make([]int, len(ts))
	for i, t := range ts {
		s := get(op, t).shape
		if len(s) != len(first) {
			backend.Fail(op, "ranks differ: %v and %v", first, s)
		}
		for d := range s {
			if d != axis && s[d] != first[d] {
				backend.Fail(op, "shapes %v and %v differ off axis %d", first, s, axis)
			}
		}
		shape[axis] += s[axis]
		parts[i] = f32(op, t)
		inner[i] = backend.NumElements(s[axis:])
	}
	out := newF32(shape)
	ref.Concat(out.f, parts, backend.NumElements(shape[:axis]), inner)
	return out
}

func (b *Backend) Slice(x backend.Tensor, axis, start, end, step int) backend.Tensor {
	const op = "slice"
	t := get(op, x)
	axis = backend.Axis(op, axis, len(t.shape))
	n := t.shape[axis]
	if step <= 0 || start < 0 || end > n || start > end {
		backend.Fail(op, "range [%d:%d:%d] out of bounds for dim %d of %v", start, end, step, axis, t.shape)
	}
	shape := slices.Clone(t.shape)
	shape[axis] = (end - start + step - 1) / step
	out := newF32(shape)
	ref.Slice(out.f, f32(op, x), t.shape, axis, start, end, step)
	return out
}

func (b *Backend) Pad(x backend.Tensor, before, after []int, value float32) backend.Tensor {
	const op = "pad"
	t := get(op, x)
	if len(before) != len(t.shape) || len(after) != len(t.shape) {
		backend.Fail(op, "pads %v/%v for rank %d", before, after, len(t.shape))
	}
	shape := make([]int, len(t.shape))
	for i := range shape {
		shape[i] = t.shape[i] + before[i] + after[i]
		if shape[i] < 0 {
			backend.Fail(op, "pads %v/%v crop %v below zero", before, after, t.shape)
		}
	}
	out := newF32(shape)
	ref.Pad(out.f, f32(op, x), t.shape, before, after, value)
	return out
}

func (b *Backend) TakeRows(table backend.Tensor, ids []int32) backend.Tensor {
	const op = "take_rows"
	t := get(op, table)
	if len(t.shape) != 2 || !t.dt.IsFloat() {
		backend.Fail(op, "table must be a 2-D float tensor, got %v %v", t.dt, t.shape)
	}
	rowsN, d := t.shape[0], t.shape[1]
	out := newF32([]int{len(ids), d})
	for i, id := range ids {
		if id < 0 || int(id) >= rowsN {
			backend.Fail(op, "id %d out of range [0, %d)", id, rowsN)
		}
		dst := out.f[i*d : (i+1)*d]
		if t.dt == dtype.F32 {
			copy(dst, t.f[int(id)*d:])
		} else {
			sz := t.dt.Size()
			dtype.ToF32(t.dt, t.raw[int(id)*d*sz:(int(id)+1)*d*sz], dst)
		}
	}
	return out
}

func (b *Backend) Conv2D(x, w, bias backend.Tensor, opt backend.ConvOptions) backend.Tensor {
	const op = "conv2d"
	opt = opt.Normalized()
	xs, ws := get(op, x).shape, get(op, w).shape
	if len(xs) != 4 || len(ws) != 4 || opt.Groups <= 0 || xs[1] != ws[1]*opt.Groups || ws[0]%opt.Groups != 0 ||
		opt.Stride[0] <= 0 || opt.Stride[1] <= 0 || opt.Dilation[0] <= 0 || opt.Dilation[1] <= 0 {
		backend.Fail(op, "x %v, w %v, %+v do not fit", xs, ws, opt)
	}
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	o, kh, kw := ws[0], ws[2], ws[3]
	oh := backend.ConvOutSize(h, kh, opt.Stride[0], opt.Pad[0], opt.Pad[2], opt.Dilation[0], false)
	ow := backend.ConvOutSize(wd, kw, opt.Stride[1], opt.Pad[1], opt.Pad[3], opt.Dilation[1], false)
	bd := checkVec(op, "bias", bias, o)
	out := newF32([]int{n, o, oh, ow})
	xd := f32(op, x)
	if b.reference {
		ref.Conv2D(out.f, xd, widen(op, w), bd, n, c, h, wd, o, kh, kw, opt)
		return out
	}
	ops.Conv2D(out.f, xd, matrix(op, w, o, ws[1]*kh*kw), bd, n, c, h, wd, o, kh, kw, opt)
	return out
}

func (b *Backend) Pool2D(x backend.Tensor, opt backend.PoolOptions) backend.Tensor {
	const op = "pool2d"
	opt = opt.Normalized()
	xs := get(op, x).shape
	if len(xs) != 4 || opt.Kernel[0] <= 0 || opt.Kernel[1] <= 0 || opt.Stride[0] <= 0 || opt.Stride[1] <= 0 {
		backend.Fail(op, "x %v with %+v", xs, opt)
	}
	h, w := xs[2], xs[3]
	oh := backend.ConvOutSize(h, opt.Kernel[0], opt.Stride[0], opt.Pad[0], opt.Pad[2], 1, opt.CeilMode)
	ow := backend.ConvOutSize(w, opt.Kernel[1], opt.Stride[1], opt.Pad[1], opt.Pad[3], 1, opt.CeilMode)
	out := newF32([]int{xs[0], xs[1], oh, ow})
	xd := f32(op, x)
	planes := xs[0] * xs[1]
	b.rowwise(planes, h*w, func(lo, hi int) {
		ref.Pool2D(out.f[lo*oh*ow:hi*oh*ow], xd[lo*h*w:hi*h*w], hi-lo, h, w, opt)
	})
	return out
}

func (b *Backend) Resize2D(x backend.Tensor, oh, ow int, mode backend.ResizeMode, alignCorners bool) backend.Tensor {
	const op = "resize2d"
	xs := get(op, x).shape
	if len(xs) != 4 || oh <= 0 || ow <= 0 || xs[2] == 0 || xs[3] == 0 {
		backend.Fail(op, "resize %v to %d×%d", xs, oh, ow)
	}
	h, w := xs[2], xs[3]
	out := newF32([]int{xs[0], xs[1], oh, ow})
	xd := f32(op, x)
	b.rowwise(xs[0]*xs[1], h*w, func(lo, hi int) {
		ref.Resize2D(out.f[lo*oh*ow:hi*oh*ow], xd[lo*h*w:hi*h*w], hi-lo, h, w, oh, ow, mode, alignCorners)
	})
	return out
}

var _ backend.Backend = (*Backend)(nil)
