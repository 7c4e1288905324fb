package vulkan

import (
	"github.com/fluxpulid/fluxpulid/backend"
)

// matmulTile is BM = BN of shaders/matmul.glsl, convTile of conv2d.glsl.
const (
	matmulTile = 128
	// Products with at most matvecRows rows run shaders/matvec.glsl, whose
	// workgroups cover matvecCols output columns.
	matvecRows = 4
	matvecCols = 8
	convTile   = 128
)

func (b *Backend) MatMul(a, w backend.Tensor) backend.Tensor {
	const op = "matmul"
	defer b.lock()()
	at := b.f32(op, a)
	wt, suffix := b.weight(op, w)
	as, ws := at.shape, wt.shape
	batch, m, k, n := backend.MatMulShape(op, as, ws)
	out := b.alloc(op, append(append([]int(nil), batch...), m, n))
	nb := backend.NumElements(batch)
	// Batch strides in whole matrices; collapse keeps at most 4 dims for
	// the shader in practice (fail otherwise).
	bsh, bst := collapse(batch, backend.BroadcastStrides(as[:len(as)-2], batch), backend.BroadcastStrides(ws[:len(ws)-2], batch))
	if len(bsh) > 4 {
		unsupported(op, "%d batch dims after merging (the shader indexes 4)", len(bsh))
	}
	p := push{}.u(m, n, k, len(bsh))
	for _, v := range [][]int{bsh, bst[0], bst[1]} {
		for i := range 4 {
			if i < len(v) {
				p = p.u(v[i])
			} else {
				p = p.u(1)
			}
		}
	}
	b.matmulDispatch(op, suffix, at, wt, nil, out, m, n, nb, p)
	return out
}

func (b *Backend) matmulDispatch(op, suffix string, a, w, bias, out *Tensor, m, n, nb int, p push) {
	if m == 0 || n == 0 || nb == 0 {
		return
	}
	if nb > 65535 {
		unsupported(op, "%d batched matrices (one workgroup layer each, at most 65535)", nb)
	}
	bst := a.h.st
	if bias != nil {
		bst = bias.h.st
	}
	shader := "matmul_"
	gx, gy := (n+matmulTile-1)/matmulTile, (m+matmulTile-1)/matmulTile
	if m <= matvecRows {
		shader = "matvec_"
		gx, gy = (n+matvecCols-1)/matvecCols, 1
	}
	if gx > 65535 || gy > 65535 {
		unsupported(op, "a %d×%d output (more than 65535 tiles along a side)", m, n)
	}
	b.run(op, shader+suffix, []arg{in(a.h.st), in(w.h.st), in(bst), outArg(out)}, p,
		[]uint32{boolSpec(bias != nil)}, uint32(gx), uint32(gy), uint32(nb))
}

