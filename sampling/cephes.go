package sampling

import "math"

// Single-precision log and sincos as torch's AVX2 build computes them in
// normal_fill_16_AVX2: the Cephes polynomials of logf/sinf/cosf, evaluated
// eight lanes at a time in aten/src/ATen/native/cpu/avx_mathfun.h (after
// Julien Pommier's sse_mathfun). They are not correctly rounded, so the
// noise is reproduced bit for bit only by repeating them operation by
// operation in float32.
//
// That file is compiled with -mavx2 -mfma, and GCC's default
// -ffp-contract=fast turns a product whose only use is an addition into a
// fused multiply-add. GCC walks the statements in order, so where two
// products meet in one sum the earlier one is fused and the later one is
// rounded on its own. The fma32 calls below sit exactly where that happens;
// with them every value of the golden noise (258048 of them) is
// bit-identical, without them about 1% differ by an ulp or two. Every other
// product is rounded to float32 by an explicit conversion, which also keeps
// the Go compiler from fusing it on platforms where it may.

const (
	cephesSqrtHalf = float32(0.707106781186547524)
	cephesLogP0    = float32(7.0376836292e-2)
	cephesLogP1    = float32(-1.1514610310e-1)
	cephesLogP2    = float32(1.1676998740e-1)
	cephesLogP3    = float32(-1.2420140846e-1)
	cephesLogP4    = float32(1.4249322787e-1)
	cephesLogP5    = float32(-1.6668057665e-1)
	cephesLogP6    = float32(2.0000714765e-1)
	cephesLogP7    = float32(-2.4999993993e-1)
	cephesLogP8    = float32(3.3333331174e-1)
	// ln 2 = q2 - q1 split so that e*q2 is exact (Cody-Waite).
	cephesLogQ1 = float32(-2.12194440e-4)
	cephesLogQ2 = float32(0.693359375)

	// pi/4 in three pieces for the extended-precision argument reduction.
	cephesDP1   = float32(0.78515625)
	cephesDP2   = float32(2.4187564849853515625e-4)
	cephesDP3   = float32(3.77489497744594108e-8)
	cephesFOPI  = float32(1.27323954473516) // 4/pi
	cephesSinP0 = float32(-1.9515295891e-4)
	cephesSinP1 = float32(8.3321608736e-3)
	cephesSinP2 = float32(-1.6666654611e-1)
	cephesCosP0 = float32(2.443315711809948e-5)
	cephesCosP1 = float32(-1.388731625493765e-3)
	cephesCosP2 = float32(4.166664568298827e-2)

	minNormalFloat32 = float32(1.17549435e-38) // bits 0x00800000
)

// logCephes is log256_ps for one lane: NaN for x <= 0, denormals treated as
// the smallest normal number.
func logCephes(x float32) float32 {
	if !(x > 0) {
		return float32(math.NaN())
	}
	if x < minNormalFloat32 {
		x = minNormalFloat32
	}
	bits := math.Float32bits(x)
	// x = m * 2^e with m in [0.5, 1).
	e := float32(int32(bits>>23)-0x7f) + 1
	m := math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	// Below sqrt(1/2) use 2m - 1 and e - 1, keeping the polynomial argument
	// in [sqrt(1/2) - 1, sqrt(2) - 1]; the sum is formed as (m - 1) + m.
	var extra float32
	if m < cephesSqrtHalf {
		extra = m
		e = e - 1
	}
	x = m - 1
	x = x + extra

	z := float32(x * x)
	y := cephesLogP0
	for _, p := range [...]float32{cephesLogP1, cephesLogP2, cephesLogP3, cephesLogP4,
		cephesLogP5, cephesLogP6, cephesLogP7, cephesLogP8} {
		y = fma32(y, x, p)
	}
	y = float32(y * x)
	// y*z + e*q1: the first product fuses.
	y = fma32(y, z, float32(e*cephesLogQ1))
	y = fma32(-z, 0.5, y)
	return fma32(e, cephesLogQ2, x+y)
}

// sincosCephes is sincos256_ps for one lane. Arguments stay accurate up to
// about 8192 (torch only feeds it 2*pi*u, u in [0, 1)).
func sincosCephes(x float32) (sin, cos float32) {
	signSin := math.Float32bits(x) & 0x80000000
	x = float32(math.Abs(float64(x)))

	// j = the octant index rounded up to even; y = j as float.
	j := int32(float32(x * cephesFOPI)) // truncation, as cvttps
	j = (j + 1) &^ 1
	y := float32(j)
	swapSin := uint32(j&4) << 29
	swapCos := uint32(^(j-2)&4) << 29
	direct := j&2 == 0 // sin from the sine polynomial, cos from the cosine one

	// x - y*pi/4 with pi/4 in three pieces.
	x = fma32(y, -cephesDP1, x)
	x = fma32(y, -cephesDP2, x)
	x = fma32(y, -cephesDP3, x)

	z := float32(x * x)
	// cos: ((p0 z + p1) z + p2) z^2 - z/2 + 1; the second multiplication by z
	// fuses with the subtraction of z/2.
	c := fma32(cephesCosP0, z, cephesCosP1)
	c = fma32(c, z, cephesCosP2)
	c = float32(c * z)
	c = fma32(c, z, -float32(z*0.5))
	c = c + 1
	// sin: ((p0 z + p1) z + p2) z x + x.
	s := fma32(cephesSinP0, z, cephesSinP1)
	s = fma32(s, z, cephesSinP2)
	s = float32(s * z)
	s = fma32(s, x, x)

	if direct {
		sin, cos = s, c
	} else {
		sin, cos = c, s
	}
	sin = math.Float32frombits(math.Float32bits(sin) ^ signSin ^ swapSin)
	cos = math.Float32frombits(math.Float32bits(cos) ^ swapCos)
	return sin, cos
}

// fma32 is a*b + c rounded once to float32, as the vfmadd instructions do.
//
// a*b is exact in float64 (24+24 bits), but rounding the float64 sum and
// then rounding to float32 could round twice. Instead the float64 sum is
// rounded to odd (truncated, lowest bit set when inexact), which makes the
// second rounding exact: 53 bits leave more than the two guard bits needed.
func fma32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // exact; the conversion forbids fusing
	s := p + float64(c)
	if math.IsInf(s, 0) || math.IsNaN(s) || s == 0 {
		return float32(s)
	}
	// Knuth's TwoSum: s + e == p + c exactly.
	bp := s - p
	e := (p - (s - bp)) + (float64(c) - bp)
	if e == 0 {
		return float32(s)
	}
	bits := math.Float64bits(s)
	// s rounded away from zero when the error points back towards zero.
	if (e < 0) != (s < 0) {
		bits-- // step the magnitude down to the truncated value
	}
	bits |= 1
	return float32(math.Float64frombits(bits))
}
