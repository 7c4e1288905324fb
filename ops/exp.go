package ops

import (
	"math"
)

// expConst are the constants of the vectorised exp (exp_amd64.s), each
// broadcast to the 8 lanes of an AVX register. The method is Cephes'
// expf: n = round(x·log₂e); r = x − n·ln2, with ln2 = ln2hi + ln2lo split
// so that n·ln2hi is exact; e^r ≈ 1 + r + r²·P(r) with P of degree 5 on
// |r| ≤ ln2/2; the result is e^r·2ⁿ.
var expConst = func() (c [16][8]float32) {
	v := [...]float32{
		88.3762626647949,              // hi: largest x whose 2ⁿ is a normal float
		-87.33654,                     // lo: ln of the smallest normal float; below, 0
		1.44269504088896341,           // log₂e
		0.693359375,                   // ln2hi
		-2.12194440e-4,                // ln2lo
		1.9875691500e-4,               // P
		1.3981999507e-3,               //
		8.3334519073e-3,               //
		4.1665795894e-2,               //
		1.6666665459e-1,               //
		5.0000001201e-1,               //
		1,                             // one
		-1.5957691216057308,           // −2·√(2/π), for GELU's tanh through exp
		0.044715,                      // GELU's cubic coefficient
		math.Float32frombits(1 << 31), // sign bit
		float32(math.Inf(1)),          // e^x above hi (true overflow is at 88.72)
	}
	for i, x := range v {
		for j := range c[i] {
			c[i][j] = x
		}
	}
	return c
}()

// simdExp reports whether the assembly kernels of this file run here.
var simdExp = hasSIMDExp()

// The functions below state their math; on amd64 with AVX2 and FMA they
// run the vectorised exp, whose error the tests bound (exp_test.go):
// within 2 ulp of the correctly rounded exp, and the kernels built on it
// within a few ulp. Elsewhere they compute in float64 and round once.

// expF32 sets dst[i] = eˣ for x = src[i].
func expF32(dst, src []float32) {
	if simdExp {
		vec8(dst, src, expAVX2)
		return
	}
	for i, x := range src {
		dst[i] = float32(math.Exp(float64(x)))
	}
}

// siluF32 sets dst[i] = x·σ(x) = x/(1+e⁻ˣ).
func siluF32(dst, src []float32) {
	if simdExp {
		vec8(dst, src, siluAVX2)
		return
	}
	for i, x := range src {
		dst[i] = float32(float64(x) / (1 + math.Exp(-float64(x))))
	}
}

// geluTanhF32 sets dst[i] = 0.5x(1+tanh(√(2/π)(x+0.044715x³))).
func geluTanhF32(dst, src []float32) {
	if simdExp {
		vec8(dst, src, geluTanhAVX2)
		return
	}
	// as the SIMD kernel, through x/(1+e^−2t), which does not cancel
	for i, x := range src {
		v := float64(x)
		dst[i] = float32(v / (1 + math.Exp(-2*math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
	}
}

// vec8 runs an 8-lane kernel over src, the tail through a padded buffer
// so that every element gets the same arithmetic.
func vec8(dst, src []float32, kernel func(dst, src *float32, n int)) {
	n := len(src) &^ 7
	dst = dst[:len(src)]
	if n > 0 {
		kernel(&dst[0], &src[0], n)
	}
	if r := len(src) - n; r > 0 {
		var buf [8]float32
		copy(buf[:], src[n:])
		kernel(&buf[0], &buf[0], 8)
		copy(dst[n:], buf[:r])
	}
}

// expSubSum sets x[i] = e^(x[i]−m) and returns Σ x[i] (softmax's
// numerators and denominator, m the row's maximum).
func expSubSum(x []float32, m float32) float32 {
	if simdExp {
		n := len(x) &^ 7
		var s float32
		if n > 0 {
			s = expSubSumAVX2(&x[0], n, m)
		}
		if r := len(x) - n; r > 0 {
			// pad with −∞: e^−∞ = 0 adds nothing to the sum
			buf := [8]float32{}
			for i := range buf {
				buf[i] = float32(math.Inf(-1))
			}
			copy(buf[:], x[n:])
			s += expSubSumAVX2(&buf[0], 8, m)
			copy(x[n:], buf[:r])
		}
		return s
	}
	var s float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		s += float64(e)
	}
	return float32(s)
}

// scaleMax sets x[i] *= s and returns the largest x[i] (−∞ if x is empty).
func scaleMax(x []float32, s float32) float32 {
	m := float32(math.Inf(-1))
	n := 0
	if simdExp {
		n = len(x) &^ 7
		if n > 0 {
			m = scaleMaxAVX2(&x[0], n, s)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] *= s
		if x[i] > m {
			m = x[i]
		}
	}
	return m
}
