package cpu

import (
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
	shapes := make([][]int, len(ts))
	for i, t := range ts {
		shapes[i] = get(op, t).shape
	}
	axis, shape := backend.ConcatShape(op, axis, shapes...)
	parts := make([][]float32, len(ts))
	inner := make([]int, len(ts))
	for i, t := range ts {
		parts[i] = f32(op, t)
		inner[i] = backend.NumElements(shapes[i][axis:])
	}
	out := newF32(shape)
	ref.Concat(out.f, parts, backend.NumElements(shape[:axis]), inner)
	return out
}

func (b *Backend) Slice(x backend.Tensor, axis, start, end, step int) backend.Tensor {
	const op = "slice"
	t := get(op, x)
	axis, shape := backend.SliceShape(op, t.shape, axis, start, end, step)
	out := newF32(shape)
	ref.Slice(out.f, f32(op, x), t.shape, axis, start, end, step)
	return out
}

func (b *Backend) Pad(x backend.Tensor, before, after []int, value float32) backend.Tensor {
	const op = "pad"
	t := get(op, x)
	shape := backend.PadShape(op, t.shape, before, after)
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
	oh, ow := backend.Conv2DShape(op, xs, ws, opt)
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	o, kh, kw := ws[0], ws[2], ws[3]
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
