#version 450
// GroupNorm: x [N, C, S] normalised over each block of C/groups channels ×
// S (contiguous), then per-channel [·w] [+ b]. One workgroup per block;
// sums run over x - x[0] as in layernorm.comp.
#include "common.glsl"
#include "rows.glsl"

layout(constant_id = 16) const bool HAS_W = false;
layout(constant_id = 17) const bool HAS_B = false;

IN_F32(x, 0, 1)
IN_F32(w, 1, 2)
IN_F32(b, 2, 3)
OUT_F32(y, 3, 4)

layout(push_constant) uniform P {
    uint blocks; // N·groups
    uint groups;
    uint cg;     // channels per group
    uint s;      // elements per channel
    float eps;
} p;

void main() {
    uint blk = ROW_ID;
    if (blk >= p.blocks) return;
    uint len = p.cg * p.s, base = blk * len, t = gl_LocalInvocationID.x;
    float x0 = x(base);
    float acc = 0.0;
    for (uint j = t; j < len; j += 256u) acc += x(base + j) - x0;
    float delta = wg_sum(acc) / float(len);
    float v = 0.0;
    for (uint j = t; j < len; j += 256u) {
        float d = (x(base + j) - x0) - delta;
        v += d * d;
    }
    float inv = 1.0 / sqrt(wg_sum(v) / float(len) + p.eps);
    uint c0 = (blk % p.groups) * p.cg;
    for (uint j = t; j < len; j += 256u) {
        uint c = c0 + j / p.s;
        float r = ((x(base + j) - x0) - delta) * inv;
        if (HAS_W) r *= w(c);
        if (HAS_B) r += b(c);
        y_put(base + j, r);
    }
}
