#version 450
// RoPE on x [B, H, L, D]: rotates each adjacent pair (x[2j], x[2j+1]) by
// the angle whose cosine and sine are cos/sin [L, D/2] (or [B, L, D/2]
// when batched), as FLUX's apply_rope. One invocation per pair.
#include "common.glsl"

layout(local_size_x = 256) in;

IN_F32(x, 0, 1)
IN_F32(cs, 1, 2)
IN_F32(sn, 2, 3)
OUT_F32(y, 3, 4)

layout(push_constant) uniform P {
    uint pairs; // B·H·L·D/2
    uint hl;    // H·L
    uint l;
    uint half_; // D/2
    uint batched;
} p;

void main() {
    uint q = LINEAR_ID(256);
    if (q >= p.pairs) return;
    uint j = q % p.half_;
    uint r = q / p.half_; // row over B·H·L
    uint t = (r % p.l) * p.half_ + j;
    if (p.batched != 0u) t += (r / p.hl) * p.l * p.half_;
    float c = cs(t), s = sn(t);
    float x0 = x(2u * q), x1 = x(2u * q + 1u);
    y_put(2u * q, c * x0 - s * x1);
    y_put(2u * q + 1u, s * x0 + c * x1);
}
