// Shared declarations of the fluxpulid compute shaders.
//
// Tensors are bound as arrays of NCHUNK storage buffers ("chunks"): a
// tensor larger than one descriptor's range (lavapipe: 128 MiB) spans
// several buffers of 2^CHUNK_SHIFT 32-bit words each, and element i lives
// in chunk i >> CHUNK_SHIFT at word i & CHUNK_MASK. Specialisation constant
// 1+b tells binding b whether its tensor spans several chunks; when it does
// not (the usual case) the chunk selection folds away at pipeline creation.
// The Go side (backend/vulkan/exec.go) sets these constants; constant ids
// from 16 on belong to the individual shaders.
//
// The chunk is selected with a switch over constant indices rather than by
// indexing the descriptor array with a computed value, because that would
// need the shaderStorageBufferArrayNonUniformIndexing feature, which
// lavapipe lacks.

#define NCHUNK 4
layout(constant_id = 0) const uint CHUNK_SHIFT = 28u;
#define CHUNK_MASK ((1u << CHUNK_SHIFT) - 1u)

// LINEAR_ID rebuilds a flat invocation index from a 2-D grid of
// workgroups of WG invocations (the Go side's groups1D).
#define LINEAR_ID(WG) ((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * (WG) + gl_LocalInvocationID.x)

#define CHUNK_SWITCH(ARR, I, EXPR_OF) \
    uint o_ = (I) & CHUNK_MASK; \
    switch ((I) >> CHUNK_SHIFT) { \
    case 0u: return EXPR_OF(ARR[0].v[o_]); \
    case 1u: return EXPR_OF(ARR[1].v[o_]); \
    case 2u: return EXPR_OF(ARR[2].v[o_]); \
    default: return EXPR_OF(ARR[3].v[o_]); \
    }

#define ID_(X) (X)

// IN_F32(x, B, S): read-only float tensor at binding B with multi-chunk
// constant id S; float x(uint i) reads element i.
#define IN_F32(NAME, BIND, SID) \
    layout(constant_id = SID) const bool NAME##_multi = false; \
    layout(std430, set = 0, binding = BIND) readonly buffer NAME##_blk { float v[]; } NAME##_b[NCHUNK]; \
    float NAME(uint i) { \
        if (!NAME##_multi) return NAME##_b[0].v[i]; \
        CHUNK_SWITCH(NAME##_b, i, ID_) \
    }

// IN_U32(x, B, S): read-only uint tensor (int32 ids).
#define IN_U32(NAME, BIND, SID) \
    layout(constant_id = SID) const bool NAME##_multi = false; \
    layout(std430, set = 0, binding = BIND) readonly buffer NAME##_blk { uint v[]; } NAME##_b[NCHUNK]; \
    uint NAME(uint i) { \
        if (!NAME##_multi) return NAME##_b[0].v[i]; \
        CHUNK_SWITCH(NAME##_b, i, ID_) \
    }

// OUT_F32(y, B, S): float output tensor; y_put(i, v) writes element i.
#define OUT_F32(NAME, BIND, SID) \
    layout(constant_id = SID) const bool NAME##_multi = false; \
    layout(std430, set = 0, binding = BIND) writeonly buffer NAME##_blk { float v[]; } NAME##_b[NCHUNK]; \
    void NAME##_put(uint i, float x) { \
        if (!NAME##_multi) { NAME##_b[0].v[i] = x; return; } \
        uint o_ = i & CHUNK_MASK; \
        switch (i >> CHUNK_SHIFT) { \
        case 0u: NAME##_b[0].v[o_] = x; break; \
        case 1u: NAME##_b[1].v[o_] = x; break; \
        case 2u: NAME##_b[2].v[o_] = x; break; \
        default: NAME##_b[3].v[o_] = x; break; \
        } \
    }

// OUT_U32(y, B, S): output of packed 16-bit pairs, one uint per pair.
#define OUT_U32(NAME, BIND, SID) \
    layout(constant_id = SID) const bool NAME##_multi = false; \
    layout(std430, set = 0, binding = BIND) writeonly buffer NAME##_blk { uint v[]; } NAME##_b[NCHUNK]; \
    void NAME##_put(uint i, uint x) { \
        if (!NAME##_multi) { NAME##_b[0].v[i] = x; return; } \
        uint o_ = i & CHUNK_MASK; \
        switch (i >> CHUNK_SHIFT) { \
        case 0u: NAME##_b[0].v[o_] = x; break; \
        case 1u: NAME##_b[1].v[o_] = x; break; \
        case 2u: NAME##_b[2].v[o_] = x; break; \
        default: NAME##_b[3].v[o_] = x; break; \
        } \
    }

// 16-bit floats are stored two per uint, element 2k in the low half
// (little-endian), and widened exactly to float.
float bf16_lo(uint w) { return uintBitsToFloat(w << 16); }
float bf16_hi(uint w) { return uintBitsToFloat(w & 0xffff0000u); }
float f16_lo(uint w) { return unpackHalf2x16(w).x; }
float f16_hi(uint w) { return unpackHalf2x16(w).y; }

// IN_HALF(x, B, S, LO, HI): read-only 16-bit tensor decoded by LO/HI;
// x(i) reads element i, x_pair(k) elements 2k and 2k+1.
#define IN_HALF(NAME, BIND, SID, LO, HI) \
    layout(constant_id = SID) const bool NAME##_multi = false; \
    layout(std430, set = 0, binding = BIND) readonly buffer NAME##_blk { uint v[]; } NAME##_b[NCHUNK]; \
    uint NAME##_word(uint k) { \
        if (!NAME##_multi) return NAME##_b[0].v[k]; \
        CHUNK_SWITCH(NAME##_b, k, ID_) \
    } \
    float NAME(uint i) { \
        uint w = NAME##_word(i >> 1); \
        return (i & 1u) == 0u ? LO(w) : HI(w); \
    } \
    vec2 NAME##_pair(uint k) { \
        uint w = NAME##_word(k); \
        return vec2(LO(w), HI(w)); \
    }

#define IN_BF16(NAME, BIND, SID) IN_HALF(NAME, BIND, SID, bf16_lo, bf16_hi)
#define IN_F16(NAME, BIND, SID) IN_HALF(NAME, BIND, SID, f16_lo, f16_hi)

// IN_W declares a weight operand in the type the including .comp file
// selects with WTYPE_F32, WTYPE_F16 or WTYPE_BF16.
#if defined(WTYPE_BF16)
#define IN_W(NAME, BIND, SID) IN_BF16(NAME, BIND, SID)
#elif defined(WTYPE_F16)
#define IN_W(NAME, BIND, SID) IN_F16(NAME, BIND, SID)
#else
#define IN_W(NAME, BIND, SID) IN_F32(NAME, BIND, SID)
#endif
