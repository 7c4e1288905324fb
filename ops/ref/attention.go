package ref

import "math"

// RoPE rotates adjacent pairs of x [B, H, L, D] by the angles given as
// cos, sin [L, D/2] (batched false) or [B, L, D/2] (batched true).
func RoPE(dst, x, cos, sin []float32, b, h, l, d int, batched bool) {
	half := d / 2
	for bi := range b {
		for hi := range h {
			for li := range l {
				row := ((bi*h+hi)*l + li) * d
				t := li * half
				if batched {
					t += bi * l * half
				}
				for j := range half {
					c, s := cos[t+j], sin[t+j]
					x0, x1 := x[row+2*j], x[row+2*j+1]
					dst[row+2*j] = c*x0 - s*x1
					dst[row+2*j+1] = s*x0 + c*x1
				}
			}
		}
	}
}

// Attention computes softmax(q·kᵀ·scale + bias + mask)·v per (batch, head)
// with q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv], out
// [B, H, Lq, Dv]. bias, if not nil, is read at bias[bb·b + bh·h + i·bi + j·bj]
// with the given strides (zero strides broadcast).
func Attention(out, q, k, v []float32, b, h, lq, lk, d, dv int, scale float32, causal bool,
	bias []float32, bstr [4]int) {
	scores := make([]float64, lk)
	for bi := range b {
		for hi := range h {
			qh := q[(bi*h+hi)*lq*d:]
			kh := k[(bi*h+hi)*lk*d:]
			vh := v[(bi*h+hi)*lk*dv:]
			oh := out[(bi*h+hi)*lq*dv:]
			for i := range lq {
				m := math.Inf(-1)
				for j := range lk {
					if causal && j > i {
						scores[j] = math.Inf(-1)
						continue
					}
					var s float64
					for p := range d {
						s += float64(qh[i*d+p]) * float64(kh[j*d+p])
					}
					s *= float64(scale)
					if bias != nil {
						s += float64(bias[bi*bstr[0]+hi*bstr[1]+i*bstr[2]+j*bstr[3]])
					}
					scores[j] = s
					m = math.Max(m, s)
				}
				var z float64
				for j := range lk {
					scores[j] = math.Exp(scores[j] - m)
					z += scores[j]
				}
				for p := range dv {
					var s float64
					for j := range lk {
						s += scores[j] * float64(vh[j*dv+p])
					}
					oh[i*dv+p] = float32(s / z)
				}
			}
		}
	}
}
