// Scalar functions GLSL lacks or defines loosely.
//
// Vulkan lets float arithmetic flush subnormal results and operands to
// zero (llvmpipe does), so results in the subnormal range are built from
// bits (exp_sub) and returned without further arithmetic.

// exp_sub is e^x, also where the result is subnormal (x < -87.3): there
// it is e^(x + 64·ln2), a normal number, scaled by 2^-64 on its bits with
// round to nearest even. ln2 is split as Cephes' expf does (0.693359375 −
// 2.12194440e-4) so that x + 64·0.693359375 is exact.
float exp_sub(float x) {
    if (x >= -87.0) return exp(x);
    if (x < -104.0) return 0.0; // below half the smallest subnormal, e^-103.28
    float y = exp((x + 44.375) - 0.01358044416);
    uint b = floatBitsToUint(y);
    int e = int(b >> 23) - 64; // the result's biased exponent
    if (e >= 1) return uintBitsToFloat((uint(e) << 23) | (b & 0x7fffffu));
    uint m = (b & 0x7fffffu) | 0x800000u;
    uint sh = uint(1 - e);
    if (sh > 24u) return 0.0;
    uint r = m >> sh, rem = m & ((1u << sh) - 1u), half_ = 1u << (sh - 1u);
    if (rem > half_ || (rem == half_ && (r & 1u) == 1u)) r++;
    return uintBitsToFloat(r);
}

// sigmoid(x) = 1/(1+e^-x); for x < -87 it is e^x to float precision.
float sigmoid(float x) {
    if (x < -87.0) return exp_sub(x);
    return 1.0 / (1.0 + exp(-x));
}

// x·sigmoid(a·x) for a > 0 (SiLU a = 1, QuickGELU a = 1.702). In the far
// negative tail e^{ax} is subnormal while x·e^{ax} may not be, so the
// product is taken inside the exponent: x·e^{ax} = −e^{ax + ln(−x)}.
float x_sigmoid(float x, float a) {
    float z = a * x;
    if (z >= -80.0) return x / (1.0 + exp(-z));
    return -exp_sub(z + log(-x));
}

// tanh through e^{-2|x|}, which never overflows (GLSL's tanh may return
// NaN for large |x| on some implementations).
float tanh_safe(float x) {
    float t = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - t) / (1.0 + t);
}

// erfc with fractional error below 1.2e-7 everywhere (the Chebyshev fit of
// Numerical Recipes' erfcc); GELU uses 0.5·x·erfc(-x/√2) = 0.5·x·(1+erf(x/√2)).
float erfc_nr(float x) {
    float z = abs(x);
    float t = 1.0 / (1.0 + 0.5 * z);
    float r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
              t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
              t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0.0 ? r : 2.0 - r;
}

// one_plus_f64(e) is 1 + t for t = -1 + e as the float64 reference (ops/ref)
// computes it: t rounds to a multiple of 2^-53 near -1, so e does. The GELU
// tails go through it so that they vanish exactly where the reference's do
// (1 + tanh(u) and 1 + erf(z) cancel to 0 in float64 below e ≈ 5.6e-17).
float one_plus_f64(float e) { return round(e * 9007199254740992.0) * 1.1102230246251565e-16; }

// GELU with the tanh approximation, 0.5·x·(1 + tanh(u)); for u < 0, 1 +
// tanh(u) is evaluated as 2e^{2u}/(1 + e^{2u}) without cancellation.
float gelu_tanh(float x) {
    float u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    if (u >= 0.0) return x / (1.0 + exp(-2.0 * u));
    float t = exp(2.0 * u);
    return 0.5 * x * one_plus_f64(2.0 * t / (1.0 + t));
}

// GELU with erf: 0.5·x·(1 + erf(x/√2)) = 0.5·x·erfc(−x/√2).
float gelu_erf(float x) {
    float e = erfc_nr(-x * 0.7071067811865476);
    if (x < 0.0) e = one_plus_f64(e);
    return 0.5 * x * e;
}

