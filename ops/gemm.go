package ops

import (
	"encoding/binary"
	"math"
	"sync"
	"unsafe"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// Matrix is the right-hand operand of MatMul: N rows of K elements, stored
// either as float32 or as raw little-endian elements of a weight type that
// is widened to float32 panel by panel (never whole).
type Matrix struct {
	N, K  int
	DType dtype.DType
	F32   []float32 // DType F32
	Raw   []byte    // other float types
}

// The product is computed as in Goto and van de Geijn's "Anatomy of
// high-performance matrix multiplication" (and BLIS): the weight is packed
// kc × nc at a time (a block that stays in the shared L3) as micro-panels
// of nr columns; the activation mc × kc at a time (a block that stays in
// the core's L2) as micro-panels of mr rows; and a register-tiled
// micro-kernel multiplies one micro-panel of each (the B micro-panel,
// kc·nr·4 = 16 KiB, stays in L1) into an mr × nr tile of C.
//
// The sizes were tuned on a Zen 3 EPYC (32 KiB L1d, 512 KiB L2, 32 MiB
// L3; BenchmarkGemmCore): mc·kc·4 = 192 KiB of A, kc·nc·4 = 6 MiB of B,
// a 32 KiB B micro-panel. kc 512 measured 5% faster than 256 or 384
// (fewer passes over C); mc between 96 and 144 made no clear difference.
const (
	mr = 6  // rows of the register tile
	nr = 16 // columns of the register tile: two 8-float AVX registers
	kc = 512
	mc = 96 // a multiple of mr
	nc = 3072
)

// microKernel computes c[i·ldc+j] += Σ_{p<k} a[mr·p+i]·b[nr·p+j] for
// i < mr, j < nr, with a and b packed micro-panels. It is chosen at
// start-up from the CPU's features (see gemm_amd64.go).
var microKernel = microKernelGo

// kernelName names the micro-kernel in use (reported by Describe).
var kernelName = "go"

// microKernelGo is the portable micro-kernel: the same sum, in the same
// order over p, as the SIMD kernels, with each product rounded before it
// is added (no fused multiply-add).
func microKernelGo(k int, a, b, c []float32, ldc int) {
	var acc [mr * nr]float32
	a, b = a[:mr*k], b[:nr*k]
	for p := range k {
		bp := b[nr*p : nr*p+nr]
		for i := range mr {
			x := a[mr*p+i]
			row := acc[i*nr : i*nr+nr]
			for j, y := range bp {
				row[j] += x * y
			}
		}
	}
	for i := range mr {
		row := c[i*ldc : i*ldc+nr]
		for j := range row {
			row[j] += acc[i*nr+j]
		}
	}
}

// MatMul computes c [M, N] = a [M, K] · bᵀ (+ bias [N] if not nil) in
// float32, with the weight widened exactly from its storage type. Work is
// split over the cores by columns of c (by rows when c is narrow).
func MatMul(c, a []float32, m int, b Matrix, bias []float32) {
	n, k := b.N, b.K
	Parallel(m, max(1, 1<<14/max(n, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*n : i*n+n]
			if bias != nil {
				copy(row, bias)
			} else {
				clear(row)
			}
		}
	})
	if m == 0 || n == 0 || k == 0 {
		return
	}
	if m < mr {
		gemv(c, a, m, b)
		return
	}
	w := Workers
	if w > 1 && 2*m*n*k < 1<<20 {
		w = 1 // not worth a goroutine
	}
	colTiles, rowTiles := (n+nr-1)/nr, (m+mr-1)/mr
	if colTiles >= w || colTiles >= rowTiles {
		// columns: each worker packs its own part of the weight
		w = min(w, colTiles)
		Parallel(w, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				n0, n1 := colTiles*i/w*nr, min(n, colTiles*(i+1)/w*nr)
				gemm(c, a, b, 0, m, n0, n1)
			}
		})
		return
	}
	w = min(w, rowTiles)
	Parallel(w, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			m0, m1 := rowTiles*i/w*mr, min(m, rowTiles*(i+1)/w*mr)
			gemm(c, a, b, m0, m1, 0, n)
		}
	})
}

