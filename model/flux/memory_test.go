package flux_test

import (
	"slices"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
)

// shapeWatch is a backend that fails the test when an op produces a tensor
// with two token-sized dims: a forward pass must never build an L×L matrix
// (attention keeps one row of scores per worker inside the backend).
type shapeWatch struct {
	backend.Backend
	t      *testing.T
	tokens []int
}

func (w shapeWatch) check(op string, x backend.Tensor) backend.Tensor {
	n := 0
	for _, d := range x.Shape() {
		if slices.Contains(w.tokens, d) {
			n++
		}
	}
	if n >= 2 {
		w.t.Errorf("%s produced %v: quadratic in the sequence length", op, x.Shape())
	}
	return x
}

func (w shapeWatch) MatMul(a, b backend.Tensor) backend.Tensor {
	return w.check("matmul", w.Backend.MatMul(a, b))
}
func (w shapeWatch) Linear(x, wt, b backend.Tensor) backend.Tensor {
	return w.check("linear", w.Backend.Linear(x, wt, b))
}
func (w shapeWatch) Binary(op backend.BinaryOp, a, b backend.Tensor) backend.Tensor {
	return w.check(op.String(), w.Backend.Binary(op, a, b))
}
func (w shapeWatch) Softmax(x backend.Tensor) backend.Tensor {
	return w.check("softmax", w.Backend.Softmax(x))
}
func (w shapeWatch) Attention(q, k, v backend.Tensor, o backend.AttentionOptions) backend.Tensor {
	return w.check("attention", w.Backend.Attention(q, k, v, o))
}
func (w shapeWatch) Permute(x backend.Tensor, p ...int) backend.Tensor {
	return w.check("permute", w.Backend.Permute(x, p...))
}
func (w shapeWatch) Reshape(x backend.Tensor, s ...int) backend.Tensor {
	return w.check("reshape", w.Backend.Reshape(x, s...))
}
func (w shapeWatch) Concat(axis int, ts ...backend.Tensor) backend.Tensor {
	return w.check("concat", w.Backend.Concat(axis, ts...))
}

// TestNoQuadraticTensors runs the tiny model on a 9×7-patch image with 7
// text tokens (63 and 70 tokens: sizes no model width has) and watches
// every op's output shape.
func TestNoQuadraticTensors(t *testing.T) {
	w := shapeWatch{Backend: cpu.New(), t: t, tokens: []int{63, 70}}
	m, in := tinyModel(t, w)
	const rows, cols = 9, 7
	li := rows * cols
	in.Img = w.Zeros([]int{1, li, 64})
	in.ImgIDs = make([]float32, 0, 3*li)
	for r := range rows {
		for c := range cols {
			in.ImgIDs = append(in.ImgIDs, 0, float32(r), float32(c))
		}
	}
	if _, err := m.Forward(w, in); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkForwardTiny times one forward of the golden tiny model with
// PuLID on (16 image + 7 text tokens).
func BenchmarkForwardTiny(b *testing.B) {
	be := cpu.New()
	m, in := tinyModel(b, be)
	b.ResetTimer()
	for b.Loop() {
		out, err := m.Forward(be, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := be.ReadF32(out); err != nil {
			b.Fatal(err)
		}
	}
}
