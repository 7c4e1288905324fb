package cpu

import (
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/ops"
	"github.com/fluxpulid/fluxpulid/ops/ref"
)

// grain is the element count below which row kernels run on one core.
const grain = 1 << 14

func (b *Backend) MatMul(a, w backend.Tensor) backend.Tensor {
	const op = "matmul"
	as, ws := get(op, a).shape, get(op, w).shape
	batch, m, k, n := backend.MatMulShape(op, as, ws)
	out := newF32(append(slices.Clone(batch), m, n))
	ad := f32(op, a)
	nb := backend.NumElements(batch)
	sa := backend.BroadcastStrides(as[:len(as)-2], batch)
	sw := backend.BroadcastStrides(ws[:len(ws)-2], batch)
	wt := get(op, w)
	idx := make([]int, len(batch))
	for i := range nb {
		ia, iw := 0, 0
		for d := range batch {
			ia += idx[d] * sa[d]
			iw += idx[d] * sw[d]
		}
		av := ad[ia*m*k : (ia+1)*m*k]
		cv := out.f[i*m*n : (i+1)*m*n]
		mat := ops.Matrix{N: n, K: k, DType: wt.dt}
		if wt.dt == dtype.F32 {
			mat.F32 = wt.f[iw*n*k : (iw+1)*n*k]
		} else {
			sz := wt.dt.Size()
			mat.Raw = wt.raw[iw*n*k*sz : (iw+1)*n*k*sz]
		}
		b.matmul(cv, av, m, mat, nil)
		for d := len(batch) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

func (b *Backend) matmul(c, a []float32, m int, w ops.Matrix, bias []float32) {
	if !b.reference {
		ops.MatMul(c, a, m, w, bias)
		return
	}
	wf := w.F32
	if w.DType != dtype.F32 {
		wf = make([]float32, w.N*w.K)
		dtype.ToF32(w.DType, w.Raw, wf)
	}
	ref.MatMulNT(c, a, wf, m, w.N, w.K)
	if bias != nil {
		for i := range m {
			for j := range w.N {
				c[i*w.N+j] += bias[j]
			}
		}
	}
}

func (b *Backend) Linear(x, w, bias backend.Tensor) backend.Tensor {
	const op = "linear"
	xs, ws := get(op, x).shape, get(op, w).shape
	n, k := backend.LinearShape(op, xs, ws)
	var bd []float32
	if bias != nil {
		if bs := get(op, bias).shape; backend.NumElements(bs) != n {
			backend.Fail(op, "bias %v for %d outputs", bs, n)
		}
		bd = f32(op, bias)
	}
	m := backend.NumElements(xs) / max(k, 1)
	if k == 0 {
		m = backend.NumElements(xs[:len(xs)-1])
	}
	out := newF32(append(slices.Clone(xs[:len(xs)-1]), n))
	b.matmul(out.f, f32(op, x), m, matrix(op, w, n, k), bd)
	return out
}

func (b *Backend) Binary(o backend.BinaryOp, x, y backend.Tensor) backend.Tensor {
	op := o.String()
	xs, ys := get(op, x).shape, get(op, y).shape
	shape, err := backend.Broadcast(xs, ys)
	if err != nil {
		backend.Fail(op, "%v", err)
	}
	out := newF32(shape)
	xd, yd := f32(op, x), f32(op, y)
	if b.reference {
		ref.Binary(o, out.f, shape, xd, xs, yd, ys)
		return out
	}
	ops.Binary(o, out.f, shape, xd, xs, yd, ys)
	return out
}

func (b *Backend) Unary(o backend.UnaryOp, x backend.Tensor) backend.Tensor {
	op := o.String()
	xd := f32(op, x)
	out := newF32(get(op, x).shape)
	if b.reference {
		ref.Unary(o, out.f, xd)
		return out
	}
	ops.Parallel(len(xd), grain, func(lo, hi int) { ops.Unary(o, out.f[lo:hi], xd[lo:hi]) })
	return out
}

func (b *Backend) Affine(x backend.Tensor, alpha, beta float32) backend.Tensor {
	xd := f32("affine", x)
	out := newF32(get("affine", x).shape)
	ops.Parallel(len(xd), grain, func(lo, hi int) { ref.Affine(out.f[lo:hi], xd[lo:hi], alpha, beta) })
	return out
}

func (b *Backend) Cast(x backend.Tensor, dt dtype.DType) backend.Tensor {
	const op = "cast"
	t := get(op, x)
	switch dt {
	case t.dt:
		// a new tensor sharing the (immutable) data, so that freeing the
		// result leaves the operand intact
		return &Tensor{shape: slices.Clone(t.shape), dt: t.dt, f: t.f, raw: t.raw}
	case dtype.F32:
		return &Tensor{shape: slices.Clone(t.shape), dt: dtype.F32, f: widen(op, t)}
	case dtype.F16, dtype.BF16:
		src := f32(op, x)
		raw := make([]byte, 2*len(src))
		for i, v := range src {
			h := dtype.F32ToBF16(v)
			if dt == dtype.F16 {
				h = dtype.F32ToF16(v)
			}
			raw[2*i], raw[2*i+1] = byte(h), byte(h>>8)
		}
		return &Tensor{shape: slices.Clone(t.shape), dt: dt, raw: raw}
	}
	backend.Fail(op, "cast %v to %v not supported", t.dt, dt)
	return nil
}

// rowwise runs kernel over row ranges, in parallel unless reference.
func (b *Backend) rowwise(r, n int, kernel func(lo, hi int)) {
	if b.reference {
		kernel(0, r)
		return
	}
	ops.ParallelRows(r, n, grain, kernel)
}

func (b *Backend) Softmax(x backend.Tensor) backend.Tensor {
	xd := f32("softmax", x)
	out := newF32(get("softmax", x).shape)
	r, n := backend.Rows(out.shape)
	if b.reference {
		ref.Softmax(out.f, xd, n)
		return out
	}
	ops.ParallelRows(r, n, grain, func(lo, hi int) { ops.Softmax(out.f[lo*n:hi*n], xd[lo*n:hi*n], n) })
	return out
}

func checkVec(op, name string, t backend.Tensor, n int) []float32 {
	if t == nil {
		return nil
	}
	if s := get(op, t).shape; backend.NumElements(s) != n {
		backend.Fail(op, "%s has shape %v, want %d elements", name, s, n)
	}
	return f32(op, t)
}

func (b *Backend) LayerNorm(x, w, bias backend.Tensor, eps float32) backend.Tensor {
	const op = "layernorm"
	xd := f32(op, x)
	out := newF32(get(op, x).shape)
	r, n := backend.Rows(out.shape)
	wd, bd := checkVec(op, "weight", w, n), checkVec(op, "bias", bias, n)
	b.rowwise(r, n, func(lo, hi int) { ref.LayerNorm(out.f[lo*n:hi*n], xd[lo*n:hi*n], wd, bd, n, eps) })
	return out
}

func (b *Backend) RMSNorm(x, w backend.Tensor, eps float32) backend.Tensor {
	const op = "rmsnorm"
	xd := f32(op, x)
	out := newF32(get(op, x).shape)
	r, n := backend.Rows(out.shape)
	wd := checkVec(op, "weight", w, n)
	b.rowwise(r, n, func(lo, hi int) { ref.RMSNorm(out.f[lo*n:hi*n], xd[lo*n:hi*n], wd, n, eps) })
	return out
}

func (b *Backend) GroupNorm(x backend.Tensor, groups int, w, bias backend.Tensor, eps float32) backend.Tensor {
	const op = "groupnorm"
	xs := get(op, x).shape
	if len(xs) < 2 || groups <= 0 || xs[1]%groups != 0 {
		backend.Fail(op, "%d groups for shape %v", groups, xs)
	}
	n, c := xs[0], xs[1]
	s := backend.NumElements(xs[2:])
	xd := f32(op, x)
	wd, bd := checkVec(op, "weight", w, c), checkVec(op, "bias", bias, c)
	out := newF32(xs)
	if b.reference {
		ref.GroupNorm(out.f, xd, n, c, s, groups, wd, bd, eps)
		return out
	}
	cg := c / groups
	// each (sample, group) block is independent and contiguous
	ops.Parallel(n*groups, 1, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			i, g := blk/groups, blk%groups
			off := (i*c + g*cg) * s
			var wg, bg []float32
			if wd != nil {
				wg = wd[g*cg : (g+1)*cg]
			}
			if bd != nil {
				bg = bd[g*cg : (g+1)*cg]
			}
			ref.GroupNorm(out.f[off:off+cg*s], xd[off:off+cg*s], 1, cg, s, 1, wg, bg, eps)
		}
	})
	return out
}

