#version 450
// Scaled-dot-product attention, softmax(q·kᵀ·scale + bias [+ causal
// mask])·v, for q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv], with
// the online softmax of FlashAttention: keys stream through shared memory
// in tiles and each query keeps a running max, normaliser and weighted sum,
// so no Lq×Lk score matrix exists. One invocation per query row; workgroup
// y is the (batch, head) pair. D and Dv are at most DMAX.
#include "common.glsl"

#define TQ 64
#define TK 16
#define DMAX 128
#define NEG_INF uintBitsToFloat(0xff800000u)

layout(local_size_x = TQ) in;
layout(constant_id = 16) const bool HAS_BIAS = false;
layout(constant_id = 17) const bool CAUSAL = false;

IN_F32(q, 0, 1)
IN_F32(k, 1, 2)
IN_F32(v, 2, 3)
IN_F32(bias, 3, 4)
OUT_F32(o, 4, 5)

layout(push_constant) uniform P {
    uint h;
    uint lq;
    uint lk;
    uint d;
    uint dv;
    float scale;
    uint bs[4]; // bias strides over (b, h, i, j); zero broadcasts
} p;

shared float ks[TK * DMAX];
shared float vs[TK * DMAX];

void main() {
    uint bh = gl_WorkGroupID.y;
    uint bi = bh / p.h, hi = bh % p.h;
    uint t = gl_LocalInvocationID.x;
    uint i = gl_WorkGroupID.x * TQ + t;
    bool live = i < p.lq;

    float qr[DMAX];
    float acc[DMAX];
    for (uint e = 0u; e < p.d; e++) qr[e] = live ? q((bh * p.lq + i) * p.d + e) : 0.0;
    for (uint e = 0u; e < p.dv; e++) acc[e] = 0.0;
    float m = NEG_INF, l = 0.0;

    uint kend = p.lk;
    if (CAUSAL) kend = min(p.lk, min(p.lq, gl_WorkGroupID.x * TQ + TQ));
    uint kbase = bh * p.lk;
    for (uint j0 = 0u; j0 < kend; j0 += TK) {
        barrier();
        for (uint e = t; e < TK * p.d; e += TQ) {
            uint jj = e / p.d, c = e - jj * p.d;
            ks[jj * DMAX + c] = j0 + jj < p.lk ? k((kbase + j0 + jj) * p.d + c) : 0.0;
        }
        for (uint e = t; e < TK * p.dv; e += TQ) {
            uint jj = e / p.dv, c = e - jj * p.dv;
            vs[jj * DMAX + c] = j0 + jj < p.lk ? v((kbase + j0 + jj) * p.dv + c) : 0.0;
        }
        barrier();
        if (!live) continue;
        for (uint jj = 0u; jj < TK; jj++) {
            uint j = j0 + jj;
            if (j >= p.lk || (CAUSAL && j > i)) break;
            float s = 0.0;
            for (uint e = 0u; e < p.d; e++) s += qr[e] * ks[jj * DMAX + e];
            s *= p.scale;
            if (HAS_BIAS) s += bias(bi * p.bs[0] + hi * p.bs[1] + i * p.bs[2] + j * p.bs[3]);
            if (s == NEG_INF) continue; // a masked key adds nothing
            float mn = max(m, s);
            float corr = exp(m - mn), w = exp(s - mn);
            l = l * corr + w;
            for (uint e = 0u; e < p.dv; e++) acc[e] = acc[e] * corr + w * vs[jj * DMAX + e];
            m = mn;
        }
    }
    if (!live) return;
    float inv = 1.0 / l;
    for (uint e = 0u; e < p.dv; e++) o_put((bh * p.lq + i) * p.dv + e, acc[e] * inv);
}
