package flux

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// LastLayer is flux/modules/layers.py LastLayer: adaLN_modulation =
// Linear(SiLU(vec)) of width 2·hidden whose FIRST half is the shift and
// SECOND half the scale, then linear((1 + scale)·LN(x) + shift).
type LastLayer struct {
	AdaLN, Linear nn.Linear
}

func loadLastLayer(p params, c Config) LastLayer {
	h := c.HiddenSize
	return LastLayer{
		AdaLN:  p.Linear("adaLN_modulation.1", h, 2*h, true),
		Linear: p.Linear("linear", h, c.OutChannels(), true),
	}
}

// Forward maps image tokens x [B, L, hidden] to [B, L, out_channels]; rec
// receives adaln (the raw modulation, before chunking).
func (m LastLayer) Forward(o nn.Ops, x, vec backend.Tensor, rec Recorder) backend.Tensor {
	ada := m.AdaLN.Forward(o, o.SiLU(vec))
	rec.record("adaln", ada)
	s := ada.Shape()
	c := o.Chunk(o.Reshape(ada, s[0], 1, s[1]), 2, -1)
	return m.Linear.Forward(o, modulate(o, x, c[0], c[1]))
}
