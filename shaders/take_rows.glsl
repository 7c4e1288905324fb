// out[i, :] = table[ids[i], :] for a 2-D table of WTYPE_*; ids are checked
// on the host.
#include "common.glsl"

layout(local_size_x = 256) in;

IN_W(table, 0, 1)
IN_U32(ids, 1, 2)
OUT_F32(y, 2, 3)

layout(push_constant) uniform P {
    uint n; // ids · d
    uint d;
} p;

void main() {
    uint e = LINEAR_ID(256);
    if (e >= p.n) return;
    uint i = e / p.d, j = e - i * p.d;
    y_put(e, table(ids(i) * p.d + j));
}