// buffers holds one worker's packing space.
type buffers struct {
	a, b []float32
}

var bufPool = sync.Pool{New: func() any {
	return &buffers{a: alignedF32(mc * kc), b: alignedF32(nc * kc)}
}}

// alignedF32 allocates n floats starting on a 64-byte cache line, so that
// a micro-panel's rows of nr floats never straddle two lines.
func alignedF32(n int) []float32 {
	s := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&s[0])) % 64 / 4)
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}

// gemm adds a[m0:m1] · b[n0:n1]ᵀ into c[m0:m1, n0:n1].
func gemm(c, a []float32, b Matrix, m0, m1, n0, n1 int) {
	gemmCore(c, b.N, a, b.K, m0, m1, n0, n1, b.K, func(dst []float32, j0, nn, p0, kk int) {
		packB(dst, b, j0, nn, p0, kk)
	})
}

// gemmCore adds rows [m0, m1) of a (row stride lda, depth k) times
// columns [n0, n1) of a right operand into c (row stride ldc), on the
// calling goroutine. The right operand is whatever packRight packs in
// packB's layout (a weight, implicit image patches).
func gemmCore(c []float32, ldc int, a []float32, lda, m0, m1, n0, n1, k int,
	packRight func(dst []float32, j0, nn, p0, kk int)) {
	buf := bufPool.Get().(*buffers)
	defer bufPool.Put(buf)
	for jc := n0; jc < n1; jc += nc {
		nn := min(nc, n1-jc)
		for pc := 0; pc < k; pc += kc {
			kk := min(kc, k-pc)
			packRight(buf.b, jc, nn, pc, kk)
			for ic := m0; ic < m1; ic += mc {
				mm := min(mc, m1-ic)
				packA(buf.a, a, lda, ic, mm, pc, kk)
				macroKernel(c[ic*ldc+jc:], ldc, buf.a, mm, buf.b, nn, kk, kk)
			}
		}
	}
}

// macroKernel adds the product of mm packed rows (ap) and nn packed
// columns (bp, panels bk deep of which the first kk are used) into c,
// row stride ldc. Each B micro-panel stays in L1 while the A micro-panels
// stream past it from L2.
func macroKernel(c []float32, ldc int, ap []float32, mm int, bp []float32, nn, kk, bk int) {
	var edge [mr * nr]float32
	for jr := 0; jr < nn; jr += nr {
		bpan := bp[jr*bk : jr*bk+nr*kk]
		cols := min(nr, nn-jr)
		for ir := 0; ir < mm; ir += mr {
			apan := ap[ir*kk : (ir+mr)*kk]
			rows := min(mr, mm-ir)
			off := ir*ldc + jr
			if rows == mr && cols == nr {
				microKernel(kk, apan, bpan, c[off:], ldc)
				continue
			}
			// a partial tile: compute it whole, keep what fits
			clear(edge[:])
			microKernel(kk, apan, bpan, edge[:], nr)
			for i := range rows {
				dst := c[off+i*ldc : off+i*ldc+cols]
				for j := range dst {
					dst[j] += edge[i*nr+j]
				}
			}
		}
	}
}

