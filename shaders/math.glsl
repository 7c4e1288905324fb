// Scalar functions GLSL lacks or defines loosely.

// sigmoid(x) = 1/(1+e^-x); e^-x overflows to +inf for x < -88, giving 0.
float sigmoid(float x) { return 1.0 / (1.0 + exp(-x)); }

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
