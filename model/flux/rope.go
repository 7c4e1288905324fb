package flux

import (
	"fmt"
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// PE holds the rotary position embedding of a token sequence as cosine and
// sine tables [L, D/2] (shared by the batch) or [B, L, D/2]: entry j of a
// token rotates the adjacent pair (x[2j], x[2j+1]) of every head of q and k.
// The reference's pe tensor (B, 1, L, D/2, 2, 2) is [[cos, −sin], [sin, cos]] per entry.
type PE struct {
	Cos, Sin backend.Tensor
}

// EmbedND is the reference's EmbedND (pe_embedder) on the host: ids is
// [n, len(axesDim)] row-major (one position per axis per token); the result
// is cos, sin [n, Σ axesDim/2]. For axis i of width d:
// ω_j = 1/θ^(2j/d), angle = pos·ω_j, computed in float64 and rounded to
// float32 only at the end, as the reference does (a float32 angle at
// position ~100 is already 1e-5 off); axes follow each other.
func EmbedND(ids []float32, axesDim []int, theta int) (cos, sin []float32, err error) {
	na := len(axesDim)
	if na == 0 || len(ids)%na != 0 {
		return nil, nil, fmt.Errorf("flux: %d position values do not split into tokens of %d axes", len(ids), na)
	}
	half := 0
	var omega []float64
	for _, d := range axesDim {
		if d <= 0 || d%2 != 0 {
			return nil, nil, fmt.Errorf("flux: axes_dim %v: widths must be positive and even", axesDim)
		}
		for j := 0; j < d; j += 2 {
			omega = append(omega, 1/math.Pow(float64(theta), float64(j)/float64(d)))
		}
		half += d / 2
	}
	n := len(ids) / na
	cos, sin = make([]float32, n*half), make([]float32, n*half)
	for t := range n {
		at := 0
		for a, d := range axesDim {
			pos := float64(ids[t*na+a])
			for j := range d / 2 {
				s, c := math.Sincos(pos * omega[at+j])
				cos[t*half+at+j] = float32(c)
				sin[t*half+at+j] = float32(s)
			}
			at += d / 2
		}
	}
	return cos, sin, nil
}

// PosEmbed uploads the rotary tables of ids [B, L, n_axes] (row-major,
// txt ids then img ids along L as the reference concatenates them).
func (m *Model) PosEmbed(b backend.Backend, ids []float32, batch, length int) (PE, error) {
	na := len(m.Cfg.AxesDim)
	if len(ids) != batch*length*na {
		return PE{}, fmt.Errorf("flux: %d position values for %d×%d tokens of %d axes", len(ids), batch, length, na)
	}
	cos, sin, err := EmbedND(ids, m.Cfg.AxesDim, m.Cfg.Theta)
	if err != nil {
		return PE{}, err
	}
	half := m.Cfg.HeadDim() / 2
	if batch > 1 && !sameRows(ids, batch) {
		return PE{b.FromF32([]int{batch, length, half}, cos), b.FromF32([]int{batch, length, half}, sin)}, nil
	}
	n := length * half
	return PE{b.FromF32([]int{length, half}, cos[:n]), b.FromF32([]int{length, half}, sin[:n])}, nil
}

// sameRows reports whether every sample of a batch has the first's ids.
func sameRows(v []float32, batch int) bool {
	n := len(v) / batch
	for i := 1; i < batch; i++ {
		for j := range n {
			if v[i*n+j] != v[j] {
				return false
			}
		}
	}
	return true
}

// ApplyRoPE rotates q or k [B, H, L, D] by pe (flux/math.py apply_rope).
func ApplyRoPE(o nn.Ops, x backend.Tensor, pe PE) backend.Tensor { return o.RoPE(x, pe.Cos, pe.Sin) }
