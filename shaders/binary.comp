#version 450
// c = a ∘ b with NumPy broadcasting: the Go side collapses the output to at
// most 6 dims and passes zero strides for broadcast dims. ∘ is
// backend.BinaryOp (specialisation constant OP, same numbering).
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 16) const uint OP = 0u;

IN_F32(a, 0, 1)
IN_F32(b, 1, 2)
OUT_F32(c, 2, 3)

layout(push_constant) uniform P {
    uint n;
    uint rank;
    uint shape[6];
    uint sa[6];
    uint sb[6];
} p;

void main() {
    uint i = LINEAR_ID(256);
    if (i >= p.n) return;
    uint ia = 0u, ib = 0u, rem = i;
    for (int d = int(p.rank) - 1; d >= 0; d--) {
        uint q = rem / p.shape[d];
        uint idx = rem - q * p.shape[d];
        rem = q;
        ia += idx * p.sa[d];
        ib += idx * p.sb[d];
    }
    float x = a(ia), y = b(ib), r;
    switch (OP) {
    case 0u: r = x + y; break;
    case 1u: r = x - y; break;
    case 2u: r = x * y; break;
    case 3u: r = x / y; break;
    case 4u: r = (isnan(x) || x > y) ? x : y; break; // max, NaN in a propagates as in ops/ref
    default: r = (isnan(x) || x < y) ? x : y; break; // min
    }
    c_put(i, r);
}
