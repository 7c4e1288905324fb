// c = a·wᵀ [+ bias] for a [.., M, K] (float), w [.., N, K] (WTYPE_*), batched
// over up to 4 broadcast batch dims, accumulating in float.
//
// Register-blocked tiling: a workgroup of 16×16 invocations computes a
// BM×BN = 128×128 tile of c, staging BK = 8 columns of k of a and w per step
// in shared memory, stored k-major so that each invocation reads its
// operands as vec4s. Invocation (tx, ty) owns an 8×8 block: rows ty·4+i and
// 64+ty·4+i, columns tx·4+j and 64+tx·4+j (i, j < 4), so the 64
// accumulators stay in registers and every shared load feeds 8 products.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

#define BM 128
#define BN 128
#define BK 8

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
    uint sa[4]; // batch strides of a, in matrices (0 broadcasts)
    uint sw[4]; // batch strides of w, in matrices
} p;

shared vec4 as4[BK * BM / 4]; // as4[kk·BM/4 + r/4] holds a[row0+r][k0+kk] for r in 4 rows
shared vec4 ws4[BK * BN / 4];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u, ty = t / 16u;
    uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
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

    // Staging: invocation t loads 4 consecutive k of tile row t/2 (from
    // k = 4·(t mod 2)), for a and for w.
    uint lr = t / 2u, lk = (t % 2u) * 4u;

    vec4 acc[16];
    [[unroll]] for (int i = 0; i < 16; i++) acc[i] = vec4(0.0);

    for (uint k0 = 0u; k0 < p.k; k0 += BK) {
        {
            uint gr = row0 + lr;
            vec4 va = vec4(0.0);
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uint gk = k0 + lk + j;
                if (gr < p.m && gk < p.k) va[j] = a(abase + gr * p.k + gk);
            }
            uint gc = col0 + lr;
            vec4 vw = vec4(0.0);
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uint gk = k0 + lk + j;
                if (gc < p.n && gk < p.k) vw[j] = w(wbase + gc * p.k + gk);
            }
            // transpose into k-major shared storage: element (r, kk) lives
            // in vec4 kk·BM/4 + r/4, component r mod 4
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uint kk = lk + j;
                as4[kk * (BM / 4u) + lr / 4u][lr % 4u] = va[j];
                ws4[kk * (BN / 4u) + lr / 4u][lr % 4u] = vw[j];
            }
        }
        barrier();
        [[unroll]] for (uint kk = 0u; kk < BK; kk++) {
            vec4 a0 = as4[kk * (BM / 4u) + ty], a1 = as4[kk * (BM / 4u) + 16u + ty];
            vec4 w0 = ws4[kk * (BN / 4u) + tx], w1 = ws4[kk * (BN / 4u) + 16u + tx];
            [[unroll]] for (int i = 0; i < 4; i++) {
                acc[i] += a0[i] * w0;
                acc[4 + i] += a0[i] * w1;
                acc[8 + i] += a1[i] * w0;
                acc[12 + i] += a1[i] * w1;
            }
        }
        barrier();
    }

    uint cbase = z * p.m * p.n;
    [[unroll]] for (int i = 0; i < 16; i++) {
        // acc[i]: row half i/8, row i mod 4, column half (i/4) mod 2
        uint gr = row0 + uint(i / 8) * 64u + ty * 4u + uint(i % 4);
        uint gc = col0 + uint((i / 4) % 2) * 64u + tx * 4u;
        if (gr >= p.m) continue;
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            if (gc + j < p.n) {
                float v = acc[i][j];
                if (HAS_BIAS) v += bias(gc + j);
                c_put(cbase + gr * p.n + gc + j, v);
            }
        }
    }
}
