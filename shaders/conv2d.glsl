// conv2d (torch's cross-correlation) as an implicit matrix product per
// sample and group: c[o, p] = Σ_kk w[o, kk]·col[p, kk] + bias[o], where p
// runs over output pixels, kk over (input channel, ky, kx) and col is the
// zero-padded input patch, gathered on the fly instead of materialised
// (im2col). Tiling as in matmul.glsl; rows are pixels, columns channels.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

#define BM 64
#define BN 64
#define BK 16

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

shared float as_[BK * BM];
shared float ws_[BK * BN];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u, ty = t / 16u;
    uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    uint ni = gl_WorkGroupID.z / p.groups, g = gl_WorkGroupID.z % p.groups;
    uint cg = p.ch / p.groups, og = p.oc / p.groups;
    uint npix = p.oh * p.ow, kwin = p.kh * p.kw, kdim = cg * kwin;
    uint xbase = (ni * p.ch + g * cg) * p.h * p.wd;
    uint wbase = g * og * kdim;

    // acc[r][q] is the output at row ty+16r, column tx+16q; vectors and
    // unrolled loops keep it in registers.
    vec4 acc[4] = vec4[4](vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));

    for (uint k0 = 0u; k0 < kdim; k0 += BK) {
        for (uint e = t; e < BM * BK; e += 256u) {
            uint rr = e / BK, kk = e % BK;
            uint pix = row0 + rr, gk = k0 + kk;
            float v = 0.0;
            if (pix < npix && gk < kdim) {
                uint ic = gk / kwin, r2 = gk % kwin;
                uint ky = r2 / p.kw, kx = r2 % p.kw;
                uint oy = pix / p.ow, ox = pix % p.ow;
                int iy = int(oy * p.sh + ky * p.dh) - p.ph;
                int ix = int(ox * p.sw + kx * p.dw) - p.pw;
                if (iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.wd))
                    v = x(xbase + (ic * p.h + uint(iy)) * p.wd + uint(ix));
            }
            as_[kk * BM + rr] = v;
        }
        for (uint e = t; e < BN * BK; e += 256u) {
            uint rr = e / BK, kk = e % BK;
            uint gc = col0 + rr, gk = k0 + kk;
            ws_[kk * BN + rr] = (gc < og && gk < kdim) ? w(wbase + gc * kdim + gk) : 0.0;
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

    [[unroll]] for (int r = 0; r < 4; r++) {
        uint pix = row0 + ty + 16u * uint(r);
        if (pix >= npix) continue;
        [[unroll]] for (int q = 0; q < 4; q++) {
            uint o = col0 + tx + 16u * uint(q);
            if (o >= og) continue;
            float v = acc[r][q];
            if (HAS_BIAS) v += bias(g * og + o);
            c_put((ni * p.oc + g * og + o) * npix + pix, v);
        }
    }
}
