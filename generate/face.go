package generate

import (
	"errors"
	"fmt"
	"io"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/faceprep"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/model/arcface"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
)

func init() { FaceLoader = loadFace }

// DetSize is FaceAnalysis.prepare(det_size=(640, 640)), as PuLID runs
// antelopev2.
const DetSize = 640

// SCRFDDetector runs the SCRFD graph as insightface's SCRFD.detect does:
// letterbox into the detector input, blob, graph, decoding and NMS with
// antelopev2's thresholds.
type SCRFDDetector struct {
	B   backend.Backend
	Net *scrfd.Net
}

// DetectFaces finds the faces of a BGR image, in its pixels.
func (d SCRFDDetector) DetectFaces(img *imageio.Image) (faces []scrfd.Face, err error) {
	defer backend.Catch(&err)
	w, h := DetSize, DetSize
	if d.Net.FixedW > 0 {
		w, h = d.Net.FixedW, d.Net.FixedH
	}
	det, _, err := faceprep.SCRFDLetterbox(img, w, h)
	if err != nil {
		return nil, err
	}
	lb, err := scrfd.Fit(img.H, img.W, w, h)
	if err != nil {
		return nil, err
	}
	x := d.B.FromF32([]int{1, 3, h, w}, faceprep.SCRFDBlob(det))
	defer d.B.Free(x)
	return d.Net.Detect(d.B, x, lb, scrfd.DetThreshold, scrfd.NMSThreshold)
}

// ArcFaceEmbedder runs an ArcFace graph on faceprep.ArcFaceBlob's input,
// (x - 127.5)/127.5, renormalised to what the graph expects.
type ArcFaceEmbedder struct {
	B     backend.Backend
	Graph *arcface.Graph
}

// EmbedFace returns the raw 512-d embedding of a (1, 3, 112, 112) blob.
func (a ArcFaceEmbedder) EmbedFace(blob []float32) (out []float32, err error) {
	defer backend.Catch(&err)
	if m, s := a.Graph.InputMean, a.Graph.InputStd; m != 127.5 || s != 127.5 {
		// An MXNet export normalises inside the graph: give it the pixels
		// (x - m)/s of x = 127.5*blob + 127.5.
		v := make([]float32, len(blob))
		for i, b := range blob {
			v[i] = (127.5*b + 127.5 - m) / s
		}
		blob = v
	}
	x := a.B.FromF32([]int{1, 3, arcface.InputSize, arcface.InputSize}, blob)
	defer a.B.Free(x)
	y, err := a.Graph.Embed(x)
	if err != nil {
		return nil, err
	}
	defer a.B.Free(y)
	return a.B.ReadF32(y)
}

type closers []io.Closer

func (c closers) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// loadFace loads the face models of p: SCRFD and ArcFace from ONNX,
// RetinaFace, BiSeNet and EVA from PyTorch checkpoints (or safetensors),
// checking that EVA's widths are the ones the IDFormer reads.
func loadFace(b backend.Backend, p Paths, idf *pulid.IDFormer) (FaceEncoder, io.Closer, error) {
	return loadFaceWith(b, p, idf, nil)
}

// loadFaceWith is loadFace with the vision tower given (nil: EVA from p.EVA).
func loadFaceWith(b backend.Backend, p Paths, idf *pulid.IDFormer, vision idembed.Vision) (enc FaceEncoder, c io.Closer, err error) {
	var cs closers
	defer func() {
		if err != nil {
			cs.Close()
		}
	}()
	e := &idembed.Encoder{B: b, IDFormer: idf}
	net, err := scrfd.OpenNet(b, p.SCRFD)
	if err != nil {
		return nil, nil, err
	}
	e.SCRFD = SCRFDDetector{B: b, Net: net}
	g, err := arcface.OpenONNX(b, p.ArcFace)
	if err != nil {
		return nil, nil, err
	}
	e.ArcFace = ArcFaceEmbedder{B: b, Graph: g}

	src, cl, err := idembed.OpenCheckpoint(p.RetinaFace)
	if err != nil {
		return nil, nil, err
	}
	cs = append(cs, cl)
	if e.RetinaFace, err = retinaface.Load(b, src); err != nil {
		return nil, nil, fmt.Errorf("retinaface %s: %w", p.RetinaFace, err)
	}
	if src, cl, err = idembed.OpenCheckpoint(p.BiSeNet); err != nil {
		return nil, nil, err
	}
	cs = append(cs, cl)
	if e.BiSeNet, err = bisenet.Load(b, src); err != nil {
		return nil, nil, fmt.Errorf("bisenet %s: %w", p.BiSeNet, err)
	}
	if vision != nil {
		e.Vision = vision
		return e, cs, nil
	}
	if src, cl, err = idembed.OpenCheckpoint(p.EVA); err != nil {
		return nil, nil, err
	}
	cs = append(cs, cl)
	em, err := eva.Load(b, src)
	if err != nil {
		return nil, nil, fmt.Errorf("eva %s: %w", p.EVA, err)
	}
	if cfg := em.Config; idembed.ArcFaceDim+cfg.EmbedDim != pulid.IDCondDim || cfg.Width != pulid.VitDim {
		return nil, nil, fmt.Errorf("eva %s: embedding width %d and token width %d; the PuLID IDFormer reads %d and %d (EVA02-CLIP-L)",
			p.EVA, cfg.EmbedDim, cfg.Width, pulid.IDCondDim-idembed.ArcFaceDim, pulid.VitDim)
	}
	e.Vision = idembed.EVA{Model: em}
	return e, cs, nil
}
