// Package nn composes the backend's primitive ops into the vocabulary
// model code is written in: named elementwise ops, splitting, and the
// common layers (Linear, LayerNorm, Conv2D) loaded by checkpoint name.
package nn

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/weights"
)

type Tensor = backend.Tensor

// Ops is a backend with named shorthands, so model code reads like the
// reference: o.Add(x, o.Mul(gate, y)).
type Ops struct{ backend.Backend }

func (o Ops) Add(a, b Tensor) Tensor { return o.Binary(backend.Add, a, b) }
func (o Ops) Sub(a, b Tensor) Tensor { return o.Binary(backend.Sub, a, b) }
func (o Ops) Mul(a, b Tensor) Tensor { return o.Binary(backend.Mul, a, b) }
func (o Ops) Div(a, b Tensor) Tensor { return o.Binary(backend.Div, a, b) }

func (o Ops) SiLU(x Tensor) Tensor             { return o.Unary(backend.SiLU, x) }
func (o Ops) GELU(x Tensor) Tensor             { return o.Unary(backend.GELUTanh, x) }
func (o Ops) GELUErf(x Tensor) Tensor          { return o.Unary(backend.GELUErf, x) }
func (o Ops) Sigmoid(x Tensor) Tensor          { return o.Unary(backend.Sigmoid, x) }
func (o Ops) ReLU(x Tensor) Tensor             { return o.Unary(backend.ReLU, x) }
func (o Ops) Scale(x Tensor, s float32) Tensor { return o.Affine(x, s, 0) }

// AddScaled returns x + s·y.
func (o Ops) AddScaled(x Tensor, s float32, y Tensor) Tensor { return o.Add(x, o.Affine(y, s, 0)) }

// Split cuts x along axis into pieces of the given sizes.
func (o Ops) Split(x Tensor, axis int, sizes ...int) []Tensor {
	axis = backend.Axis("split", axis, len(x.Shape()))
	out := make([]Tensor, len(sizes))
	at := 0
	for i, n := range sizes {
		out[i] = o.Slice(x, axis, at, at+n, 1)
		at += n
	}
	if at != x.Shape()[axis] {
		backend.Fail("split", "sizes %v do not add up to dim %d of %v", sizes, axis, x.Shape())
	}
	return out
}

// Chunk cuts x along axis into n equal pieces (torch.chunk for divisible sizes).
func (o Ops) Chunk(x Tensor, n, axis int) []Tensor {
	axis = backend.Axis("chunk", axis, len(x.Shape()))
	d := x.Shape()[axis]
	if n <= 0 || d%n != 0 {
		backend.Fail("chunk", "dim %d of %v does not split into %d", axis, x.Shape(), n)
	}
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = d / n
	}
	return o.Split(x, axis, sizes...)
}

// Transpose swaps two dims.
func (o Ops) Transpose(x Tensor, a, b int) Tensor {
	r := len(x.Shape())
	a, b = backend.Axis("transpose", a, r), backend.Axis("transpose", b, r)
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[a], perm[b] = perm[b], perm[a]
	return o.Permute(x, perm...)
}

// Linear is torch.nn.Linear: y = x·Wᵀ + b.
type Linear struct {
	Weight, Bias Tensor // Bias may be nil
}

// LoadLinear loads name.weight [out, in] and, if present or required,
// name.bias [out].
func LoadLinear(l *weights.Loader, name string, in, out int, bias bool) Linear {
	m := Linear{Weight: l.Weight(name+".weight", out, in)}
	if bias {
		m.Bias = l.F32(name+".bias", out)
	}
	return m
}

func (m Linear) Forward(o Ops, x Tensor) Tensor { return o.Linear(x, m.Weight, m.Bias) }

// LayerNorm is torch.nn.LayerNorm over the last dim.
type LayerNorm struct {
	Weight, Bias Tensor // nil without elementwise affine
	Eps          float32
}

// LoadLayerNorm loads name.weight and name.bias of length n.
func LoadLayerNorm(l *weights.Loader, name string, n int, eps float32) LayerNorm {
	return LayerNorm{Weight: l.F32(name+".weight", n), Bias: l.F32(name+".bias", n), Eps: eps}
}

func (m LayerNorm) Forward(o Ops, x Tensor) Tensor { return o.LayerNorm(x, m.Weight, m.Bias, m.Eps) }

// Conv2D is torch.nn.Conv2d.
type Conv2D struct {
	Weight, Bias Tensor
	Opt          backend.ConvOptions
}

// LoadConv2D loads name.weight [out, in/groups, k, k] and name.bias [out]
// (if bias), with symmetric padding pad.
func LoadConv2D(l *weights.Loader, name string, in, out, k, stride, pad int, bias bool) Conv2D {
	m := Conv2D{
		Weight: l.Weight(name+".weight", out, in, k, k),
		Opt:    backend.ConvOptions{Stride: [2]int{stride, stride}, Pad: [4]int{pad, pad, pad, pad}},
	}
	if bias {
		m.Bias = l.F32(name+".bias", out)
	}
	return m
}

func (m Conv2D) Forward(o Ops, x Tensor) Tensor { return o.Conv2D(x, m.Weight, m.Bias, m.Opt) }
