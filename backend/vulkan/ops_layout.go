package vulkan

import (
	"encoding/binary"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// copyView records dst[do + Σ i·ds] = src[so + Σ i·ss] over shape.
func (b *Backend) copyView(op string, src, dst *Tensor, shape, ss, ds []int, so, do int) {
	n := backend.NumElements(shape)
	if n == 0 {
		return
	}
	sh, st := collapse(shape, ss, ds)
	p := pushDims(push{}.u(n), op, sh, st[0], st[1]).u(so, do)
	gx, gy := groups1D(n, 256)
	b.run(op, "copy", []arg{in(src.h.st), outArg(dst)}, p, nil, gx, gy, 1)
}

func (b *Backend) Permute(x backend.Tensor, perm ...int) backend.Tensor {
	const op = "permute"
	defer b.lock()()
	t := b.f32(op, x)
	if len(perm) != len(t.shape) {
		backend.Fail(op, "perm %v for rank %d", perm, len(t.shape))
	}
	seen := make([]bool, len(perm))
	shape := make([]int, len(perm))
	ss := make([]int, len(perm))
	st := backend.Strides(t.shape)
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			backend.Fail(op, "invalid permutation %v", perm)
		}
		seen[p] = true
		shape[i] = t.shape[p]
		ss[i] = st[p]
	}
	out := b.alloc(op, shape)
	b.copyView(op, t, out, shape, ss, backend.Strides(shape), 0, 0)
	return out
}

func (b *Backend) Concat(axis int, ts ...backend.Tensor) backend.Tensor {
	const op = "concat"
	defer b.lock()()
	parts := make([]*Tensor, len(ts))
	shapes := make([][]int, len(ts))
	for i, t := range ts {
		parts[i] = b.f32(op, t)
		shapes[i] = parts[i].shape
	}
	axis, shape := backend.ConcatShape(op, axis, shapes...)
	out := b.alloc(op, shape)
	ds := backend.Strides(shape)
	off := 0
	for _, p := range parts {
		b.copyView(op, p, out, p.shape, backend.Strides(p.shape), ds, 0, off*ds[axis])
		off += p.shape[axis]
	}
	return out
}

func (b *Backend) Slice(x backend.Tensor, axis, start, end, step int) backend.Tensor {
	const op = "slice"
	defer b.lock()()
	t := b.f32(op, x)
	axis, shape := backend.SliceShape(op, t.shape, axis, start, end, step)
	out := b.alloc(op, shape)
	ss := backend.Strides(t.shape)
	so := start * ss[axis]
	ss[axis] *= step
	b.copyView(op, t, out, shape, ss, backend.Strides(shape), so, 0)
	return out
}

func (b *Backend) Pad(x backend.Tensor, before, after []int, value float32) backend.Tensor {
	const op = "pad"
	defer b.lock()()
	t := b.f32(op, x)
	shape := backend.PadShape(op, t.shape, before, after)
	rank := len(t.shape)
	out := b.alloc(op, shape)
	// The kept part of x: negative pads crop it.
	view := make([]int, rank)
	ss, ds := backend.Strides(t.shape), backend.Strides(shape)
	so, do := 0, 0
	covers := true
	for i := range rank {
		s0, d0 := max(0, -before[i]), max(0, before[i])
		view[i] = max(t.shape[i]-s0-max(0, -after[i]), 0)
		so += s0 * ss[i]
		do += d0 * ds[i]
		covers = covers && view[i] == shape[i]
	}
	if !covers {
		b.fill(op, out, value)
	}
	b.copyView(op, t, out, view, ss, ds, so, do)
	return out
}

func (b *Backend) TakeRows(table backend.Tensor, ids []int32) backend.Tensor {
	const op = "take_rows"
	defer b.lock()()
	t, suffix := b.weight(op, table)
	if len(t.shape) != 2 {
		backend.Fail(op, "table must be a 2-D float tensor, got %v %v", t.dt, t.shape)
	}
	rowsN, d := t.shape[0], t.shape[1]
	raw := make([]byte, 4*len(ids))
	for i, id := range ids {
		if id < 0 || int(id) >= rowsN {
			backend.Fail(op, "id %d out of range [0, %d)", id, rowsN)
		}
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(id))
	}
	out := b.alloc(op, []int{len(ids), d})
	n := len(ids) * d
	if n == 0 {
		return out
	}
	idt := b.allocType(op, []int{len(ids)}, dtype.F32) // 32-bit words holding the ids
	if err := b.d.upload(idt.h.st, raw); err != nil {
		backend.Fail(op, "%v", err)
	}
	gx, gy := groups1D(n, 256)
	b.run(op, "take_rows_"+suffix, []arg{in(t.h.st), in(idt.h.st), outArg(out)}, push{}.u(n, d), nil, gx, gy, 1)
	idt.h.freed = true
	b.d.release(idt.h.st)
	return out
}
