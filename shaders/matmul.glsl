// c = a·wᵀ [+ bias] for a [.., M, K] (float), w [.., N, K] (WTYPE_*), batched
// over up to 4 broadcast batch dims, accumulating in float. Classic tiling:
// a workgroup computes a BM×BN tile of c, staging BM×BK of a and BN×BK of w
// in shared memory per step; each of the 256 invocations owns a 4×4 block
// of the tile (rows ty+16r, columns tx+16c).
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

#define BM 64
#define BN 64
#define BK 16

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

shared float as_[BK * BM];
shared float ws_[BK * BN];

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

    // acc[r][q] is the output at row ty+16r, column tx+16q; vectors and
    // unrolled loops keep it in registers.
    vec4 acc[4] = vec4[4](vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));

    for (uint k0 = 0u; k0 < p.k; k0 += BK) {
        // Each invocation stages 4 elements of each tile; consecutive
        // invocations read consecutive k, i.e. contiguous memory.
        for (uint e = t; e < BM * BK; e += 256u) {
            uint rr = e / BK, kk = e % BK;
            uint gr = row0 + rr, gk = k0 + kk;
            as_[kk * BM + rr] = (gr < p.m && gk < p.k) ? a(abase + gr * p.k + gk) : 0.0;
        }
        for (uint e = t; e < BN * BK; e += 256u) {
            uint rr = e / BK, kk = e % BK;
            uint gc = col0 + rr, gk = k0 + kk;
            ws_[kk * BN + rr] = (gc < p.n && gk < p.k) ? w(wbase + gc * p.k + gk) : 0.0;
        }
        barrier();
        [[unroll]] for (uint kk = 0u; kk < BK; kk++) {
            uint ai = kk * BM + ty, wi = kk * BN + tx;
            vec4 av = vec4(as_[ai], as_[ai + 16u], as_[ai + 32u], as_[ai + 48u]);
            vec4 wv = vec4(ws_[wi], ws_[wi + 16u], ws_[wi + 32u], ws_[wi + 48u]);
            acc[0] += av.x * wv;
            acc[1] += av.y * wv;
            acc[2] += av.z * wv;
            acc[3] += av.w * wv;
        }
        barrier();
    }

    uint cbase = z * p.m * p.n;
    [[unroll]] for (int r = 0; r < 4; r++) {
        uint gr = row0 + ty + 16u * uint(r);
        if (gr >= p.m) continue;
        [[unroll]] for (int q = 0; q < 4; q++) {
            uint gc = col0 + tx + 16u * uint(q);
            if (gc >= p.n) continue;
            float v = acc[r][q];
            if (HAS_BIAS) v += bias(gc);
            c_put(cbase + gr * p.n + gc, v);
        }
    }
}
