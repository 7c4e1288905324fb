#version 450
// Softmax over rows of n: y = exp(x - max) / Σ exp(x - max).
#include "common.glsl"
#include "rows.glsl"

IN_F32(x, 0, 1)
OUT_F32(y, 1, 2)

layout(push_constant) uniform P {
    uint rows;
    uint n;
} p;

void main() {
    uint row = ROW_ID;
    if (row >= p.rows) return;
    uint base = row * p.n, t = gl_LocalInvocationID.x;
    float m = NEG_INF;
    for (uint j = t; j < p.n; j += 256u) m = max_nan(m, x(base + j));
    m = wg_max(m);
    float s = 0.0;
    for (uint j = t; j < p.n; j += 256u) s += exp(x(base + j) - m);
    s = wg_sum(s);
    float inv = 1.0 / s;
    for (uint j = t; j < p.n; j += 256u) y_put(base + j, exp(x(base + j) - m) * inv);
}
