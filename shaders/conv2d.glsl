// conv2d (torch's cross-correlation) as an implicit matrix product per
// sample and group: c[o, p] = Σ_kk w[o, kk]·col[p, kk] + bias[o], where p
// runs over output pixels, kk over (input channel, ky, kx) and col is the
// zero-padded input patch, gathered on the fly instead of materialised
// (im2col). The tiling is matmul.glsl's: rows are pixels, columns output
// channels of the group.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

#define BM 128
#define BN 128
#define BK 8

layout(local_size_x = 256) in;
layout(constant_id = 16) const bool HAS_BIAS = false;

IN_F32(x, 0, 1)
IN_W(w, 1, 2)
IN_F32(bias, 2, 3)
OUT_F32(c, 3, 4)

layout(push_constant) uniform P {
    uint ch; // input channels C
    uint h;
    uint wd;
    uint oc; // output channels O
    uint kh;
    uint kw;
    uint oh;
    uint ow;
    uint sh;
    uint sw;
    int ph;
    int pw;
    uint dh;
    uint dw;
    uint groups;
} p;

shared vec4 as4[BK * BM / 4];
shared vec4 ws4[BK * BN / 4];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u, ty = t / 16u;
    uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    uint ni = gl_WorkGroupID.z / p.groups, g = gl_WorkGroupID.z % p.groups;
    uint cg = p.ch / p.groups, og = p.oc / p.groups;
    uint npix = p.oh * p.ow, kwin = p.kh * p.kw, kdim = cg * kwin;
    uint xbase = (ni * p.ch + g * cg) * p.h * p.wd;
    uint wbase = g * og * kdim;

    uint lr = t / 2u, lk = (t % 2u) * 4u;
    uint pix = row0 + lr;
    int oy = int(pix / p.ow), ox = int(pix % p.ow);

    vec4 acc[16];
    [[unroll]] for (int i = 0; i < 16; i++) acc[i] = vec4(0.0);

    for (uint k0 = 0u; k0 < kdim; k0 += BK) {
        {
            vec4 va = vec4(0.0);
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uint gk = k0 + lk + j;
                if (pix < npix && gk < kdim) {
                    uint ic = gk / kwin, r2 = gk - ic * kwin;
                    uint ky = r2 / p.kw, kx = r2 - ky * p.kw;
                    int iy = oy * int(p.sh) + int(ky * p.dh) - p.ph;
                    int ix = ox * int(p.sw) + int(kx * p.dw) - p.pw;
                    if (iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.wd))
                        va[j] = x(xbase + (ic * p.h + uint(iy)) * p.wd + uint(ix));
                }
            }
            uint gc = col0 + lr;
            vec4 vw = vec4(0.0);
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uint gk = k0 + lk + j;
                if (gc < og && gk < kdim) vw[j] = w(wbase + gc * kdim + gk);
            }
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

    [[unroll]] for (int i = 0; i < 16; i++) {
        uint gp = row0 + uint(i / 8) * 64u + ty * 4u + uint(i % 4);
        uint o = col0 + uint((i / 4) % 2) * 64u + tx * 4u;
        if (gp >= npix) continue;
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            if (o + j < og) {
                float v = acc[i][j];
                if (HAS_BIAS) v += bias(g * og + o + j);
                c_put((ni * p.oc + g * og + o + j) * npix + gp, v);
            }
        }
    }
}
