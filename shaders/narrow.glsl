// Rounds float x to 16-bit pairs, bit for bit as package dtype's
// F32ToBF16 / F32ToF16 (round to nearest even; quiet NaNs). Invocation k
// writes the word holding elements 2k and 2k+1.
#include "common.glsl"

layout(local_size_x = 256) in;

IN_F32(x, 0, 1)
OUT_U32(y, 1, 2)

layout(push_constant) uniform P {
    uint n;
} p;

uint to_bf16(float f) {
    uint b = floatBitsToUint(f);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (b >> 16) | 0x40u;
    return (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
}

uint to_f16(float f) {
    uint b = floatBitsToUint(f);
    uint sgn = (b >> 16) & 0x8000u;
    int e8 = int((b >> 23) & 0xffu);
    uint man = b & 0x7fffffu;
    if (e8 == 0xff) return sgn | (man != 0u ? 0x7e00u : 0x7c00u);
    int e = e8 - 127 + 15;
    if (e >= 0x1f) return sgn | 0x7c00u;
    if (e <= 0) {
        if (e < -10) return sgn;
        man |= 0x800000u;
        uint shift = uint(14 - e);
        uint half_ = 1u << (shift - 1u);
        uint r = man >> shift;
        uint rem = man & ((1u << shift) - 1u);
        if (rem > half_ || (rem == half_ && (r & 1u) == 1u)) r++;
        return sgn | r;
    }
    uint r = (uint(e) << 10) | (man >> 13);
    uint rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u) == 1u)) r++;
    return sgn | r;
}

#if defined(WTYPE_BF16)
#define NARROW to_bf16
#else
#define NARROW to_f16
#endif

void main() {
    uint k = LINEAR_ID(256);
    uint i = 2u * k;
    if (i >= p.n) return;
    uint lo = NARROW(x(i));
    uint hi = i + 1u < p.n ? NARROW(x(i + 1u)) : 0u;
    y_put(k, lo | (hi << 16));
}
