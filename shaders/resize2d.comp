#version 450
// Resamples x [N·C, H, W] planes to oh × ow as torch's interpolate without
// antialiasing: MODE 0 nearest (floor(o·in/out), in integers), 1 bilinear,
// 2 bicubic (a = -0.75, borders clamped), as ops/ref's Resize2D.
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 16) const uint MODE = 0u;

IN_F32(x, 0, 1)
OUT_F32(y, 1, 2)

layout(push_constant) uniform P {
    uint n; // planes · oh · ow
    uint h;
    uint w;
    uint oh;
    uint ow;
    uint align_corners;
} p;

uint plane_;

float at(int r, int c) {
    r = clamp(r, 0, int(p.h) - 1);
    c = clamp(c, 0, int(p.w) - 1);
    return x((plane_ * p.h + uint(r)) * p.w + uint(c));
}

float src_coord(uint o, uint inn, uint outn, bool clamp_neg) {
    if (p.align_corners != 0u) {
        if (outn <= 1u) return 0.0;
        return float(o) * float(inn - 1u) / float(outn - 1u);
    }
    float s = (float(o) + 0.5) * float(inn) / float(outn) - 0.5;
    return (clamp_neg && s < 0.0) ? 0.0 : s;
}

vec4 cubic(float t) {
    const float A = -0.75;
    float x1 = t + 1.0, x2 = t, x3 = 1.0 - t, x4 = 2.0 - t;
    return vec4(((A * x1 - 5.0 * A) * x1 + 8.0 * A) * x1 - 4.0 * A,
                ((A + 2.0) * x2 - (A + 3.0)) * x2 * x2 + 1.0,
                ((A + 2.0) * x3 - (A + 3.0)) * x3 * x3 + 1.0,
                ((A * x4 - 5.0 * A) * x4 + 8.0 * A) * x4 - 4.0 * A);
}

void main() {
    uint e = LINEAR_ID(256);
    if (e >= p.n) return;
    uint ox = e % p.ow, r = e / p.ow;
    uint oy = r % p.oh;
    plane_ = r / p.oh;
    float res;
    if (MODE == 0u) {
        int sy = int(min(oy * p.h / p.oh, p.h - 1u)), sx = int(min(ox * p.w / p.ow, p.w - 1u));
        res = at(sy, sx);
    } else if (MODE == 1u) {
        float sy = src_coord(oy, p.h, p.oh, true), sx = src_coord(ox, p.w, p.ow, true);
        int y0 = int(sy), x0 = int(sx);
        float ly = sy - float(y0), lx = sx - float(x0);
        int y1 = min(y0 + 1, int(p.h) - 1), x1 = min(x0 + 1, int(p.w) - 1);
        res = (1.0 - ly) * ((1.0 - lx) * at(y0, x0) + lx * at(y0, x1)) +
              ly * ((1.0 - lx) * at(y1, x0) + lx * at(y1, x1));
    } else {
        float sy = src_coord(oy, p.h, p.oh, false), sx = src_coord(ox, p.w, p.ow, false);
        float fy = floor(sy), fx = floor(sx);
        vec4 wy = cubic(sy - fy), wx = cubic(sx - fx);
        res = 0.0;
        for (int i = 0; i < 4; i++) {
            float rowv = 0.0;
            for (int j = 0; j < 4; j++) rowv += wx[j] * at(int(fy) - 1 + i, int(fx) - 1 + j);
            res += wy[i] * rowv;
        }
    }
    y_put(e, res);
}