func (b *Backend) Linear(x, w, bias backend.Tensor) backend.Tensor {
	const op = "linear"
	defer b.lock()()
	xt := b.f32(op, x)
	wt, suffix := b.weight(op, w)
	xs, ws := xt.shape, wt.shape
	n, k := backend.LinearShape(op, xs, ws)
	var bt *Tensor
	if bias != nil {
		bt = b.f32(op, bias)
		if backend.NumElements(bt.shape) != n {
			backend.Fail(op, "bias %v for %d outputs", bt.shape, n)
		}
	}
	m := backend.NumElements(xs[:len(xs)-1])
	out := b.alloc(op, append(append([]int(nil), xs[:len(xs)-1]...), n))
	p := push{}.u(m, n, k, 0).u(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	b.matmulDispatch(op, suffix, xt, wt, bt, out, m, n, 1, p)
	return out
}

func (b *Backend) Conv2D(x, w, bias backend.Tensor, opt backend.ConvOptions) backend.Tensor {
	const op = "conv2d"
	defer b.lock()()
	opt = opt.Normalized()
	xt := b.f32(op, x)
	wt, suffix := b.weight(op, w)
	xs, ws := xt.shape, wt.shape
	oh, ow := backend.Conv2DShape(op, xs, ws, opt)
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	o, kh, kw := ws[0], ws[2], ws[3]
	bst, hasBias := b.vec(op, "bias", bias, o, xt)
	out := b.alloc(op, []int{n, o, oh, ow})
	g := opt.Groups
	og := o / g
	if oh*ow == 0 || og == 0 || n == 0 {
		return out
	}
	gx, gy, gz := (og+convTile-1)/convTile, (oh*ow+convTile-1)/convTile, n*g
	if gy > 65535 || gz > 65535 {
		unsupported(op, "output %v (more than 65535 tiles or samples·groups)", out.shape)
	}
	p := push{}.u(c, h, wd, o, kh, kw, oh, ow, opt.Stride[0], opt.Stride[1], opt.Pad[0], opt.Pad[1],
		opt.Dilation[0], opt.Dilation[1], g)
	b.run(op, "conv2d_"+suffix, []arg{in(xt.h.st), in(wt.h.st), in(bst), outArg(out)}, p,
		[]uint32{boolSpec(hasBias)}, uint32(gx), uint32(gy), uint32(gz))
	return out
}

func (b *Backend) Pool2D(x backend.Tensor, opt backend.PoolOptions) backend.Tensor {
	const op = "pool2d"
	defer b.lock()()
	opt = opt.Normalized()
	xt := b.f32(op, x)
	xs := xt.shape
	if len(xs) != 4 || opt.Kernel[0] <= 0 || opt.Kernel[1] <= 0 || opt.Stride[0] <= 0 || opt.Stride[1] <= 0 {
		backend.Fail(op, "x %v with %+v", xs, opt)
	}
	h, w := xs[2], xs[3]
	oh := backend.ConvOutSize(h, opt.Kernel[0], opt.Stride[0], opt.Pad[0], opt.Pad[2], 1, opt.CeilMode)
	ow := backend.ConvOutSize(w, opt.Kernel[1], opt.Stride[1], opt.Pad[1], opt.Pad[3], 1, opt.CeilMode)
	out := b.alloc(op, []int{xs[0], xs[1], oh, ow})
	total := xs[0] * xs[1] * oh * ow
	if total == 0 {
		return out
	}
	p := push{}.u(total, h, w, oh, ow, opt.Kernel[0], opt.Kernel[1], opt.Stride[0], opt.Stride[1],
		opt.Pad[0], opt.Pad[1], opt.Pad[2], opt.Pad[3])
	gx, gy := groups1D(total, 256)
	b.run(op, "pool2d", []arg{in(xt.h.st), outArg(out)}, p,
		[]uint32{boolSpec(opt.Kind == backend.AvgPool), boolSpec(opt.CountPad)}, gx, gy, 1)
	return out
}

func (b *Backend) Resize2D(x backend.Tensor, oh, ow int, mode backend.ResizeMode, alignCorners bool) backend.Tensor {
	const op = "resize2d"
	defer b.lock()()
	xt := b.f32(op, x)
	xs := xt.shape
	if len(xs) != 4 || oh <= 0 || ow <= 0 || xs[2] == 0 || xs[3] == 0 {
		backend.Fail(op, "resize %v to %d×%d", xs, oh, ow)
	}
	if mode > backend.Bicubic {
		unsupported(op, "resize mode %d", mode)
	}
	out := b.alloc(op, []int{xs[0], xs[1], oh, ow})
	total := xs[0] * xs[1] * oh * ow
	if total == 0 {
		return out
	}
	gx, gy := groups1D(total, 256)
	b.run(op, "resize2d", []arg{in(xt.h.st), outArg(out)},
		push{}.u(total, xs[2], xs[3], oh, ow, int(boolSpec(alignCorners))), []uint32{uint32(mode)}, gx, gy, 1)
	return out
}
