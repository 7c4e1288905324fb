#version 450
// Strided copy of a view of up to 6 dims: dst[do + Σ i_d·ds_d] =
// src[so + Σ i_d·ss_d]. Permute, slice, concat and pad are built on it.
#include "common.glsl"

layout(local_size_x = 256) in;

IN_F32(src, 0, 1)
OUT_F32(dst, 1, 2)

layout(push_constant) uniform P {
    uint n;
    uint rank;
    uint shape[6];
    uint ss[6];
    uint ds[6];
    uint so;
    uint dof;
} p;

void main() {
    uint i = LINEAR_ID(256);
    if (i >= p.n) return;
    uint is = p.so, id = p.dof, rem = i;
    for (int d = int(p.rank) - 1; d >= 0; d--) {
        uint q = rem / p.shape[d];
        uint idx = rem - q * p.shape[d];
        rem = q;
        is += idx * p.ss[d];
        id += idx * p.ds[d];
    }
    dst_put(id, src(is));
}
