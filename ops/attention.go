package ops

import "math"

// Attention computes softmax(q·kᵀ·scale + bias + mask)·v exactly as
// ref.Attention, one query row at a time: only one row of scores per
// worker exists, never an Lq×Lk matrix.
func Attention(out, q, k, v []float32, b, h, lq, lk, d, dv int, scale float32, causal bool,
	bias []float32, bstr [4]int) {
	rows := b * h * lq
	Parallel(rows, max(1, 4096/max(lk*d, 1)), func(lo, hi int) {
		scores := make([]float32, lk)
		acc := make([]float32, dv)
		for r := lo; r < hi; r++ {
			bh, i := r/lq, r%lq
			bi, hi := bh/h, bh%h
			qi := q[r*d : r*d+d]
			kh := k[bh*lk*d : (bh+1)*lk*d]
			vh := v[bh*lk*dv : (bh+1)*lk*dv]
			n := lk
			if causal {
				n = min(i+1, lk)
			}
			m := float32(math.Inf(-1))
			for j := range n {
				s := Dot(qi, kh[j*d:j*d+d]) * scale
				if bias != nil {
					s += bias[bi*bstr[0]+hi*bstr[1]+i*bstr[2]+j*bstr[3]]
				}
				scores[j] = s
				if s > m {
					m = s
				}
			}
			var z float64
			for j := range n {
				e := float32(math.Exp(float64(scores[j] - m)))
				scores[j] = e
				z += float64(e)
			}
			clear(acc)
			for j := range n {
				Axpy(scores[j], vh[j*dv:j*dv+dv], acc)
			}
			inv := float32(1 / z)
			o := out[r*dv : r*dv+dv]
			for p, x := range acc {
				o[p] = x * inv
			}
		}
	})
}

// Dot returns Σ x[i]·y[i] with four independent accumulators.
func Dot(x, y []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < n; i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy computes y += alpha·x.
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