// packedB is a right-hand operand packed whole for repeated products:
// depth blocks of kc, each holding the nr-column micro-panels of all n
// columns (block pc starts at pc·roundUp(n, nr)).
type packedB struct {
	n, k int
	data []float32
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// pack fills p for n columns of depth k, using fill(dst, j0, nn, p0, kk)
// to pack each block (packB's layout).
func (p *packedB) pack(n, k int, fill func(dst []float32, j0, nn, p0, kk int)) {
	p.n, p.k = n, k
	size := roundUp(n, nr) * k
	if cap(p.data) < size {
		p.data = alignedF32(size)
	}
	p.data = p.data[:size]
	for pc := 0; pc < k; pc += kc {
		fill(p.data[pc*roundUp(n, nr):], 0, n, pc, min(kc, k-pc))
	}
}

// mulPacked adds a [m, depth] (row stride lda) times the first n columns
// and depth rows of p into c [m, n] (row stride ldc), on the calling
// goroutine. abuf holds mc·kc floats.
func mulPacked(c []float32, ldc int, a []float32, lda, m, n, depth int, p *packedB, abuf []float32) {
	npad := roundUp(p.n, nr)
	for pc := 0; pc < depth; pc += kc {
		kk := min(kc, depth-pc)
		bk := min(kc, p.k-pc) // the block's packed depth
		for ic := 0; ic < m; ic += mc {
			mm := min(mc, m-ic)
			packA(abuf, a, lda, ic, mm, pc, kk)
			macroKernel(c[ic*ldc:], ldc, abuf, mm, p.data[pc*npad:], n, kk, bk)
		}
	}
}

// packA copies rows [i0, i0+mm) × columns [p0, p0+kk) of a (row stride
// lda) into micro-panels of mr rows, interleaved by column:
// dst[ir·kk + mr·p + r] = a[i0+ir+r][p0+p], zero past the last row.
func packA(dst, a []float32, lda, i0, mm, p0, kk int) {
	for ir := 0; ir < mm; ir += mr {
		panel := dst[ir*kk : (ir+mr)*kk]
		rows := min(mr, mm-ir)
		if rows == mr {
			// the common case, unrolled over the six rows
			base := (i0+ir)*lda + p0
			r0 := a[base : base+kk]
			r1 := a[base+lda : base+lda+kk]
			r2 := a[base+2*lda : base+2*lda+kk]
			r3 := a[base+3*lda : base+3*lda+kk]
			r4 := a[base+4*lda : base+4*lda+kk]
			r5 := a[base+5*lda : base+5*lda+kk]
			for p := range r0 {
				o := panel[mr*p : mr*p+mr : mr*p+mr]
				o[0], o[1], o[2], o[3], o[4], o[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for r := range rows {
			src := a[(i0+ir+r)*lda+p0 : (i0+ir+r)*lda+p0+kk]
			for p, v := range src {
				panel[mr*p+r] = v
			}
		}
		for r := rows; r < mr; r++ {
			for p := range kk {
				panel[mr*p+r] = 0
			}
		}
	}
}

// packRowsT packs src (rows of ld floats) transposed: column j of the
// product's right operand is column j of src, dst[jr·kk + nr·p + j] =
// src[(p0+p)·ld + j0+jr+j], zero past column nn. (Attention's V, whose
// rows are keys, multiplies as the right operand of P·V this way.)
func packRowsT(dst, src []float32, ld, j0, nn, p0, kk int) {
	for jr := 0; jr < nn; jr += nr {
		panel := dst[jr*kk : (jr+nr)*kk]
		cols := min(nr, nn-jr)
		for p := range kk {
			row := src[(p0+p)*ld+j0+jr : (p0+p)*ld+j0+jr+cols]
			out := panel[nr*p : nr*p+nr]
			copy(out, row)
			clear(out[cols:])
		}
	}
}

// packB widens rows [j0, j0+nn) × columns [p0, p0+kk) of b into
// micro-panels of nr rows of b (columns of bᵀ), interleaved by column:
// dst[jr·kk + nr·p + j] = b[j0+jr+j][p0+p], zero past the last row.
func packB(dst []float32, b Matrix, j0, nn, p0, kk int) {
	for jr := 0; jr < nn; jr += nr {
		panel := dst[jr*kk : (jr+nr)*kk]
		cols := min(nr, nn-jr)
		for j := range cols {
			off := (j0+jr+j)*b.K + p0
			switch b.DType {
			case dtype.F32:
				for p, v := range b.F32[off : off+kk] {
					panel[nr*p+j] = v
				}
			case dtype.BF16:
				src := b.Raw[2*off : 2*(off+kk)]
				for p := range kk {
					panel[nr*p+j] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*p:])) << 16)
				}
			default:
				sz := b.DType.Size()
				var tmp [kc]float32
				dtype.ToF32(b.DType, b.Raw[off*sz:(off+kk)*sz], tmp[:kk])
				for p, v := range tmp[:kk] {
					panel[nr*p+j] = v
				}
			}
		}
		for j := cols; j < nr; j++ {
			for p := range kk {
				panel[nr*p+j] = 0
			}
		}
	}
}
