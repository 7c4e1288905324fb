package idembed_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/conformance"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/faceprep"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
	"github.com/fluxpulid/fluxpulid/weights"
)

func open(t *testing.T, rel string) *weights.Store {
	t.Helper()
	st, err := weights.Open(testenv.Golden(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// padded widens the tiny EVA tower's outputs with zeros to the widths the
// IDFormer hard-codes (768-d embedding, 1024-d hidden states), so the golden
// tiny models chain end to end.
type padded struct {
	idembed.EVA
	b backend.Backend
}

func (p padded) Encode(x backend.Tensor) (backend.Tensor, []backend.Tensor, error) {
	emb, hid, err := p.EVA.Encode(x)
	if err != nil {
		return nil, nil, err
	}
	return padTo(p.b, emb, pulid.IDCondDim-idembed.ArcFaceDim), padAll(p.b, hid), nil
}

func padTo(b backend.Backend, t backend.Tensor, n int) backend.Tensor {
	s := t.Shape()
	before, after := make([]int, len(s)), make([]int, len(s))
	after[len(s)-1] = n - s[len(s)-1]
	return b.Pad(t, before, after, 0)
}

func padAll(b backend.Backend, ts []backend.Tensor) []backend.Tensor {
	out := make([]backend.Tensor, len(ts))
	for i, t := range ts {
		out[i] = padTo(b, t, pulid.VitDim)
	}
	return out
}

// fakeSCRFD returns fixed faces.
type fakeSCRFD struct{ faces []scrfd.Face }

func (f fakeSCRFD) DetectFaces(*imageio.Image) ([]scrfd.Face, error) { return f.faces, nil }

// fakeArcFace records its input and returns a fixed function of it: the
// blob's first 512 values.
type fakeArcFace struct{ got [][]float32 }

func (f *fakeArcFace) EmbedFace(blob []float32) ([]float32, error) {
	f.got = append(f.got, slices.Clone(blob))
	return slices.Clone(blob[:idembed.ArcFaceDim]), nil
}

type fixture struct {
	b     backend.Backend
	enc   *idembed.Encoder
	arc   *fakeArcFace
	photo *imageio.Image // RGB
}

func newFixture(t *testing.T, faces []scrfd.Face) *fixture {
	t.Helper()
	b := cpu.New()
	rf, err := retinaface.Load(b, open(t, "retinaface/weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := bisenet.Load(b, open(t, "bisenet/weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eva.Load(b, open(t, "eva/weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	pst := open(t, "pulid/weights.safetensors")
	var cfg struct {
		Encoder pulid.IDFormerConfig `json:"pulid_encoder"`
	}
	if err := json.Unmarshal([]byte(pst.Metadata()["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	idf, err := pulid.LoadIDFormer(b, pst, cfg.Encoder)
	if err != nil {
		t.Fatal(err)
	}
	// The photo: the downscaled real face of the RetinaFace golden case.
	c, err := conformance.Open(testenv.Golden(t, "retinaface", "case_net_hinton.safetensors"), testenv.Golden(t))
	if err != nil {
		t.Skipf("SKIPPING: %v", err)
	}
	defer c.Close()
	info, _ := c.Info("in.image_bgr")
	pix, _ := c.Bytes("in.image_bgr")
	bgr, err := imageio.FromPix(info.Shape[1], info.Shape[0], slices.Clone(pix))
	if err != nil {
		t.Fatal(err)
	}
	arc := &fakeArcFace{}
	enc := &idembed.Encoder{B: b, ArcFace: arc, RetinaFace: rf, BiSeNet: bs, Vision: padded{idembed.EVA{Model: ev}, b}, IDFormer: idf}
	if faces != nil {
		enc.SCRFD = fakeSCRFD{faces}
	}
	return &fixture{b: b, enc: enc, arc: arc, photo: bgr.SwapRB()}
}

// expected recomputes the identity step by step from the stages' public
// functions, given the ArcFace embedding.
func (f *fixture) expected(t *testing.T, arc []float32) (cond, uncond []float32, aligned *imageio.Image) {
	t.Helper()
	b, e := f.b, f.enc
	bgr := f.photo.SwapRB()
	dets, err := e.RetinaFace.Detect(bgr.Pix, bgr.H, bgr.W, 0.97, 0.4)
	if err != nil || len(dets) == 0 {
		t.Fatalf("retinaface: %d faces, %v", len(dets), err)
	}
	boxes := make([]faceprep.Box, len(dets))
	for i, d := range dets {
		boxes[i] = faceprep.Box{X1: d.Box[0], Y1: d.Box[1], X2: d.Box[2], Y2: d.Box[3]}
	}
	d := dets[faceprep.CenterFace(boxes, bgr.H, bgr.W)]
	aligned, _, _, err = faceprep.AlignWarpFace(bgr, d.Landmarks, 512)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := e.BiSeNet.Parse(b.FromF32([]int{1, 3, 512, 512}, faceprep.BiSeNetInput(aligned)))
	if err != nil {
		t.Fatal(err)
	}
	feat, _, _ := faceprep.FaceFeatures(aligned, labels)
	in, _ := faceprep.EVAInput(feat, 512, 512, 84, false)
	out, err := e.Vision.(padded).EVA.Forward(b.FromF32([]int{1, 3, 84, 84}, in), nil)
	if err != nil {
		t.Fatal(err)
	}
	idCond := b.Concat(1, b.FromF32([]int{1, 512}, arc), padTo(b, out.EmbedNorm, 768))
	y, err := e.IDFormer.Forward(b, idCond, padAll(b, out.Hidden), nil)
	if err != nil {
		t.Fatal(err)
	}
	cond, _ = b.ReadF32(y)
	u, err := e.IDFormer.Uncond(b, 1, 37)
	if err != nil {
		t.Fatal(err)
	}
	uncond, _ = b.ReadF32(u)
	return cond, uncond, aligned
}

func TestEncodeLargestSCRFDFace(t *testing.T) {
	small := scrfd.Face{Box: [4]float32{10, 10, 40, 40}, Score: 0.9, Kps: [5][2]float32{{18, 20}, {32, 20}, {25, 27}, {20, 33}, {30, 33}}}
	large := scrfd.Face{Box: [4]float32{20, 25, 100, 115}, Score: 0.8, Kps: [5][2]float32{{45, 60}, {75, 60}, {60, 75}, {48, 92}, {72, 92}}}
	f := newFixture(t, []scrfd.Face{small, large})
	res, err := f.enc.Encode("hinton", f.photo, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.ArcFaceFrom != "scrfd" || res.SCRFDFace == nil || res.SCRFDFace.Box != large.Box {
		t.Fatalf("ArcFace from %q face %+v, want the larger SCRFD face", res.ArcFaceFrom, res.SCRFDFace)
	}
	// ArcFace saw the norm_crop of the largest face.
	crop, _, err := faceprep.NormCrop(f.photo.SwapRB(), large.Kps, 112)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.arc.got) != 1 || !slices.Equal(f.arc.got[0], faceprep.ArcFaceBlob(crop)) {
		t.Fatalf("ArcFace was called %d times or on another blob", len(f.arc.got))
	}
	cond, uncond, aligned := f.expected(t, f.arc.got[0][:512])
	e := res.Embedding
	if e.Tokens != 32 || e.Dim != 128 || !slices.Equal(e.Cond, cond) || !slices.Equal(e.Uncond, uncond) {
		t.Fatalf("embedding %d×%d differs from the stage-by-stage computation", e.Tokens, e.Dim)
	}
	if !slices.Equal(res.Aligned.Pix, aligned.Pix) {
		t.Error("aligned face differs")
	}
	if res.FaceCrop == nil || res.FaceCrop.W != 80 || res.FaceCrop.H != 90 || res.MaskedGray.W != 512 {
		t.Errorf("debug images: crop %+v, masked %dx%d", res.FaceCrop, res.MaskedGray.W, res.MaskedGray.H)
	}
	// The crop is the photo's pixels.
	if c := res.FaceCrop; !slices.Equal(c.Pix[:3], f.photo.Pix[3*(25*f.photo.W+20):3*(25*f.photo.W+20)+3]) {
		t.Error("face crop does not start at the box corner")
	}
	var cn, un float64
	for i := range e.Cond {
		cn += math.Abs(float64(e.Cond[i] - e.Uncond[i]))
		un += math.Abs(float64(e.Uncond[i]))
	}
	if cn == 0 || un == 0 {
		t.Error("cond and uncond coincide or uncond is zero")
	}
}

func TestEncodeArcFaceFallback(t *testing.T) {
	f := newFixture(t, []scrfd.Face{})
	res, err := f.enc.Encode("hinton", f.photo, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.ArcFaceFrom != "aligned" || res.SCRFDFace != nil || res.FaceCrop != nil || res.Embedding.Uncond != nil {
		t.Fatalf("fallback result: from %q, face %v, crop %v", res.ArcFaceFrom, res.SCRFDFace, res.FaceCrop != nil)
	}
	blob, err := faceprep.ArcFaceBlobResized(res.Aligned, 112)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.arc.got) != 1 || !slices.Equal(f.arc.got[0], blob) {
		t.Fatal("ArcFace did not run on the 112-pixel aligned face")
	}
	cond, _, _ := f.expected(t, blob[:512])
	if !slices.Equal(res.Embedding.Cond, cond) {
		t.Fatal("embedding differs from the stage-by-stage computation")
	}
}

// TestNoFace: a RetinaFace whose face logit is pushed far down finds
// nothing; with no SCRFD face either the error names the image.
func TestNoFace(t *testing.T) {
	f := newFixture(t, []scrfd.Face{})
	st := open(t, "retinaface/weights.safetensors")
	m := weights.Map{}
	for _, n := range st.Names() {
		info, _ := st.Info(n)
		data, _ := st.Bytes(n)
		if strings.HasPrefix(n, "ClassHead.") && strings.HasSuffix(n, ".bias") {
			v := make([]float32, info.Shape[0])
			dtype.ToF32(info.DType, data, v)
			for i := 1; i < len(v); i += 2 { // anchor a's face logit is channel 2a+1
				v[i] -= 100
			}
			data = make([]byte, 4*len(v))
			for i, x := range v {
				binaryPutF32(data[4*i:], x)
			}
		}
		m[n] = weights.Tensor{Info: info, Data: data}
	}
	rf, err := retinaface.Load(f.b, m)
	if err != nil {
		t.Fatal(err)
	}
	f.enc.RetinaFace = rf
	blank := imageio.New(96, 80)
	_, err = f.enc.Encode("blank.png", blank, false)
	t.Log(err)
	if !errors.Is(err, idembed.ErrNoFace) || !strings.Contains(err.Error(), "blank.png") || !strings.Contains(err.Error(), "RetinaFace or SCRFD") {
		t.Fatalf("error %v", err)
	}
}

func binaryPutF32(b []byte, v float32) {
	u := math.Float32bits(v)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

func TestEncodeThenSave(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.enc.Encode("hinton", f.photo, true)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hinton.gguf")
	if err := idembed.Save(p, res.Embedding, dtype.F32); err != nil {
		t.Fatal(err)
	}
	got, err := idembed.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Cond, res.Embedding.Cond) || !slices.Equal(got.Uncond, res.Embedding.Uncond) {
		t.Fatal("saved embedding differs")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

func TestEncoderIncomplete(t *testing.T) {
	if _, err := (&idembed.Encoder{}).Encode("x", imageio.New(4, 4), false); err == nil {
		t.Error("an encoder without models ran")
	}
}

func TestFaceCrop(t *testing.T) {
	img := imageio.New(10, 8)
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	c := idembed.FaceCrop(img, [4]float32{-3.5, 2.9, 4.99, 20})
	if c == nil || c.W != 4 || c.H != 6 || c.Pix[0] != img.Pix[3*(2*10)] {
		t.Fatalf("crop %+v", c)
	}
	if idembed.FaceCrop(img, [4]float32{5, 5, 5, 9}) != nil {
		t.Error("empty crop returned an image")
	}
}
