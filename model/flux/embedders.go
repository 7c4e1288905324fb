package flux

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// MLPEmbedder is flux/modules/layers.py MLPEmbedder: out_layer(SiLU(in_layer(x))).
type MLPEmbedder struct {
	In, Out nn.Linear
}

func loadMLPEmbedder(p params, in, hidden int) MLPEmbedder {
	return MLPEmbedder{In: p.Linear("in_layer", in, hidden, true), Out: p.Linear("out_layer", hidden, hidden, true)}
}

func (m MLPEmbedder) Forward(o nn.Ops, x backend.Tensor) backend.Tensor {
	return m.Out.Forward(o, o.SiLU(m.In.Forward(o, x)))
}
