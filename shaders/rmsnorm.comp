#version 450
// RMSNorm over rows of n: x / sqrt(mean(x²) + eps) [·w].
#include "common.glsl"
#include "rows.glsl"

layout(constant_id = 16) const bool HAS_W = false;

IN_F32(x, 0, 1)
IN_F32(w, 1, 2)
OUT_F32(y, 2, 3)

layout(push_constant) uniform P {
    uint rows;
    uint n;
    float eps;
} p;

void main() {
    uint row = ROW_ID;
    if (row >= p.rows) return;
    uint base = row * p.n, t = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint j = t; j < p.n; j += 256u) {
        float v = x(base + j);
        s += v * v;
    }
    float inv = 1.0 / sqrt(wg_sum(s) / float(p.n) + p.eps);
    for (uint j = t; j < p.n; j += 256u) {
        float r = x(base + j) * inv;
        if (HAS_W) r *= w(j);
        y_put(base + j, r);
    }
}
