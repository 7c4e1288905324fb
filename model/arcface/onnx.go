package arcface

import (
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/onnx"
)

// Graph is an ArcFace backbone exported to ONNX (antelopev2
// glintr100.onnx), run by the onnx package's executor.
type Graph struct {
	p             *onnx.Program
	input, output string
	// InputMean and InputStd are the blob normalisation the graph expects,
	// (x − mean)/std per RGB channel, chosen as insightface's ArcFaceONNX
	// does (see normalisation).
	InputMean, InputStd float32
}

// OpenONNX reads and loads an ArcFace ONNX file.
func OpenONNX(b backend.Backend, path string) (*Graph, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("arcface: %w", err)
	}
	g, err := LoadONNX(b, m)
	if err != nil {
		return nil, fmt.Errorf("arcface %s: %w", path, err)
	}
	return g, nil
}

// LoadONNX binds an ArcFace graph to b. The graph must take one image
// input of shape [N, 3, 112, 112] (N may be symbolic); its first output
// is the embedding, as insightface reads it.
func LoadONNX(b backend.Backend, m *onnx.Model) (*Graph, error) {
	p, err := onnx.Load(m, b)
	if err != nil {
		return nil, err
	}
	ins := p.Inputs()
	if len(ins) != 1 {
		return nil, fmt.Errorf("arcface: the graph has %d inputs, want one image input", len(ins))
	}
	if t := ins[0].Type; t != nil && t.HasShape {
		ok := len(t.Shape) == 4
		for i, want := range []int64{-1, 3, InputSize, InputSize} {
			if ok && want >= 0 && t.Shape[i].Param == "" && t.Shape[i].Value >= 0 && t.Shape[i].Value != want {
				ok = false
			}
		}
		if !ok {
			return nil, fmt.Errorf("arcface: input %q is declared %v, want [N, 3, %d, %d]", ins[0].Name, t.Shape, InputSize, InputSize)
		}
	}
	if len(p.Outputs()) == 0 {
		return nil, fmt.Errorf("arcface: the graph has no output")
	}
	g := &Graph{p: p, input: ins[0].Name, output: p.Outputs()[0]}
	g.InputMean, g.InputStd = normalisation(m)
	return g, nil
}

// normalisation follows insightface ArcFaceONNX.__init__: an MXNet-converted
// model normalises inside the graph, recognisable by Sub and Mul nodes
// among its first eight (names "Sub…"/"_minus…", "Mul…"/"_mul…"), and takes
// raw pixels; other models (arcface_torch exports such as glintr100) take
// (x − 127.5)/127.5.
func normalisation(m *onnx.Model) (mean, std float32) {
	var sub, mul bool
	for i, n := range m.Graph.Nodes {
		if i == 8 {
			break
		}
		sub = sub || strings.HasPrefix(n.Name, "Sub") || strings.HasPrefix(n.Name, "_minus")
		mul = mul || strings.HasPrefix(n.Name, "Mul") || strings.HasPrefix(n.Name, "_mul")
	}
	if sub && mul {
		return 0, 1
	}
	return 127.5, 127.5
}

// Embed runs the graph on x [N, 3, 112, 112].
func (g *Graph) Embed(x backend.Tensor) (backend.Tensor, error) {
	out, err := g.p.Run(map[string]backend.Tensor{g.input: x})
	if err != nil {
		return nil, fmt.Errorf("arcface: %w", err)
	}
	return out[g.output], nil
}
