#version 450
// Max or average pooling of x [N·C, H, W] planes, as ops/ref's Pool2D:
// padded cells are skipped; the average divides by the valid count, or by
// the window clipped to the padded input when COUNT_PAD (torch's
// count_include_pad).
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 16) const bool AVG = false;
layout(constant_id = 17) const bool COUNT_PAD = false;

IN_F32(x, 0, 1)
OUT_F32(y, 1, 2)

layout(push_constant) uniform P {
    uint n; // planes · oh · ow
    uint h;
    uint w;
    uint oh;
    uint ow;
    uint kh;
    uint kw;
    uint sh;
    uint sw;
    int pt;
    int pl;
    int pb;
    int pr;
} p;

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    uint e = LINEAR_ID(256);
    if (e >= p.n) return;
    uint ox = e % p.ow, r = e / p.ow;
    uint oy = r % p.oh, plane = r / p.oh;
    int y0 = int(oy * p.sh) - p.pt, x0 = int(ox * p.sw) - p.pl;
    float m = NEG_INF, s = 0.0;
    uint cnt = 0u;
    for (uint ky = 0u; ky < p.kh; ky++) {
        int iy = y0 + int(ky);
        if (iy < 0 || iy >= int(p.h)) continue;
        for (uint kx = 0u; kx < p.kw; kx++) {
            int ix = x0 + int(kx);
            if (ix < 0 || ix >= int(p.w)) continue;
            float v = x((plane * p.h + uint(iy)) * p.w + uint(ix));
            m = max(m, v);
            s += v;
            cnt++;
        }
    }
    float res = m;
    if (AVG) {
        float div = float(cnt);
        if (COUNT_PAD) {
            int he = min(y0 + int(p.kh), int(p.h) + p.pb);
            int we = min(x0 + int(p.kw), int(p.w) + p.pr);
            div = float((he - y0) * (we - x0));
        }
        res = s / div;
    }
    y_put(e, res);
}
