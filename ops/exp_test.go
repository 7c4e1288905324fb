package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is the distance between two float32 in units in the last place
// (the number of representable floats between them).
func ulps(a, b float32) int64 {
	if a == b {
		return 0
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 != (ib < 0x80000000) {
		// opposite signs: distance through zero
		return (ia & 0x7fffffff) + (ib & 0x7fffffff)
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// sweep returns n evenly spaced points of [lo, hi] and n random ones.
func sweep(lo, hi float64, n int) []float32 {
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float32, 0, 2*n+3)
	for i := range n {
		x = append(x, float32(lo+(hi-lo)*float64(i)/float64(n-1)))
		x = append(x, float32(lo+(hi-lo)*rng.Float64()))
	}
	return append(x, 0, float32(math.Copysign(0, -1)), 1e-30)
}

// maxULP applies f to xs and returns the largest ulp distance from
// want's float64 values rounded once, and where it occurred. Results of
// magnitude below tiny (where the kernels may flush to 0) count as exact
// when got is within tiny of want.
func maxULP(f func(dst, src []float32), want func(float64) float64, xs []float32) (int64, float32) {
	const tiny = 1e-30
	got := make([]float32, len(xs))
	f(got, xs)
	var worst int64
	var at float32
	for i, x := range xs {
		w := want(float64(x))
		d := ulps(got[i], float32(w))
		if math.Abs(w) < tiny && math.Abs(float64(got[i])-w) < tiny {
			d = 0
		}
		if d > worst {
			worst, at = d, x
		}
	}
	return worst, at
}

// TestExpAccuracy bounds the vectorised exp's error: at most 2 ulp from
// the correctly rounded result over the whole range of normal results
// (Cephes' expf is documented at about 1 ulp), 0 below it.
func TestExpAccuracy(t *testing.T) {
	xs := sweep(-87.3, 88.3, 200001)
	worst, at := maxULP(expF32, math.Exp, xs)
	t.Logf("exp: max error %d ulp (at x = %v), simd %v", worst, at, simdExp)
	if worst > 2 {
		t.Errorf("exp: %d ulp at x = %v, want ≤ 2", worst, at)
	}
	in := []float32{0, float32(math.Inf(-1)), -100, float32(math.NaN()), 1, 100, float32(math.Inf(1)), -1}
	got := make([]float32, len(in))
	expF32(got, in)
	if got[0] != 1 || got[1] != 0 || got[2] > 1e-37 || got[3] == got[3] || got[4] != float32(math.E) ||
		!math.IsInf(float64(got[5]), 1) || !math.IsInf(float64(got[6]), 1) || got[7] != float32(1/math.E) {
		t.Errorf("exp(0, −∞, −100, NaN, 1, 100, +∞, −1) = %v, want 1, 0, ~0, NaN, e, +∞, +∞, 1/e", got)
	}
}

// TestActivationAccuracy bounds SiLU and GELU (tanh form), computed as
// x/(1+e^−u): the exp's 2 ulp plus the argument's and the division's
// roundings, amplified where e^−u is large relative to 1.
func TestActivationAccuracy(t *testing.T) {
	xs := sweep(-20, 20, 100001)
	for _, tc := range []struct {
		name  string
		f     func(dst, src []float32)
		want  func(float64) float64
		bound int64
	}{
		{"silu", siluF32, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, 4},
		// float32 rounding of the argument u = 2√(2/π)·x(1+0.044715x²)
		// (a few ulp) becomes a relative error of about |u|·2⁻²³ in
		// e^−u, which dominates where e^−u ≫ 1: the bound holds for
		// x ≥ −3 (u ≤ 6.1); TestGELULeftTail covers the rest.
		{"gelu_tanh", geluTanhF32, geluTanh64, 16},
	} {
		sub := xs[:0:0]
		for _, x := range xs {
			if tc.name != "gelu_tanh" || x >= -3 {
				sub = append(sub, x)
			}
		}
		worst, at := maxULP(tc.f, tc.want, sub)
		t.Logf("%s: max error %d ulp (at x = %v)", tc.name, worst, at)
		if worst > tc.bound {
			t.Errorf("%s: %d ulp at x = %v, want ≤ %d", tc.name, worst, at, tc.bound)
		}
	}
}

// geluTanh64 is GELU's tanh form evaluated in float64 as the equal
// x/(1+e^−2t): 0.5x(1+tanh t) itself cancels once 1+tanh t < 1e-15
// (x < −7), where it and torch's float32 evaluation return 0.
func geluTanh64(x float64) float64 {
	return x / (1 + math.Exp(-2*math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// TestGELULeftTail bounds GELU's relative error for x < −3, where the
// result is below 0.004·|x| and the argument's rounding dominates: at
// most 4·|u|·2⁻²⁴ for u = 2√(2/π)·|x|(1+0.044715x²).
func TestGELULeftTail(t *testing.T) {
	xs := sweep(-14, -3, 100001)
	got := make([]float32, len(xs))
	geluTanhF32(got, xs)
	var worst float64
	for i, x := range xs {
		w := geluTanh64(float64(x))
		if math.Abs(w) < 1e-30 {
			continue
		}
		u := 2 * math.Sqrt(2/math.Pi) * math.Abs(float64(x)) * (1 + 0.044715*float64(x)*float64(x))
		rel := math.Abs(float64(got[i])-w) / math.Abs(w)
		worst = max(worst, rel/(u*0x1p-24))
		if rel > 4*u*0x1p-24 {
			t.Fatalf("gelu(%v) = %v, want %v: relative error %.3g > 4·%.3g·2⁻²⁴", x, got[i], w, rel, u)
		}
	}
	t.Logf("gelu_tanh x < −3: max relative error %.2f·|u|·2⁻²⁴", worst)
}

func TestSoftmaxPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for n := 1; n <= 40; n++ {
		x := randF32(rng, n)
		for i := range x {
			x[i] *= 10
		}
		y := append([]float32(nil), x...)
		m := scaleMax(y, -0.7)
		wantM := float32(math.Inf(-1))
		for i, v := range x {
			if y[i] != v*-0.7 {
				t.Fatalf("n=%d: scaleMax [%d] = %v, want %v", n, i, y[i], v*-0.7)
			}
			wantM = max(wantM, v*-0.7)
		}
		if m != wantM {
			t.Fatalf("n=%d: scaleMax = %v, want %v", n, m, wantM)
		}
		s := expSubSum(y, m)
		var ws float64
		for i, v := range x {
			// the argument is rounded to float32 before exp, as in the kernel
			e := math.Exp(float64(v*-0.7 - m))
			ws += e
			if ulps(y[i], float32(e)) > 2 {
				t.Fatalf("n=%d: [%d] = %v, want %v", n, i, y[i], e)
			}
		}
		if math.Abs(float64(s)-ws) > 1e-6*ws {
			t.Fatalf("n=%d: sum %v, want %v", n, s, ws)
		}
	}
}

func BenchmarkExp(b *testing.B) {
	x := sweep(-10, 10, 1<<15)
	y := make([]float32, len(x))
	for _, tc := range []struct {
		name string
		f    func(dst, src []float32)
	}{{"exp", expF32}, {"silu", siluF32}, {"gelu_tanh", geluTanhF32}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				tc.f(y, x)
			}
			b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
