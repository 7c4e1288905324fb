package conformance

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/arcface"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
	"github.com/fluxpulid/fluxpulid/onnx"
)

// insightface antelopev2: the ArcFace recognition backbone (from the
// arcface_torch state dict and from its ONNX export) and the SCRFD
// detector graph. SCRFD's post-processing is retinaface/scrfdpost.
func init() {
	Register("arcface/forward", runArcFace)
	Register("scrfd/forward", runSCRFD)
}

// onnxPath is the case's ONNX graph (metadata onnx_file, relative to the
// case folder).
func onnxPath(c *Case) (string, error) {
	f := strings.TrimSpace(c.Meta["onnx_file"])
	if f == "" {
		return "", fmt.Errorf("case %s: metadata names no onnx_file", c.Name)
	}
	if filepath.Base(f) != f {
		return "", fmt.Errorf("case %s: onnx_file %q is not a plain file name", c.Name, f)
	}
	return filepath.Join(c.Dir(), f), nil
}

// runArcFace computes the torch outputs with the IResNet built from the
// state dict, and out.ort_embedding with the executor on the ONNX export
// of the same weights.
func runArcFace(c *Case, b backend.Backend) (Outputs, error) {
	blob, err := c.Tensor(b, "in.blob")
	if err != nil {
		return nil, err
	}
	res := Outputs{}
	if c.Has("out.embedding") || c.Has("out.fc_out") || len(c.Names("out.layer")) > 0 {
		st, err := c.Weights()
		if err != nil {
			return nil, err
		}
		defer st.Close()
		m, err := arcface.Load(b, st)
		if err != nil {
			return nil, err
		}
		out, err := m.Forward(blob)
		if err != nil {
			return nil, err
		}
		named := map[string]backend.Tensor{"out.fc_out": out.FC, "out.embedding": out.Embedding}
		for k, t := range out.Stages {
			named[fmt.Sprintf("out.layer%d_out", k+1)] = t
		}
		for name, t := range named {
			if !c.Has(name) {
				continue
			}
			if res[name], err = Read(b, t); err != nil {
				return nil, err
			}
		}
	}
	if c.Has("out.ort_embedding") {
		path, err := onnxPath(c)
		if err != nil {
			return nil, err
		}
		g, err := arcface.OpenONNX(b, path)
		if err != nil {
			return nil, err
		}
		e, err := g.Embed(blob)
		if err != nil {
			return nil, err
		}
		if res["out.ort_embedding"], err = Read(b, e); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// runSCRFD runs the detector graph on in.blob; the outputs are named after
// the graph's nine outputs.
func runSCRFD(c *Case, b backend.Backend) (Outputs, error) {
	path, err := onnxPath(c)
	if err != nil {
		return nil, err
	}
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	net, err := scrfd.LoadNet(b, m)
	if err != nil {
		return nil, err
	}
	blob, err := c.Tensor(b, "in.blob")
	if err != nil {
		return nil, err
	}
	outs, err := net.Run(blob)
	if err != nil {
		return nil, err
	}
	res := Outputs{}
	for i, name := range net.OutputNames() {
		if res["out."+name], err = Read(b, outs[i]); err != nil {
			return nil, err
		}
	}
	return res, nil
}
