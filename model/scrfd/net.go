package scrfd

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/onnx"
)

// Net is the SCRFD detector graph (scrfd_10g_bnkps.onnx) bound to a
// backend. It is classified as insightface's SCRFD._init_vars does: nine
// outputs mean three strides with two anchors and keypoints, in the order
// scores ×3, boxes ×3, keypoints ×3 (by position, not name); a rank-3
// declared output marks a batched export.
type Net struct {
	p       *onnx.Program
	input   string
	outputs []string
	// FixedW and FixedH are the input size the graph declares, 0 when its
	// spatial dims are dynamic (then the caller's det_size is used).
	FixedW, FixedH int
}

// OpenNet reads and loads a SCRFD ONNX file.
func OpenNet(b backend.Backend, path string) (*Net, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scrfd: %w", err)
	}
	n, err := LoadNet(b, m)
	if err != nil {
		return nil, fmt.Errorf("scrfd %s: %w", path, err)
	}
	return n, nil
}

// LoadNet binds a SCRFD graph to b.
func LoadNet(b backend.Backend, m *onnx.Model) (*Net, error) {
	p, err := onnx.Load(m, b)
	if err != nil {
		return nil, fmt.Errorf("scrfd: %w", err)
	}
	ins := p.Inputs()
	if len(ins) != 1 {
		return nil, fmt.Errorf("scrfd: the graph has %d inputs, want one image input", len(ins))
	}
	n := &Net{p: p, input: ins[0].Name, outputs: p.Outputs()}
	if got := len(n.outputs); got != 3*len(Strides) {
		return nil, fmt.Errorf("scrfd: the graph has %d outputs; only the 9-output layout (3 strides, 2 anchors, keypoints) of scrfd_*_bnkps is supported", got)
	}
	if t := ins[0].Type; t != nil && t.HasShape {
		if len(t.Shape) != 4 {
			return nil, fmt.Errorf("scrfd: input %q has rank %d, want 4", n.input, len(t.Shape))
		}
		h, w := t.Shape[2], t.Shape[3]
		if h.Param == "" && w.Param == "" && h.Value > 0 && w.Value > 0 {
			n.FixedW, n.FixedH = int(w.Value), int(h.Value)
		}
	}
	return n, nil
}

// OutputNames lists the graph's outputs in order.
func (n *Net) OutputNames() []string { return n.outputs }

// Run executes the graph on blob [1, 3, H, W] and returns the nine outputs
// in graph order, as the graph computes them.
func (n *Net) Run(blob backend.Tensor) ([]backend.Tensor, error) {
	s := blob.Shape()
	if len(s) != 4 || s[0] != 1 || s[1] != 3 || s[2]%32 != 0 || s[3]%32 != 0 || s[2] == 0 || s[3] == 0 {
		return nil, fmt.Errorf("scrfd: input %v, want [1, 3, H, W] with H and W positive multiples of 32", s)
	}
	if n.FixedW > 0 && (s[2] != n.FixedH || s[3] != n.FixedW) {
		return nil, fmt.Errorf("scrfd: input %v, the graph takes %d×%d", s, n.FixedW, n.FixedH)
	}
	out, err := n.p.Run(map[string]backend.Tensor{n.input: blob})
	if err != nil {
		return nil, fmt.Errorf("scrfd: %w", err)
	}
	res := make([]backend.Tensor, len(n.outputs))
	for i, name := range n.outputs {
		res[i] = out[name]
	}
	return res, nil
}

// Levels runs the graph and reads its outputs back as the per-stride
// levels Detect decodes (a batched export's leading 1 is dropped).
func (n *Net) Levels(b backend.Backend, blob backend.Tensor) ([3]Level, error) {
	var levels [3]Level
	outs, err := n.Run(blob)
	if err != nil {
		return levels, err
	}
	read := func(i, cols int) ([]float32, error) {
		s := outs[i].Shape()
		if len(s) == 3 && s[0] == 1 {
			s = s[1:]
		}
		if len(s) != 2 || s[1] != cols {
			return nil, fmt.Errorf("scrfd: output %d (%q) has shape %v, want [rows, %d]", i, n.outputs[i], outs[i].Shape(), cols)
		}
		return b.ReadF32(outs[i])
	}
	for k := range Strides {
		lv := &levels[k]
		if lv.Scores, err = read(k, 1); err != nil {
			return levels, err
		}
		if lv.BBox, err = read(k+3, 4); err != nil {
			return levels, err
		}
		if lv.Kps, err = read(k+6, 10); err != nil {
			return levels, err
		}
	}
	return levels, nil
}

// Detect runs the detector on the blob of a letterboxed image (detH ×
// detW, see Fit) and returns the faces in original-image pixels, as
// SCRFD.detect(img, max_num=0) with the given thresholds.
func (n *Net) Detect(b backend.Backend, blob backend.Tensor, lb Letterbox, thresh, nmsThresh float64) ([]Face, error) {
	levels, err := n.Levels(b, blob)
	if err != nil {
		return nil, err
	}
	s := blob.Shape()
	return Detect(levels, s[2], s[3], lb, thresh, nmsThresh)
}
