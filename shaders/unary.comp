#version 450
// y = f(x) elementwise; f is backend.UnaryOp (specialisation constant OP,
// same numbering) or, for OP = 100, the affine map alpha·x + beta.
#include "common.glsl"
#include "math.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 16) const uint OP = 0u;

IN_F32(x, 0, 1)
OUT_F32(y, 1, 2)

layout(push_constant) uniform P {
    uint n;
    float alpha;
    float beta;
} p;

void main() {
    uint i = LINEAR_ID(256);
    if (i >= p.n) return;
    float v = x(i);
    float r;
    switch (OP) {
    case 0u: r = x_sigmoid(v, 1.0); break;                          // SiLU
    case 1u: r = gelu_tanh(v); break;
    case 2u: r = gelu_erf(v); break;
    case 3u: r = x_sigmoid(v, 1.702); break;                        // QuickGELU
    case 4u: r = sigmoid(v); break;
    case 5u: r = v > 0.0 ? v : (isnan(v) ? v : 0.0); break;        // ReLU
    case 6u: r = tanh_safe(v); break;
    case 7u: r = exp_sub(v); break;
    case 8u: r = sqrt(v); break;
    case 9u: r = -v; break;
    case 10u: r = abs(v); break;
    case 11u: r = v * v; break;
    case 12u: r = 1.0 / v; break;
    default: r = p.alpha * v + p.beta; break;                                  // affine
    }
    y_put(i, r);
}
