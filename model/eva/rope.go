package eva

import (
	"fmt"
	"math"
)

// RopeTables returns VisionRotaryEmbeddingFast's cos and sin tables,
// [grid², headDim] row-major, for dim = headDim/2, pretraining grid
// ptSeqLen and grid ftSeqLen = grid (intp_freq):
//
//	freqs = 1 / 10000^(2k/dim), k < dim/2;  t = arange(grid)/grid·ptSeqLen
//	f = outer(t, freqs) repeated pairwise [f0, f0, f1, f1, …]
//	row (r, c) of the table = concat(f[r], f[c])
//
// so the first half of a head rotates by the patch's row, the second half
// by its column. The angles are computed in float32 as torch does (its
// tables are float32); cos and sin of each float32 angle are then rounded.
func RopeTables(headDim, ptSeqLen, grid int) (cos, sin []float32, err error) {
	if headDim <= 0 || headDim%4 != 0 || ptSeqLen <= 0 || grid <= 0 {
		return nil, nil, fmt.Errorf("eva: rope for head width %d, pt_seq_len %d, grid %d", headDim, ptSeqLen, grid)
	}
	dim := headDim / 2
	freqs := make([]float32, dim/2)
	for k := range freqs {
		e := float32(2*k) / float32(dim)
		freqs[k] = 1 / float32(math.Pow(10000, float64(e)))
	}
	// f[i] for grid position i, pairwise repeated: length dim.
	f := make([][]float32, grid)
	for i := range grid {
		t := float32(i) / float32(grid) * float32(ptSeqLen)
		row := make([]float32, dim)
		for k, fr := range freqs {
			row[2*k] = t * fr
			row[2*k+1] = t * fr
		}
		f[i] = row
	}
	n := grid * grid
	cos = make([]float32, n*headDim)
	sin = make([]float32, n*headDim)
	for r := range grid {
		for c := range grid {
			base := (r*grid + c) * headDim
			for j := range headDim {
				a := f[r][j%dim]
				if j >= dim {
					a = f[c][j-dim]
				}
				cos[base+j] = float32(math.Cos(float64(a)))
				sin[base+j] = float32(math.Sin(float64(a)))
			}
		}
	}
	return cos, sin, nil
}

// PairAngles keeps the even columns of a pairwise-repeated [n, d] table:
// the [n, d/2] angles the backend's adjacent-pair RoPE takes.
func PairAngles(t []float32) []float32 {
	out := make([]float32, len(t)/2)
	for i := range out {
		out[i] = t[2*i]
	}
	return out
}
