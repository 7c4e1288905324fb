#version 450
// LayerNorm over rows of n: (x - mean)/sqrt(var + eps) [·w] [+ b], with the
// variance from a second pass over the centred values, as ops/ref. The
// sums run over x - x[0] and the mean stays split as x[0] + delta, so
// that rows far from zero (e.g. around 1000) lose no precision to a float
// mean's rounding.
#include "common.glsl"
#include "rows.glsl"

layout(constant_id = 16) const bool HAS_W = false;
layout(constant_id = 17) const bool HAS_B = false;

IN_F32(x, 0, 1)
IN_F32(w, 1, 2)
IN_F32(b, 2, 3)
OUT_F32(y, 3, 4)

layout(push_constant) uniform P {
    uint rows;
    uint n;
    float eps;
} p;

void main() {
    uint row = ROW_ID;
    if (row >= p.rows) return;
    uint base = row * p.n, t = gl_LocalInvocationID.x;
    float x0 = x(base);
    float s = 0.0;
    for (uint j = t; j < p.n; j += 256u) s += x(base + j) - x0;
    float delta = wg_sum(s) / float(p.n);
    float v = 0.0;
    for (uint j = t; j < p.n; j += 256u) {
        float d = (x(base + j) - x0) - delta;
        v += d * d;
    }
    float inv = 1.0 / sqrt(wg_sum(v) / float(p.n) + p.eps);
    for (uint j = t; j < p.n; j += 256u) {
        float r = ((x(base + j) - x0) - delta) * inv;
        if (HAS_W) r *= w(j);
        if (HAS_B) r += b(j);
        y_put(base + j, r);
    }
}
