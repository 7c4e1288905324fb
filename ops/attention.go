package ops

import (
	"sync"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// attnRows is the number of queries whose scores are held at once: one
// strip of attnRows × Lk scores per worker, never an Lq × Lk matrix.
const attnRows = 96

// attnBuffers is one worker's space: K and V packed for the micro-kernel
// (reused for every query block of a head), the score strip, the
// activation packing buffer and one block of outputs.
type attnBuffers struct {
	k, v packedB
	s, o []float32
	abuf []float32
	head int
	sums [attnRows]float32
}

var attnPool = sync.Pool{New: func() any { return &attnBuffers{abuf: alignedF32(mc * kc), head: -1} }}

// Attention computes softmax(q·kᵀ·scale + bias + mask)·v as ref.Attention
// does, for q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] → out
// [B, H, Lq, Dv]; bias, if not nil, is read at bias[bi·bstr[0] +
// hi·bstr[1] + i·bstr[2] + j·bstr[3]]; causal masks keys j > i.
//
// Queries are taken attnRows at a time: S = Q·Kᵀ by the matrix
// micro-kernel (K packed once per head), each row of S scaled, biased,
// exponentiated against its maximum (the vectorised exp) and summed, then
// O = P·V by the micro-kernel and each row divided by its sum. The
// softmax is exact two-pass over the whole row, as the reference's; the
// sums and products are float32 where the reference's are float64.
func Attention(out, q, k, v []float32, b, h, lq, lk, d, dv int, scale float32, causal bool,
	bias []float32, bstr [4]int) {
	heads := b * h
	blocks := (lq + attnRows - 1) / attnRows
	if heads == 0 || lq == 0 || dv == 0 {
		return
	}
	Parallel(heads*blocks, 1, func(lo, hi int) {
		buf := attnPool.Get().(*attnBuffers)
		defer attnPool.Put(buf)
		buf.head = -1
		for u := lo; u < hi; u++ {
			bh, blk := u/blocks, u%blocks
			attentionBlock(buf, out, q, k, v, bh, h, blk*attnRows, min(attnRows, lq-blk*attnRows),
				lq, lk, d, dv, scale, causal, bias, bstr)
		}
	})
}

func attentionBlock(buf *attnBuffers, out, q, k, v []float32, bh, h, q0, rows, lq, lk, d, dv int,
	scale float32, causal bool, bias []float32, bstr [4]int) {
	kh := k[bh*lk*d : (bh+1)*lk*d]
	vh := v[bh*lk*dv : (bh+1)*lk*dv]
	if buf.head != bh {
		buf.k.pack(lk, d, func(dst []float32, j0, nn, p0, kk int) {
			packB(dst, Matrix{N: lk, K: d, DType: dtype.F32, F32: kh}, j0, nn, p0, kk)
		})
		buf.v.pack(dv, lk, func(dst []float32, j0, nn, p0, kk int) {
			packRowsT(dst, vh, dv, j0, nn, p0, kk)
		})
		buf.head = bh
	}
	// keys any query of the block may see
	keys := lk
	if causal {
		keys = min(lk, q0+rows)
	}
	if n := rows * keys; cap(buf.s) < n {
		buf.s = make([]float32, n)
	}
	s := buf.s[:rows*keys]
	clear(s)
	if d > 0 {
		mulPacked(s, keys, q[(bh*lq+q0)*d:], d, rows, keys, d, &buf.k, buf.abuf)
	}
	bi, hi := bh/h, bh%h
	for r := range rows {
		i := q0 + r
		row := s[r*keys : (r+1)*keys]
		n := keys
		if causal {
			n = min(i+1, lk)
		}
		var m float32
		if bias != nil {
			bb := bias[bi*bstr[0]+hi*bstr[1]+i*bstr[2]:]
			for j := range row[:n] {
				row[j] = row[j]*scale + bb[j*bstr[3]]
			}
			m = scaleMax(row[:n], 1)
		} else {
			m = scaleMax(row[:n], scale)
		}
		buf.sums[r] = expSubSum(row[:n], m)
		clear(row[n:]) // masked keys weigh 0
	}
	if n := rows * dv; cap(buf.o) < n {
		buf.o = make([]float32, n)
	}
	o := buf.o[:rows*dv]
	clear(o)
	mulPacked(o, dv, s, keys, rows, dv, keys, &buf.v, buf.abuf)
	dst := out[(bh*lq+q0)*dv : (bh*lq+q0+rows)*dv]
	for r := range rows {
		inv := 1 / buf.sums[r]
		orow, drow := o[r*dv:(r+1)*dv], dst[r*dv:(r+1)*dv]
		for j, x := range orow {
			drow[j] = x * inv
		}
	}
}
