package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
)

// maxHostElements bounds any tensor the host ops create: they exist for
// shape arithmetic, so a larger result means a corrupt or misused graph
// (and must not exhaust memory).
const maxHostElements = 1 << 22

func checkHostSize(shape []int) error {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > maxHostElements/d) {
			return fmt.Errorf("host tensor of shape %v is too large (shape arithmetic only)", shape)
		}
		n *= d
	}
	return nil
}

// hostTensor is a small tensor computed on the host: integers (shapes,
// indices) in i, or floats in f.
type hostTensor struct {
	shape []int
	float bool
	i     []int64
	f     []float32
}

func (h *hostTensor) len() int {
	if h.float {
		return len(h.f)
	}
	return len(h.i)
}

func (h *hostTensor) floats() []float32 {
	if h.float {
		return h.f
	}
	out := make([]float32, len(h.i))
	for k, v := range h.i {
		out[k] = float32(v)
	}
	return out
}

// ints returns the elements as integers; floats must be integral.
func (h *hostTensor) ints() ([]int64, error) {
	if !h.float {
		return h.i, nil
	}
	out := make([]int64, len(h.f))
	for k, v := range h.f {
		if v != float32(math.Trunc(float64(v))) {
			return nil, fmt.Errorf("value %g is not an integer", v)
		}
		out[k] = int64(v)
	}
	return out, nil
}

// gather builds a tensor of the given shape whose element k is element
// src(k) of h: the one copy loop behind the host layout ops.
func (h *hostTensor) gather(shape []int, src func(k int) int) *hostTensor {
	n := backend.NumElements(shape)
	out := &hostTensor{shape: slices.Clone(shape), float: h.float}
	if h.float {
		out.f = make([]float32, n)
		for k := range n {
			out.f[k] = h.f[src(k)]
		}
	} else {
		out.i = make([]int64, n)
		for k := range n {
			out.i[k] = h.i[src(k)]
		}
	}
	return out
}

// unravel writes the multi-index of flat position k in shape into idx.
func unravel(k int, shape, idx []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = k % shape[d]
			k /= shape[d]
		}
	}
}

func (h *hostTensor) reshape(shape []int) *hostTensor {
	out := *h
	out.shape = slices.Clone(shape)
	return &out
}

func (h *hostTensor) permute(perm []int) *hostTensor {
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = h.shape[p]
	}
	strides := backend.Strides(h.shape)
	idx := make([]int, len(perm))
	return h.gather(shape, func(k int) int {
		unravel(k, shape, idx)
		s := 0
		for i, p := range perm {
			s += idx[i] * strides[p]
		}
		return s
	})
}

// slice keeps start, start+step, ... along axis (step may be negative;
// count is the number of kept indices).
func (h *hostTensor) slice(axis, start, step, count int) *hostTensor {
	shape := slices.Clone(h.shape)
	shape[axis] = count
	strides := backend.Strides(h.shape)
	idx := make([]int, len(shape))
	return h.gather(shape, func(k int) int {
		unravel(k, shape, idx)
		s := 0
		for d := range shape {
			i := idx[d]
			if d == axis {
				i = start + i*step
			}
			s += i * strides[d]
		}
		return s
	})
}

func hostConcat(axis int, parts []*hostTensor) *hostTensor {
	shape := slices.Clone(parts[0].shape)
	shape[axis] = 0
	float := false
	for _, p := range parts {
		shape[axis] += p.shape[axis]
		float = float || p.float
	}
	outer := backend.NumElements(shape[:axis])
	inner := backend.NumElements(shape[axis+1:])
	out := &hostTensor{shape: shape, float: float}
	for o := range outer {
		for _, p := range parts {
			run := p.shape[axis] * inner
			if float {
				out.f = append(out.f, p.floats()[o*run:(o+1)*run]...)
			} else {
				out.i = append(out.i, p.i[o*run:(o+1)*run]...)
			}
		}
	}
	return out
}

// hostBinary applies an elementwise op with NumPy broadcasting, in int64
// when both operands are integers (shape arithmetic) and float32 otherwise.
func hostBinary(op string, a, b *hostTensor) (*hostTensor, error) {
	shape, err := backend.Broadcast(a.shape, b.shape)
	if err != nil {
		return nil, err
	}
	if err := checkHostSize(shape); err != nil {
		return nil, err
	}
	sa, sb := backend.BroadcastStrides(a.shape, shape), backend.BroadcastStrides(b.shape, shape)
	n := backend.NumElements(shape)
	idx := make([]int, len(shape))
	at := func(k int, strides []int) int {
		unravel(k, shape, idx)
		s := 0
		for d := range shape {
			s += idx[d] * strides[d]
		}
		return s
	}
	out := &hostTensor{shape: shape}
	if !a.float && !b.float {
		out.i = make([]int64, n)
		for k := range n {
			x, y := a.i[at(k, sa)], b.i[at(k, sb)]
			switch op {
			case "Add":
				out.i[k] = x + y
			case "Sub":
				out.i[k] = x - y
			case "Mul":
				out.i[k] = x * y
			case "Div":
				if y == 0 {
					return nil, fmt.Errorf("integer division by zero")
				}
				out.i[k] = x / y // C-style truncation, as onnxruntime
			case "Max":
				out.i[k] = max(x, y)
			case "Min":
				out.i[k] = min(x, y)
			default:
				return nil, fmt.Errorf("host %s of integers is not supported", op)
			}
		}
		return out, nil
	}
	out.float = true
	af, bf := a.floats(), b.floats()
	out.f = make([]float32, n)
	for k := range n {
		x, y := af[at(k, sa)], bf[at(k, sb)]
		switch op {
		case "Add":
			out.f[k] = x + y
		case "Sub":
			out.f[k] = x - y
		case "Mul":
			out.f[k] = x * y
		case "Div":
			out.f[k] = x / y
		case "Max":
			out.f[k] = max(x, y)
		case "Min":
			out.f[k] = min(x, y)
		default:
			return nil, fmt.Errorf("host %s is not supported", op)
		}
	}
	return out, nil
}
