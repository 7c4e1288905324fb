// c = a·wᵀ [+ bias] for at most 4 rows of a (M ≤ 4), batched as
// matmul.glsl. Few rows make the product bound by reading w, so instead of
// output tiles each workgroup computes 8 output columns, 32 invocations per
// column striding over k (consecutive invocations read consecutive
// weights) with one vec4 accumulator holding the M rows, then a tree sum
// over the 32 partial results in shared memory.
#include "common.glsl"

#define COLS 8
#define LANES 32

layout(local_size_x = 256) in;
layout(constant_id = 16) const bool HAS_BIAS = false;

IN_F32(a, 0, 1)
IN_W(w, 1, 2)
IN_F32(bias, 2, 3)
OUT_F32(c, 3, 4)

layout(push_constant) uniform P {
    uint m;
    uint n;
    uint k;
    uint brank;
    uint bshape[4];
    uint sa[4];
    uint sw[4];
} p;

shared vec4 red[256];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint lane = t % LANES, col = gl_WorkGroupID.x * COLS + t / LANES;
    uint z = gl_WorkGroupID.z;

    uint ia = 0u, iw = 0u, rem = z;
    for (int d = int(p.brank) - 1; d >= 0; d--) {
        uint q = rem / p.bshape[d];
        uint idx = rem - q * p.bshape[d];
        rem = q;
        ia += idx * p.sa[d];
        iw += idx * p.sw[d];
    }
    uint abase = ia * p.m * p.k, wbase = iw * p.n * p.k;

    vec4 acc = vec4(0.0);
    if (col < p.n) {
        // rows past m read row 0 and are never written
        uint r1 = p.m > 1u ? p.k : 0u, r2 = p.m > 2u ? 2u * p.k : 0u, r3 = p.m > 3u ? 3u * p.k : 0u;
        for (uint kk = lane; kk < p.k; kk += LANES) {
            float wv = w(wbase + col * p.k + kk);
            uint ai = abase + kk;
            acc += wv * vec4(a(ai), a(ai + r1), a(ai + r2), a(ai + r3));
        }
    }
    red[t] = acc;
    barrier();
    for (uint s = LANES / 2u; s > 0u; s >>= 1) {
        if (lane < s) red[t] += red[t + s];
        barrier();
    }
    if (lane != 0u || col >= p.n) return;
    vec4 r = red[t];
    float b = HAS_BIAS ? bias(col) : 0.0;
    uint cbase = z * p.m * p.n;
    for (uint i = 0u; i < p.m; i++) c_put(cbase + i * p.n + col, r[i] + b);
}
