#version 450
// dst[i] = value for i < n.
#include "common.glsl"

layout(local_size_x = 256) in;

OUT_F32(dst, 0, 1)

layout(push_constant) uniform P {
    uint n;
    float value;
} p;

void main() {
    uint i = LINEAR_ID(256);
    if (i < p.n) dst_put(i, p.value);
}
