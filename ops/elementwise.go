package ops

import (
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/ops/ref"
)

// Unary applies op elementwise; callers parallelise over ranges. SiLU,
// GELU (tanh form) and exp use the vectorised exp (exp.go: exp within
// 1 ulp, SiLU 2 ulp, GELU 14 ulp for x ≥ −3 and a relative 4·|u|·2⁻²⁴
// below, as measured by exp_test.go); the other ops use the reference's
// float64 functions rounded once.
func Unary(op backend.UnaryOp, dst, src []float32) {
	switch op {
	case backend.SiLU:
		siluF32(dst, src)
	case backend.GELUTanh:
		geluTanhF32(dst, src)
	case backend.Exp:
		expF32(dst, src)
	default:
		ref.Unary(op, dst, src)
	}
}

// Binary computes dst = op(a, b) broadcast to shape out, in parallel. The
// common model cases (equal shapes; b repeating along leading dims, as a
// bias or a per-sample modulation) run loops specialised per op, with no
// per-element index arithmetic or function call.
func Binary(op backend.BinaryOp, dst []float32, out []int, a []float32, as []int, b []float32, bs []int) {
	if binaryFast(op, dst, out, a, as, b, bs, true) {
		return
	}
	// general broadcast: split along the outermost dim, each slab taking
	// a fast path where its shapes allow (a [B,1,D] modulation times a
	// [B,L,D] stream becomes B row-broadcasts)
	if len(out) == 0 || out[0] <= 1 {
		ref.Binary(op, dst, out, a, as, b, bs)
		return
	}
	inner := backend.NumElements(out[1:])
	sa := backend.BroadcastStrides(as, out)[0]
	sb := backend.BroadcastStrides(bs, out)[0]
	subA, subB := subShape(as, len(out)), subShape(bs, len(out))
	na, nb := backend.NumElements(subA), backend.NumElements(subB)
	Parallel(out[0], 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d, x, y := dst[i*inner:(i+1)*inner], a[i*sa:i*sa+na], b[i*sb:i*sb+nb]
			if !binaryFast(op, d, out[1:], x, subA, y, subB, false) {
				ref.Binary(op, d, out[1:], x, subA, y, subB)
			}
		}
	})
}

// binaryFast handles the shapes models use most without per-element index
// arithmetic: equal shapes, and one operand repeating with the period of
// its own size along the leading dims (a bias, a per-sample modulation).
// It reports whether it did.
func binaryFast(op backend.BinaryOp, dst []float32, out []int, a []float32, as []int, b []float32, bs []int, parallel bool) bool {
	rows := func(n, grain int, fn func(lo, hi int)) {
		if parallel {
			Parallel(n, grain, fn)
		} else {
			fn(0, n)
		}
	}
	n := len(dst)
	switch {
	case slices.Equal(as, out) && slices.Equal(bs, out):
		rows(n, 1<<14, func(lo, hi int) { binaryLoop(op, dst[lo:hi], a[lo:hi], b[lo:hi]) })
	case slices.Equal(as, out) && len(b) > 0 && isSuffixBroadcast(bs, out):
		p := len(b)
		rows(n/p, max(1, (1<<14)/p), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				binaryLoop(op, dst[r*p:(r+1)*p], a[r*p:(r+1)*p], b)
			}
		})
	case slices.Equal(bs, out) && len(a) > 0 && isSuffixBroadcast(as, out):
		p := len(a)
		rows(n/p, max(1, (1<<14)/p), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				binaryLoop(op, dst[r*p:(r+1)*p], a, b[r*p:(r+1)*p])
			}
		})
	default:
		return false
	}
	return true
}

// binaryLoop computes dst[i] = op(a[i], b[i]) with the same float32
// operations as ref.BinaryFunc (so results are bitwise equal).
func binaryLoop(op backend.BinaryOp, dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	switch op {
	case backend.Add:
		for i := range dst {
			dst[i] = a[i] + b[i]
		}
	case backend.Sub:
		for i := range dst {
			dst[i] = a[i] - b[i]
		}
	case backend.Mul:
		for i := range dst {
			dst[i] = a[i] * b[i]
		}
	case backend.Div:
		for i := range dst {
			dst[i] = a[i] / b[i]
		}
	default:
		f := ref.BinaryFunc(op)
		for i := range dst {
			dst[i] = f(a[i], b[i])
		}
	}
}

// isSuffixBroadcast reports whether s equals out's trailing dims after
// dropping leading ones (so the data repeats with period NumElements(s)).
func isSuffixBroadcast(s, out []int) bool {
	i := 0
	for i < len(s) && s[i] == 1 {
		i++
	}
	rest := s[i:]
	return len(rest) <= len(out) && slices.Equal(rest, out[len(out)-len(rest):])
}

// subShape drops the outermost of rank dims from s (left-padded with ones).
func subShape(s []int, rank int) []int {
	full := make([]int, rank)
	for i := range full {
		full[i] = 1
	}
	copy(full[rank-len(s):], s)
	return full[1:]
}

// Softmax normalises each row of n elements of src into dst:
// e^(x−max)/Σe^(x−max), with the vectorised exp (within 1 ulp of exp of
// the float32 difference) and a float32 sum; callers parallelise over rows.
func Softmax(dst, src []float32, n int) {
	if n == 0 {
		return
	}
	for r := 0; r+n <= len(src); r += n {
		row := dst[r : r+n]
		copy(row, src[r:r+n])
		m := scaleMax(row, 1)
		inv := 1 / expSubSum(row, m)
		for i := range row {
			row[i] *= inv
		}
	}
}
