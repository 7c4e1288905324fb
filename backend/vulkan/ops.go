package vulkan

import (
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// maxRank is the number of dims the strided shaders (binary, copy) index.
const maxRank = 6

// collapse merges adjacent dims that every stride set walks contiguously
// (stride[i] = stride[i+1]·shape[i+1]) and drops dims of size 1, so that
// e.g. a same-shape binary op becomes one flat loop and a bias add two
// dims.
func collapse(shape []int, strides ...[]int) ([]int, [][]int) {
	var sh []int
	st := make([][]int, len(strides))
	for i, n := range shape {
		if n == 1 {
			continue
		}
		if k := len(sh) - 1; k >= 0 {
			merge := true
			for j, s := range strides {
				if st[j][k] != s[i]*n {
					merge = false
					break
				}
			}
			if merge {
				sh[k] *= n
				for j, s := range strides {
					st[j][k] = s[i]
				}
				continue
			}
		}
		sh = append(sh, n)
		for j, s := range strides {
			st[j] = append(st[j], s[i])
		}
	}
	return sh, st
}

// pushDims appends a rank, then shape and stride arrays padded to maxRank.
func pushDims(p push, op string, shape []int, strides ...[]int) push {
	if len(shape) > maxRank {
		unsupported(op, "%d dims after merging (the shaders index %d)", len(shape), maxRank)
	}
	p = p.u(len(shape))
	pad := func(v []int, fill int) {
		for i := range maxRank {
			if i < len(v) {
				p = p.u(v[i])
			} else {
				p = p.u(fill)
			}
		}
	}
	pad(shape, 1)
	for _, s := range strides {
		pad(s, 0)
	}
	return p
}

func (b *Backend) Binary(o backend.BinaryOp, x, y backend.Tensor) backend.Tensor {
	op := o.String()
	defer b.lock()()
	xt, yt := b.f32(op, x), b.f32(op, y)
	shape, err := backend.Broadcast(xt.shape, yt.shape)
	if err != nil {
		backend.Fail(op, "%v", err)
	}
	out := b.alloc(op, shape)
	n := backend.NumElements(shape)
	sh, st := collapse(shape, backend.BroadcastStrides(xt.shape, shape), backend.BroadcastStrides(yt.shape, shape))
	p := pushDims(push{}.u(n), op, sh, st[0], st[1])
	gx, gy := groups1D(n, 256)
	b.run(op, "binary", []arg{in(xt.h.st), in(yt.h.st), outArg(out)}, p, []uint32{uint32(o)}, gx, gy, 1)
	return out
}

func outArg(t *Tensor) arg { return out(t.h.st) }

// affineOp is the unary shader's OP for alpha·x + beta.
const affineOp = 100

func (b *Backend) unary(op string, code uint32, x backend.Tensor, alpha, beta float32) backend.Tensor {
	defer b.lock()()
	xt := b.f32(op, x)
	out := b.alloc(op, xt.shape)
	n := backend.NumElements(xt.shape)
	gx, gy := groups1D(n, 256)
	b.run(op, "unary", []arg{in(xt.h.st), outArg(out)}, push{}.u(n).f(alpha, beta), []uint32{code}, gx, gy, 1)
	return out
}

func (b *Backend) Unary(o backend.UnaryOp, x backend.Tensor) backend.Tensor {
	return b.unary(o.String(), uint32(o), x, 0, 0)
}

func (b *Backend) Affine(x backend.Tensor, alpha, beta float32) backend.Tensor {
	return b.unary("affine", affineOp, x, alpha, beta)
}

func (b *Backend) Cast(x backend.Tensor, dt dtype.DType) backend.Tensor {
	const op = "cast"
	defer b.lock()()
	t := b.get(op, x)
	if dt == t.dt {
		// A view, so that freeing the result leaves x alive.
		t.h.st.refs++
		return b.wrap(slices.Clone(t.shape), t.dt, t.h.st)
	}
	n := backend.NumElements(t.shape)
	switch {
	case dt == dtype.F32:
		_, suffix := b.weight(op, t)
		out := b.alloc(op, t.shape)
		gx, gy := groups1D(n, 256)
		b.run(op, "widen_"+suffix, []arg{in(t.h.st), outArg(out)}, push{}.u(n), nil, gx, gy, 1)
		return out
	case t.dt == dtype.F32 && (dt == dtype.F16 || dt == dtype.BF16):
		out := b.allocType(op, t.shape, dt)
		shader := "narrow_bf16"
		if dt == dtype.F16 {
			shader = "narrow_f16"
		}
		gx, gy := groups1D((n+1)/2, 256)
		b.run(op, shader, []arg{in(t.h.st), outArg(out)}, push{}.u(n), nil, gx, gy, 1)
		return out
	}
	backend.Fail(op, "cast %v to %v not supported", t.dt, dt)
	return nil
}

// vec checks an optional per-channel operand of n elements; it returns the
// storage to bind (fallback when absent, so the binding is valid) and
// whether it is present.
func (b *Backend) vec(op, name string, t backend.Tensor, n int, fallback *Tensor) (*storage, bool) {
	if t == nil {
		return fallback.h.st, false
	}
	vt := b.f32(op, t)
	if backend.NumElements(vt.shape) != n {
		backend.Fail(op, "%s has shape %v, want %d elements", name, vt.shape, n)
	}
	return vt.h.st, true
}

// rowKernel dispatches one workgroup per row.
func (b *Backend) rowKernel(op, shader string, args []arg, p push, spec []uint32, nrows int) {
	gx, gy := groups1D(nrows, 1)
	b.run(op, shader, args, p, spec, gx, gy, 1)
}

func (b *Backend) Softmax(x backend.Tensor) backend.Tensor {
	const op = "softmax"
	defer b.lock()()
	xt := b.f32(op, x)
	out := b.alloc(op, xt.shape)
	r, n := backend.Rows(xt.shape)
	if n > 0 {
		b.rowKernel(op, "softmax", []arg{in(xt.h.st), outArg(out)}, push{}.u(r, n), nil, r)
	}
	return out
}

func (b *Backend) LayerNorm(x, w, bias backend.Tensor, eps float32) backend.Tensor {
	const op = "layernorm"
	defer b.lock()()
	xt := b.f32(op, x)
	r, n := backend.Rows(xt.shape)
	ws, hasW := b.vec(op, "weight", w, n, xt)
	bs, hasB := b.vec(op, "bias", bias, n, xt)
	out := b.alloc(op, xt.shape)
	if n > 0 {
		b.rowKernel(op, "layernorm", []arg{in(xt.h.st), in(ws), in(bs), outArg(out)},
			push{}.u(r, n).f(eps), []uint32{boolSpec(hasW), boolSpec(hasB)}, r)
	}
	return out
}

func (b *Backend) RMSNorm(x, w backend.Tensor, eps float32) backend.Tensor {
	const op = "rmsnorm"
	defer b.lock()()
	xt := b.f32(op, x)
	r, n := backend.Rows(xt.shape)
	ws, hasW := b.vec(op, "weight", w, n, xt)
	out := b.alloc(op, xt.shape)
	if n > 0 {
		b.rowKernel(op, "rmsnorm", []arg{in(xt.h.st), in(ws), outArg(out)}, push{}.u(r, n).f(eps),
			[]uint32{boolSpec(hasW)}, r)
	}
	return out
}

func (b *Backend) GroupNorm(x backend.Tensor, groups int, w, bias backend.Tensor, eps float32) backend.Tensor {
	const op = "groupnorm"
	defer b.lock()()
	xt := b.f32(op, x)
	xs := xt.shape
	if len(xs) < 2 || groups <= 0 || xs[1]%groups != 0 {
		backend.Fail(op, "%d groups for shape %v", groups, xs)
	}
	n, c := xs[0], xs[1]
	s := backend.NumElements(xs[2:])
	ws, hasW := b.vec(op, "weight", w, c, xt)
	bs, hasB := b.vec(op, "bias", bias, c, xt)
	out := b.alloc(op, xs)
	if c*s > 0 {
		b.rowKernel(op, "groupnorm", []arg{in(xt.h.st), in(ws), in(bs), outArg(out)},
			push{}.u(n*groups, groups, c/groups, s).f(eps), []uint32{boolSpec(hasW), boolSpec(hasB)}, n*groups)
	}
	return out
}

func (b *Backend) Reduce(o backend.ReduceOp, x backend.Tensor) backend.Tensor {
	op := o.String()
	defer b.lock()()
	xt := b.f32(op, x)
	if len(xt.shape) == 0 {
		backend.Fail(op, "reduce of a scalar")
	}
	shape := slices.Clone(xt.shape)
	shape[len(shape)-1] = 1
	out := b.alloc(op, shape)
	r, n := backend.Rows(xt.shape)
	if n == 0 {
		// the empty sum is 0, the empty mean NaN, the empty max -inf, as ops/ref
		v := float32(0)
		switch o {
		case backend.Mean:
			v = float32(math.NaN())
		case backend.ReduceMax:
			v = float32(math.Inf(-1))
		}
		b.fill(op, out, v)
		return out
	}
	b.rowKernel(op, "reduce", []arg{in(xt.h.st), outArg(out)}, push{}.u(r, n), []uint32{uint32(o)}, r)
	return out
}

func (b *Backend) RoPE(x, cos, sin backend.Tensor) backend.Tensor {
	const op = "rope"
	defer b.lock()()
	xt, ct, st := b.f32(op, x), b.f32(op, cos), b.f32(op, sin)
	xs, cs := xt.shape, ct.shape
	batched := backend.RoPEShape(op, xs, cs, st.shape)
	bb, h, l, d := xs[0], xs[1], xs[2], xs[3]
	out := b.alloc(op, xs)
	pairs := bb * h * l * d / 2
	if pairs > 0 {
		gx, gy := groups1D(pairs, 256)
		b.run(op, "rope", []arg{in(xt.h.st), in(ct.h.st), in(st.h.st), outArg(out)},
			push{}.u(pairs, h*l, l, d/2, int(boolSpec(batched))), nil, gx, gy, 1)
	}
	return out
}

// attentionMaxHead is DMAX of shaders/attention.comp.
const (
	attentionMaxHead = 128
	attentionQueries = 16 // TQ of shaders/attention.comp
)

func (b *Backend) Attention(q, k, v backend.Tensor, opt backend.AttentionOptions) backend.Tensor {
	const op = "attention"
	defer b.lock()()
	qt, kt, vt := b.f32(op, q), b.f32(op, k), b.f32(op, v)
	qs, ks, vs := qt.shape, kt.shape, vt.shape
	if len(qs) != 4 || len(ks) != 4 || len(vs) != 4 ||
		qs[0] != ks[0] || qs[1] != ks[1] || qs[3] != ks[3] ||
		vs[0] != ks[0] || vs[1] != ks[1] || vs[2] != ks[2] {
		backend.Fail(op, "q %v, k %v, v %v do not fit [B, H, L, D]", qs, ks, vs)
	}
	bb, h, lq, d := qs[0], qs[1], qs[2], qs[3]
	lk, dv := ks[2], vs[3]
	if d > attentionMaxHead || dv > attentionMaxHead {
		unsupported(op, "head dims %d, %d (the shader holds at most %d)", d, dv, attentionMaxHead)
	}
	scale := opt.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(d)))
	}
	biasSt := qt.h.st
	var bstr [4]int
	if opt.Bias != nil {
		bt := b.f32(op, opt.Bias)
		full := []int{bb, h, lq, lk}
		if got, err := backend.Broadcast(bt.shape, full); err != nil || !slices.Equal(got, full) {
			backend.Fail(op, "bias %v does not broadcast to %v", bt.shape, full)
		}
		copy(bstr[:], backend.BroadcastStrides(bt.shape, full))
		biasSt = bt.h.st
	}
	out := b.alloc(op, []int{bb, h, lq, dv})
	if bb*h*lq == 0 || dv == 0 {
		return out
	}
	if bb*h > 65535 {
		unsupported(op, "%d batch·heads (one workgroup row each, at most 65535)", bb*h)
	}
	p := push{}.u(h, lq, lk, d, dv).f(scale).u(bstr[:]...)
	spec := []uint32{boolSpec(opt.Bias != nil), boolSpec(opt.Causal)}
	b.run(op, "attention", []arg{in(qt.h.st), in(kt.h.st), in(vt.h.st), in(biasSt), outArg(out)}, p, spec,
		uint32((lq+attentionQueries-1)/attentionQueries), uint32(bb*h), 1)
	return out
}
