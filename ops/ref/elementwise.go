package ref

import (
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
)

// UnaryFunc returns the scalar function of op, computed in float64.
func UnaryFunc(op backend.UnaryOp) func(float64) float64 {
	switch op {
	case backend.SiLU:
		return func(x float64) float64 { return x / (1 + math.Exp(-x)) }
	case backend.GELUTanh:
		return func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}
	case backend.GELUErf:
		return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	case backend.QuickGELU:
		return func(x float64) float64 { return x / (1 + math.Exp(-1.702*x)) }
	case backend.Sigmoid:
		return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	case backend.ReLU:
		return func(x float64) float64 { return math.Max(x, 0) }
	case backend.Tanh:
		return math.Tanh
	case backend.Exp:
		return math.Exp
	case backend.Sqrt:
		return math.Sqrt
	case backend.Neg:
		return func(x float64) float64 { return -x }
	case backend.Abs:
		return math.Abs
	case backend.Square:
		return func(x float64) float64 { return x * x }
	case backend.Recip:
		return func(x float64) float64 { return 1 / x }
	}
	panic("ref: unknown unary op")
}

// Unary applies op to every element.
func Unary(op backend.UnaryOp, dst, src []float32) {
	f := UnaryFunc(op)
	for i, x := range src {
		dst[i] = float32(f(float64(x)))
	}
}

// BinaryFunc returns the float32 scalar function of op.
func BinaryFunc(op backend.BinaryOp) func(a, b float32) float32 {
	switch op {
	case backend.Add:
		return func(a, b float32) float32 { return a + b }
	case backend.Sub:
		return func(a, b float32) float32 { return a - b }
	case backend.Mul:
		return func(a, b float32) float32 { return a * b }
	case backend.Div:
		return func(a, b float32) float32 { return a / b }
	case backend.Max:
		return func(a, b float32) float32 {
			if a != a || a > b {
				return a
			}
			return b
		}
	case backend.Min:
		return func(a, b float32) float32 {
			if a != a || a < b {
				return a
			}
			return b
		}
	}
	panic("ref: unknown binary op")
}

// Binary computes dst = op(a, b) with NumPy broadcasting to shape out.
func Binary(op backend.BinaryOp, dst []float32, out []int, a []float32, as []int, b []float32, bs []int) {
	f := BinaryFunc(op)
	sa := backend.BroadcastStrides(as, out)
	sb := backend.BroadcastStrides(bs, out)
	idx := make([]int, len(out))
	for i := range dst {
		ia, ib := 0, 0
		for d := range out {
			ia += idx[d] * sa[d]
			ib += idx[d] * sb[d]
		}
		dst[i] = f(a[ia], b[ib])
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// Affine computes dst = alpha·src + beta.
func Affine(dst, src []float32, alpha, beta float32) {
	for i, x := range src {
		dst[i] = alpha*x + beta
	}
}
