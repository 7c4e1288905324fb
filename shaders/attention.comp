#version 450
// Scaled-dot-product attention, softmax(q·kᵀ·scale + bias [+ causal
// mask])·v, for q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv], with
// the online softmax of FlashAttention: keys stream through shared memory
// in tiles of TK, and each of the workgroup's TQ queries keeps a running
// max m, normaliser l and weighted sum of values, rescaled by exp(m_old −
// m_new) whenever the max grows, so no Lq×Lk score matrix exists. D and Dv
// are at most DMAX. Workgroup x is a block of queries, y the (batch, head).
//
// Per key tile: the 64 invocations compute the TQ×TK scores, TQ of them
// update their query's statistics and turn scores into weights, then
// invocation t updates the accumulators (in shared memory) of columns t and
// t+64 for every query. Shared memory stays under 32 KiB (lavapipe's limit)
// and no invocation holds a large private array.
#include "common.glsl"

#define TQ 16
#define TK 8
#define DMAX 128
#define NEG_INF uintBitsToFloat(0xff800000u)

layout(local_size_x = 64) in;
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

shared float qs[TQ * DMAX];
shared float ks[TK * DMAX];
shared float vs[TK * DMAX];
shared float acc[TQ * DMAX];
shared float ps[TQ * TK]; // scores, then softmax weights
shared float ms[TQ];      // running max per query
shared float ls[TQ];      // running normaliser per query
shared float cs[TQ];      // this tile's rescaling factor per query

void main() {
    uint bh = gl_WorkGroupID.y;
    uint bi = bh / p.h, hi = bh % p.h;
    uint t = gl_LocalInvocationID.x;
    uint q0 = gl_WorkGroupID.x * TQ;
    uint qbase = bh * p.lq, kbase = bh * p.lk;

    for (uint e = t; e < TQ * p.d; e += 64u) {
        uint r = e / p.d, c = e - r * p.d;
        qs[r * DMAX + c] = q0 + r < p.lq ? q((qbase + q0 + r) * p.d + c) : 0.0;
    }
    if (t < TQ) {
        ms[t] = NEG_INF;
        ls[t] = 0.0;
    }
    for (uint e = t; e < TQ * DMAX; e += 64u) acc[e] = 0.0;

    uint kend = p.lk;
    if (CAUSAL) kend = min(p.lk, min(p.lq, q0 + TQ));
    for (uint j0 = 0u; j0 < kend; j0 += TK) {
        barrier();
        for (uint e = t; e < TK * p.d; e += 64u) {
            uint r = e / p.d, c = e - r * p.d;
            ks[r * DMAX + c] = j0 + r < p.lk ? k((kbase + j0 + r) * p.d + c) : 0.0;
        }
        for (uint e = t; e < TK * p.dv; e += 64u) {
            uint r = e / p.dv, c = e - r * p.dv;
            vs[r * DMAX + c] = j0 + r < p.lk ? v((kbase + j0 + r) * p.dv + c) : 0.0;
        }
        barrier();
        for (uint idx = t; idx < TQ * TK; idx += 64u) {
            uint r = idx / TK, jj = idx % TK;
            uint i = q0 + r, j = j0 + jj;
            float s = NEG_INF;
            if (j < p.lk && !(CAUSAL && j > i)) {
                s = 0.0;
                for (uint e = 0u; e < p.d; e++) s += qs[r * DMAX + e] * ks[jj * DMAX + e];
                s *= p.scale;
                if (HAS_BIAS && i < p.lq) s += bias(bi * p.bs[0] + hi * p.bs[1] + i * p.bs[2] + j * p.bs[3]);
            }
            ps[r * TK + jj] = s;
        }
        barrier();
        if (t < TQ) {
            float mo = ms[t], mn = mo;
            for (uint jj = 0u; jj < TK; jj++) mn = max(mn, ps[t * TK + jj]);
            // keys masked so far (mn = -inf) add nothing; avoid -inf - -inf
            float corr = mn == NEG_INF ? 1.0 : exp(mo - mn);
            float sum = 0.0;
            for (uint jj = 0u; jj < TK; jj++) {
                float s = ps[t * TK + jj];
                float w = s == NEG_INF ? 0.0 : exp(s - mn);
                ps[t * TK + jj] = w;
                sum += w;
            }
            ms[t] = mn;
            ls[t] = ls[t] * corr + sum;
            cs[t] = corr;
        }
        barrier();
        for (uint col = t; col < p.dv; col += 64u) {
            for (uint r = 0u; r < TQ; r++) {
                float a = acc[r * DMAX + col] * cs[r];
                for (uint jj = 0u; jj < TK; jj++) a += ps[r * TK + jj] * vs[jj * DMAX + col];
                acc[r * DMAX + col] = a;
            }
        }
    }
    barrier();
    for (uint e = t; e < TQ * p.dv; e += 64u) {
        uint r = e / p.dv, col = e - r * p.dv;
        uint i = q0 + r;
        if (i < p.lq) o_put((qbase + i) * p.dv + col, acc[r * DMAX + col] / ls[r]);
    }
}
