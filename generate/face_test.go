package generate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/model/pulid"
)

// faceDir lays the golden tiny face models out under the real file names
// (links in a temporary folder): ONNX graphs for antelopev2, PyTorch
// checkpoints for facexlib and EVA.
func faceDir(t *testing.T) string {
	dir := t.TempDir()
	for real, golden := range map[string]string{
		"antelopev2/scrfd_10g_bnkps.onnx": "scrfd/model.onnx",
		"antelopev2/glintr100.onnx":       "arcface/model.onnx",
		"detection_Resnet50_Final.pth":    "retinaface/weights.pth",
		"parsing_bisenet.pth":             "bisenet/weights.pth",
		"EVA02_CLIP_L_336_psz14_s6B.pt":   "eva/weights.pt",
	} {
		p := filepath.Join(dir, real)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(testenv.Golden(t, golden), p); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFaceLoaderFormats(t *testing.T) {
	w := getWorld(t)
	dir := faceDir(t)
	p, err := Find(dir, Paths{PuLID: w.paths.PuLID}, NeedFace)
	if err != nil {
		t.Fatal(err)
	}
	// SCRFD and ArcFace (ONNX), RetinaFace and BiSeNet (.pth) load; the
	// golden EVA is a tiny tower, which the loader refuses by name because
	// the IDFormer reads EVA02-CLIP-L's widths.
	_, _, err = loadFace(w.models.Backend, p, w.models.IDFormer)
	if err == nil || !strings.Contains(err.Error(), "EVA02_CLIP_L_336_psz14_s6B.pt") || !strings.Contains(err.Error(), "EVA02-CLIP-L") {
		t.Fatalf("error %v, want the EVA width mismatch naming the file", err)
	}
	// A corrupt checkpoint is named too.
	bad := filepath.Join(t.TempDir(), "parsing_bisenet.pth")
	os.WriteFile(bad, []byte("PK\x03\x04 not really a zip"), 0o644)
	p.BiSeNet = bad
	if _, _, err = loadFace(w.models.Backend, p, w.models.IDFormer); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt bisenet: %v", err)
	}
}

// padded widens the tiny golden EVA's outputs with zeros to EVA02-CLIP-L's
// widths, so the golden face models chain into the IDFormer.
type padded struct {
	idembed.EVA
	b backend.Backend
}

func (p padded) Encode(x backend.Tensor) (backend.Tensor, []backend.Tensor, error) {
	emb, hid, err := p.EVA.Encode(x)
	if err != nil {
		return nil, nil, err
	}
	pad := func(t backend.Tensor, n int) backend.Tensor {
		s := t.Shape()
		before, after := make([]int, len(s)), make([]int, len(s))
		after[len(s)-1] = n - s[len(s)-1]
		return p.b.Pad(t, before, after, 0)
	}
	for i := range hid {
		hid[i] = pad(hid[i], pulid.VitDim)
	}
	return pad(emb, pulid.IDCondDim-idembed.ArcFaceDim), hid, nil
}

type paddedArcFace struct{ idembed.FaceEmbedder }

func (p paddedArcFace) EmbedFace(blob []float32) ([]float32, error) {
	v, err := p.FaceEmbedder.EmbedFace(blob)
	if err != nil {
		return nil, err
	}
	return append(v, make([]float32, idembed.ArcFaceDim-len(v))...), nil
}

func TestRunNoFace(t *testing.T) {
	w := getWorld(t)
	dir := faceDir(t)
	b := w.models.Backend
	p, err := Find(dir, Paths{PuLID: w.paths.PuLID}, NeedFace)
	if err != nil {
		t.Fatal(err)
	}
	// The golden face models, with the tiny EVA padded (see padded).
	src, cl, err := idembed.OpenCheckpoint(p.EVA)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	em, err := eva.Load(b, src)
	if err != nil {
		t.Fatal(err)
	}
	enc, c, err := loadFaceWith(b, p, w.models.IDFormer, padded{idembed.EVA{Model: em}, b})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The golden ArcFace graph is tiny too: widen its embedding to 512.
	e := enc.(*idembed.Encoder)
	e.ArcFace = paddedArcFace{e.ArcFace}
	w.models.Face = enc
	defer func() { w.models.Face = nil }()

	before := run(t, w, tinyInput(w.embA))

	// A photo the (random) golden detectors find a face in goes the whole
	// way: detection, alignment, parsing, EVA, IDFormer, generation.
	photo := testenv.Golden(t, "faceprep", "hinton.jpeg")
	in := tinyInput("")
	in.IDEmbedding, in.MainFaceImage = nil, ptr(photo)
	in.TrueCFG = ptr(2.0)
	res := runReq(t, w, resolveSmall(t, in))
	if res.Face == nil || res.Face.Embedding == nil || res.Face.Aligned == nil || res.Face.Aligned.W != 512 || res.Face.MaskedGray == nil {
		t.Fatalf("photo run: face result %+v", res.Face)
	}
	if e := res.Face.Embedding; e.Tokens != 4 || e.Dim != 32 || len(res.Images) != 1 {
		t.Errorf("photo run: embedding %dx%d, %d images", e.Tokens, e.Dim, len(res.Images))
	}

	// A photo without a face: a small plain gray picture.
	blank := filepath.Join(t.TempDir(), "blank-wall.png")
	img := imageio.New(32, 32)
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var buf bytes.Buffer
	if err := imageio.EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(blank, buf.Bytes(), 0o644)
	in = tinyInput("")
	in.IDEmbedding, in.MainFaceImage = nil, ptr(blank)
	_, err = Run(context.Background(), w.models, resolveSmall(t, in))
	if !errors.Is(err, idembed.ErrNoFace) || !strings.Contains(err.Error(), blank) {
		t.Fatalf("no-face photo: error %v, want idembed.ErrNoFace naming %s", err, blank)
	}
	// The same photo as uploaded bytes is named by the field.
	in.MainFaceImage, in.FaceImage = nil, buf.Bytes()
	if _, err = Run(context.Background(), w.models, resolveSmall(t, in)); !errors.Is(err, idembed.ErrNoFace) || !strings.Contains(err.Error(), "main_face_image") {
		t.Errorf("no-face upload: %v", err)
	}

	// Photos that are not images, or not there, are bad input.
	notImage := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notImage, []byte("hello"), 0o644)
	for _, path := range []string{notImage, filepath.Join(dir, "missing.jpg")} {
		in := tinyInput("")
		in.IDEmbedding, in.MainFaceImage = nil, ptr(path)
		_, err := Run(context.Background(), w.models, resolveSmall(t, in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "main_face_image" || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("%s: error %v, want a main_face_image error naming it", path, err)
		}
	}

	// Nothing else is lost: the next request runs and gives what it gave.
	after := run(t, w, tinyInput(w.embA))
	if !bytes.Equal(before.Images[0].Data, after.Images[0].Data) {
		t.Error("a failed request changed what the next one generates")
	}
}
