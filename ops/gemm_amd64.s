//go:build !purego

#include "textflag.h"

// func gemm6x16AVX2(k int, a, b, c *float32, ldc int)
//
// c[i][j] += Σ_{p<k} a[6p+i]·b[16p+j] for i < 6, j < 16: a is a packed
// micro-panel of A (6 rows interleaved per k), b one of Bᵀ (16 columns per
// k), c rows ldc floats apart. The 6×16 tile lives in Y4–Y15; each step
// loads 16 floats of b into Y0, Y1 and broadcasts the 6 values of a.
TEXT ·gemm6x16AVX2(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

	// fetch the C tile now: its rows are far apart in a large C and
	// would otherwise stall the stores after the loop
	MOVQ R8, R9
	MOVQ DX, R10
	PREFETCHT0 (R10)
	PREFETCHT0 63(R10)
	ADDQ R9, R10
	PREFETCHT0 (R10)
	PREFETCHT0 63(R10)
	ADDQ R9, R10
	PREFETCHT0 (R10)
	PREFETCHT0 63(R10)
	ADDQ R9, R10
	PREFETCHT0 (R10)
	PREFETCHT0 63(R10)
	ADDQ R9, R10
	PREFETCHT0 (R10)
	PREFETCHT0 63(R10)
	ADDQ R9, R10
	PREFETCHT0 (R10)
	PREFETCHT0 63(R10)

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

#define STEP(ao, bo) \
	VMOVUPS bo(DI), Y0            \
	VMOVUPS bo+32(DI), Y1         \
	VBROADCASTSS ao(SI), Y2       \
	VFMADD231PS Y0, Y2, Y4        \
	VFMADD231PS Y1, Y2, Y5        \
	VBROADCASTSS ao+4(SI), Y3     \
	VFMADD231PS Y0, Y3, Y6        \
	VFMADD231PS Y1, Y3, Y7        \
	VBROADCASTSS ao+8(SI), Y2     \
	VFMADD231PS Y0, Y2, Y8        \
	VFMADD231PS Y1, Y2, Y9        \
	VBROADCASTSS ao+12(SI), Y3    \
	VFMADD231PS Y0, Y3, Y10       \
	VFMADD231PS Y1, Y3, Y11       \
	VBROADCASTSS ao+16(SI), Y2    \
	VFMADD231PS Y0, Y2, Y12       \
	VFMADD231PS Y1, Y2, Y13       \
	VBROADCASTSS ao+20(SI), Y3    \
	VFMADD231PS Y0, Y3, Y14       \
	VFMADD231PS Y1, Y3, Y15

loop4:
	PREFETCHT0 384(SI)
	STEP(0, 0)
	STEP(24, 64)
	PREFETCHT0 512(DI)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

store:
	VADDPS  (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS  32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ    R8, DX
	VADDPS  (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS  32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	ADDQ    R8, DX
	VADDPS  (DX), Y8, Y8
	VMOVUPS Y8, (DX)
	VADDPS  32(DX), Y9, Y9
	VMOVUPS Y9, 32(DX)
	ADDQ    R8, DX
	VADDPS  (DX), Y10, Y10
	VMOVUPS Y10, (DX)
	VADDPS  32(DX), Y11, Y11
	VMOVUPS Y11, 32(DX)
	ADDQ    R8, DX
	VADDPS  (DX), Y12, Y12
	VMOVUPS Y12, (DX)
	VADDPS  32(DX), Y13, Y13
	VMOVUPS Y13, 32(DX)
	ADDQ    R8, DX
	VADDPS  (DX), Y14, Y14
	VMOVUPS Y14, (DX)
	VADDPS  32(DX), Y15, Y15
	VMOVUPS Y15, 32(DX)
	VZEROUPPER
	RET
