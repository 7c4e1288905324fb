//go:build !purego

#include "textflag.h"

// Vectorised float32 exp and the kernels built on it. The constants are
// the Go array expConst (exp.go), one 8-lane vector per entry:
#define C_HI    ·expConst+0(SB)
#define C_LO    ·expConst+32(SB)
#define C_LOG2E ·expConst+64(SB)
#define C_LN2HI ·expConst+96(SB)
#define C_LN2LO ·expConst+128(SB)
#define C_P0    ·expConst+160(SB)
#define C_P1    ·expConst+192(SB)
#define C_P2    ·expConst+224(SB)
#define C_P3    ·expConst+256(SB)
#define C_P4    ·expConst+288(SB)
#define C_P5    ·expConst+320(SB)
#define C_ONE   ·expConst+352(SB)
#define C_GELU  ·expConst+384(SB)
#define C_CUBIC ·expConst+416(SB)
#define C_SIGN  ·expConst+448(SB)
#define C_INF   ·expConst+480(SB)

// EXP8 computes Y0 = exp(Y0) lane by lane, clobbering Y1–Y5 and Y8:
// n = round(x·log₂e), r = x − n·ln2 (ln2 split in two so n·ln2hi is
// exact), e^r by Cephes' degree-5 polynomial, then 2ⁿ added into the
// exponent bits. x is clamped to [lo, hi] so 2ⁿ stays a normal number;
// below lo the result is flushed to 0, above hi it is +∞, NaN passes
// through.
#define EXP8 \
	VMOVUPS      C_HI, Y1              \
	VCMPPS       $0x1e, Y1, Y0, Y8     \
	VMINPS       Y0, Y1, Y1            \
	VMOVUPS      C_LO, Y2              \
	VMAXPS       Y1, Y2, Y1            \
	VCMPPS       $5, Y2, Y0, Y5        \
	VMULPS       C_LOG2E, Y1, Y2       \
	VROUNDPS     $0, Y2, Y2            \
	VFNMADD231PS C_LN2HI, Y2, Y1       \
	VFNMADD231PS C_LN2LO, Y2, Y1       \
	VMOVUPS      C_P0, Y3              \
	VFMADD213PS  C_P1, Y1, Y3          \
	VFMADD213PS  C_P2, Y1, Y3          \
	VFMADD213PS  C_P3, Y1, Y3          \
	VFMADD213PS  C_P4, Y1, Y3          \
	VFMADD213PS  C_P5, Y1, Y3          \
	VMULPS       Y1, Y1, Y4            \
	VFMADD213PS  Y1, Y4, Y3            \
	VADDPS       C_ONE, Y3, Y3         \
	VCVTPS2DQ    Y2, Y2                \
	VPSLLD       $23, Y2, Y2           \
	VPADDD       Y2, Y3, Y3            \
	VANDPS       Y5, Y3, Y0            \
	VBLENDVPS    Y8, C_INF, Y0, Y0

// func expAVX2(dst, src *float32, n int)
// dst[i] = exp(src[i]) for n a multiple of 8.
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   expdone

exploop:
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     exploop

expdone:
	VZEROUPPER
	RET

// func expSubSumAVX2(x *float32, n int, m float32) float32
// x[i] = exp(x[i] − m) in place for n a multiple of 8; returns Σ x[i].
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Y7
	VXORPS       Y6, Y6, Y6
	SHRQ         $3, CX
	JZ           essum

esloop:
	VMOVUPS (DI), Y0
	VSUBPS  Y7, Y0, Y0
	EXP8
	VMOVUPS Y0, (DI)
	VADDPS  Y0, Y6, Y6
	ADDQ    $32, DI
	DECQ    CX
	JNZ     esloop

essum:
	VEXTRACTF128 $1, Y6, X1
	VADDPS       X1, X6, X6
	VHADDPS      X6, X6, X6
	VHADDPS      X6, X6, X6
	MOVSS        X6, ret+24(FP)
	VZEROUPPER
	RET

// func siluAVX2(dst, src *float32, n int)
// dst[i] = x/(1+exp(−x)), x = src[i], for n a multiple of 8.
TEXT ·siluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   siludone

siluloop:
	VMOVUPS (SI), Y6
	VXORPS  C_SIGN, Y6, Y0
	EXP8
	VADDPS  C_ONE, Y0, Y0
	VDIVPS  Y0, Y6, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     siluloop

siludone:
	VZEROUPPER
	RET

// func geluTanhAVX2(dst, src *float32, n int)
// dst[i] = 0.5x(1+tanh(√(2/π)(x+0.044715x³))), computed as the equal
// x/(1+exp(−2√(2/π)·x·(1+0.044715x²))), which has no cancellation.
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   geludone

geluloop:
	VMOVUPS     (SI), Y6
	VMULPS      Y6, Y6, Y0
	VMOVUPS     C_ONE, Y1
	VFMADD231PS C_CUBIC, Y0, Y1
	VMULPS      Y6, Y1, Y1
	VMULPS      C_GELU, Y1, Y0
	EXP8
	VADDPS      C_ONE, Y0, Y0
	VDIVPS      Y0, Y6, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         geluloop

geludone:
	VZEROUPPER
	RET

// func scaleMaxAVX2(x *float32, n int, s float32) float32
// x[i] *= s in place for n a multiple of 8 (n > 0); returns max x[i].
TEXT ·scaleMaxAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Y7
	VMOVUPS      (DI), Y6
	VMULPS       Y7, Y6, Y6
	SHRQ         $3, CX

smloop:
	VMOVUPS (DI), Y0
	VMULPS  Y7, Y0, Y0
	VMOVUPS Y0, (DI)
	VMAXPS  Y0, Y6, Y6
	ADDQ    $32, DI
	DECQ    CX
	JNZ     smloop

	VEXTRACTF128 $1, Y6, X1
	VMAXPS       X1, X6, X6
	VPERMILPS    $0x4e, X6, X1
	VMAXPS       X1, X6, X6
	VPERMILPS    $0xb1, X6, X1
	VMAXPS       X1, X6, X6
	MOVSS        X6, ret+24(FP)
	VZEROUPPER
	RET