func (b *Backend) Reduce(o backend.ReduceOp, x backend.Tensor) backend.Tensor {
	op := o.String()
	xs := get(op, x).shape
	if len(xs) == 0 {
		backend.Fail(op, "reduce of a scalar")
	}
	xd := f32(op, x)
	shape := slices.Clone(xs)
	shape[len(shape)-1] = 1
	out := newF32(shape)
	r, n := backend.Rows(xs)
	b.rowwise(r, n, func(lo, hi int) { ref.Reduce(o, out.f[lo:hi], xd[lo*n:hi*n], n) })
	return out
}

func (b *Backend) RoPE(x, cos, sin backend.Tensor) backend.Tensor {
	const op = "rope"
	xs, cs := get(op, x).shape, get(op, cos).shape
	batched := backend.RoPEShape(op, xs, cs, get(op, sin).shape)
	bb, h, l, d := xs[0], xs[1], xs[2], xs[3]
	xd, cd, sd := f32(op, x), f32(op, cos), f32(op, sin)
	out := newF32(xs)
	if b.reference {
		ref.RoPE(out.f, xd, cd, sd, bb, h, l, d, batched)
		return out
	}
	ops.Parallel(bb*h, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			bi := bh / h
			c, s := cd, sd
			if batched {
				c, s = cd[bi*l*d/2:(bi+1)*l*d/2], sd[bi*l*d/2:(bi+1)*l*d/2]
			}
			ref.RoPE(out.f[bh*l*d:(bh+1)*l*d], xd[bh*l*d:(bh+1)*l*d], c, s, 1, 1, l, d, false)
		}
	})
	return out
}

