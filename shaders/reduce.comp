#version 450
// Reduces rows of n to one value: OP 0 sum, 1 mean, 2 max (backend.ReduceOp).
#include "common.glsl"
#include "rows.glsl"

layout(constant_id = 16) const uint OP = 0u;

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
    float r;
    if (OP == 2u) {
        float m = NEG_INF;
        for (uint j = t; j < p.n; j += 256u) m = max_nan(m, x(base + j));
        r = wg_max(m);
    } else {
        float s = 0.0;
        for (uint j = t; j < p.n; j += 256u) s += x(base + j);
        r = wg_sum(s);
        if (OP == 1u) r /= float(p.n);
    }
    if (t == 0u) y_put(row, r);
}
