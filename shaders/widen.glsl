// y = float(x) for a 16-bit tensor x (WTYPE_BF16 or WTYPE_F16).
#include "common.glsl"

layout(local_size_x = 256) in;

IN_W(x, 0, 1)
OUT_F32(y, 1, 2)

layout(push_constant) uniform P {
    uint n;
} p;

void main() {
    uint i = LINEAR_ID(256);
    if (i < p.n) y_put(i, x(i));
}