func (b *Backend) Attention(q, k, v backend.Tensor, opt backend.AttentionOptions) backend.Tensor {
	const op = "attention"
	qs, ks, vs := get(op, q).shape, get(op, k).shape, get(op, v).shape
	if len(qs) != 4 || len(ks) != 4 || len(vs) != 4 ||
		qs[0] != ks[0] || qs[1] != ks[1] || qs[3] != ks[3] ||
		vs[0] != ks[0] || vs[1] != ks[1] || vs[2] != ks[2] {
		backend.Fail(op, "q %v, k %v, v %v do not fit [B, H, L, D]", qs, ks, vs)
	}
	bb, h, lq, d := qs[0], qs[1], qs[2], qs[3]
	lk, dv := ks[2], vs[3]
	scale := opt.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(d)))
	}
	var bias []float32
	var bstr [4]int
	if opt.Bias != nil {
		bs := get(op, opt.Bias).shape
		full := []int{bb, h, lq, lk}
		if got, err := backend.Broadcast(bs, full); err != nil || !slices.Equal(got, full) {
			backend.Fail(op, "bias %v does not broadcast to %v", bs, full)
		}
		copy(bstr[:], backend.BroadcastStrides(bs, full))
		bias = f32(op, opt.Bias)
	}
	out := newF32([]int{bb, h, lq, dv})
	qd, kd, vd := f32(op, q), f32(op, k), f32(op, v)
	if b.reference {
		ref.Attention(out.f, qd, kd, vd, bb, h, lq, lk, d, dv, scale, opt.Causal, bias, bstr)
	} else {
		ops.Attention(out.f, qd, kd, vd, bb, h, lq, lk, d, dv, scale, opt.Causal, bias, bstr)
	}
	return out
}
