package idembed

import (
	"errors"
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/faceprep"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
	"github.com/fluxpulid/fluxpulid/nn"
)

// Sizes of PuLID's identity path.
const (
	// MaxLongSide is the app's resize_numpy_image_long(image, 1024).
	MaxLongSide = 1024
	// AlignedSize is FaceRestoreHelper's face_size: the aligned face is 512×512.
	AlignedSize = 512
	// ArcFaceSize is the ArcFace input (norm_crop) size.
	ArcFaceSize = 112
	// ArcFaceDim is the ArcFace embedding width.
	ArcFaceDim = 512
)

// FaceDetector is insightface's antelopev2 SCRFD detector as FaceAnalysis
// runs it (det_size 640): faces of a BGR image in its pixels, any order.
type FaceDetector interface {
	DetectFaces(imgBGR *imageio.Image) ([]scrfd.Face, error)
}

// FaceEmbedder is insightface's ArcFace (glintr100): the raw, unnormalised
// 512-d embedding of a (1, 3, 112, 112) blob (faceprep.ArcFaceBlob).
type FaceEmbedder interface {
	EmbedFace(blob []float32) ([]float32, error)
}

// Vision is the EVA-CLIP tower as PuLID calls it: the L2-normalised class
// embedding [1, E] and the hidden states [1, N, W] of an image [1, 3, S, S].
type Vision interface {
	ImageSize() int
	Encode(x backend.Tensor) (embedNorm backend.Tensor, hidden []backend.Tensor, err error)
}

// EVA adapts an EVA02-CLIP tower to Vision.
type EVA struct{ *eva.Model }

func (v EVA) ImageSize() int { return v.Config.ImageSize() }

func (v EVA) Encode(x backend.Tensor) (backend.Tensor, []backend.Tensor, error) {
	out, err := v.Forward(x, nil)
	if err != nil {
		return nil, nil, err
	}
	return out.EmbedNorm, out.Hidden, nil
}

// Encoder is PuLIDPipeline.get_id_embedding with its models.
type Encoder struct {
	B          backend.Backend
	SCRFD      FaceDetector // nil: ArcFace always runs on the aligned face
	ArcFace    FaceEmbedder
	RetinaFace *retinaface.Model
	BiSeNet    *bisenet.Model
	Vision     Vision
	IDFormer   *pulid.IDFormer
	// EVAAntialias resizes the EVA input with antialiasing as torchvision
	// >= 0.17 does; PuLID pins 0.15.2, which does not (the default).
	EVAAntialias bool
}

// ErrNoFace is returned (wrapped, naming the image) when no face is found.
var ErrNoFace = errors.New("no face found")

// Result is an identity and what was seen on the way.
type Result struct {
	Embedding *Embedding
	// ArcFaceFrom says where the ArcFace embedding came from: "scrfd"
	// (the largest insightface face) or "aligned" (PuLID's fallback on the
	// 512 aligned face when SCRFD finds none).
	ArcFaceFrom string
	SCRFDFace   *scrfd.Face     // the face ArcFace used, nil for the fallback
	CenterFace  retinaface.Face // the RetinaFace face that was aligned
	Aligned     *imageio.Image  // 512×512 aligned face, BGR
	Labels      []uint8         // BiSeNet classes of the aligned face
	Features    []float32       // masked gray face (3, 512, 512) in [0, 1]
	FaceCrop    *imageio.Image  // debug: the SCRFD face cut from the photo (RGB), nil for the fallback
	MaskedGray  *imageio.Image  // debug: the masked gray face as an 8-bit image
}

// Encode computes the identity of the face in an RGB photo (name identifies
// it in errors); with uncond it also computes the zero-input identity true
// CFG needs.
func (e *Encoder) Encode(name string, photoRGB *imageio.Image, uncond bool) (res *Result, err error) {
	if e.B == nil || e.ArcFace == nil || e.RetinaFace == nil || e.BiSeNet == nil || e.Vision == nil || e.IDFormer == nil {
		return nil, errors.New("id embedding: encoder is missing a model")
	}
	defer backend.Catch(&err)
	img, err := faceprep.ResizeNumpyImageLong(photoRGB, MaxLongSide)
	if err != nil {
		return nil, fmt.Errorf("id embedding of %s: %w", name, err)
	}
	bgr := img.SwapRB()
	res = &Result{}

	// insightface: the largest SCRFD face, ArcFace on its norm_crop.
	var arc []float32
	if e.SCRFD != nil {
		faces, err := e.SCRFD.DetectFaces(bgr)
		if err != nil {
			return nil, fmt.Errorf("id embedding of %s: scrfd: %w", name, err)
		}
		if i := scrfd.Largest(faces); i >= 0 {
			f := faces[i]
			res.SCRFDFace = &f
			crop, _, err := faceprep.NormCrop(bgr, faceprep.Landmarks(f.Kps), ArcFaceSize)
			if err != nil {
				return nil, fmt.Errorf("id embedding of %s: %w", name, err)
			}
			if arc, err = e.ArcFace.EmbedFace(faceprep.ArcFaceBlob(crop)); err != nil {
				return nil, fmt.Errorf("id embedding of %s: arcface: %w", name, err)
			}
			res.ArcFaceFrom = "scrfd"
			res.FaceCrop = FaceCrop(img, f.Box)
		}
	}

	// facexlib: the RetinaFace face nearest the image centre, aligned to 512.
	dets, err := e.RetinaFace.Detect(bgr.Pix, bgr.H, bgr.W, retinaface.PuLIDConfThreshold, retinaface.NMSThreshold)
	if err != nil {
		return nil, fmt.Errorf("id embedding of %s: retinaface: %w", name, err)
	}
	boxes := make([]faceprep.Box, len(dets))
	for i, d := range dets {
		boxes[i] = faceprep.Box{X1: d.Box[0], Y1: d.Box[1], X2: d.Box[2], Y2: d.Box[3], Score: d.Score}
	}
	ci := faceprep.CenterFace(boxes, bgr.H, bgr.W)
	if ci < 0 {
		which := "RetinaFace"
		if res.SCRFDFace == nil {
			which = "RetinaFace or SCRFD"
		}
		return nil, fmt.Errorf("id embedding of %s: %w by %s (PuLID needs an aligned face)", name, ErrNoFace, which)
	}
	res.CenterFace = dets[ci]
	res.Aligned, _, _, err = faceprep.AlignWarpFace(bgr, faceprep.Landmarks(dets[ci].Landmarks), AlignedSize)
	if err != nil {
		return nil, fmt.Errorf("id embedding of %s: %w", name, err)
	}
	if arc == nil {
		// PuLID's fallback: ArcFace on the aligned face (blobFromImages
		// shrinks it to 112).
		blob, err := faceprep.ArcFaceBlobResized(res.Aligned, ArcFaceSize)
		if err != nil {
			return nil, fmt.Errorf("id embedding of %s: %w", name, err)
		}
		if arc, err = e.ArcFace.EmbedFace(blob); err != nil {
			return nil, fmt.Errorf("id embedding of %s: arcface: %w", name, err)
		}
		res.ArcFaceFrom = "aligned"
	}
	if len(arc) != ArcFaceDim {
		return nil, fmt.Errorf("id embedding of %s: arcface gave %d values, want %d", name, len(arc), ArcFaceDim)
	}

	// Parsing: background, ears, neck and clothes painted white, the rest gray.
	s := AlignedSize
	x := e.B.FromF32([]int{1, 3, s, s}, faceprep.BiSeNetInput(res.Aligned))
	if res.Labels, err = e.BiSeNet.Parse(x); err != nil {
		return nil, fmt.Errorf("id embedding of %s: parsing: %w", name, err)
	}
	if res.Features, _, err = faceprep.FaceFeatures(res.Aligned, res.Labels); err != nil {
		return nil, fmt.Errorf("id embedding of %s: %w", name, err)
	}
	res.MaskedGray = faceprep.MaskedGrayImage(res.Features, s, s)

	// EVA-CLIP on the masked face, then the IDFormer on [arcface | eva].
	vs := e.Vision.ImageSize()
	in, err := faceprep.EVAInput(res.Features, s, s, vs, e.EVAAntialias)
	if err != nil {
		return nil, fmt.Errorf("id embedding of %s: %w", name, err)
	}
	vit, hidden, err := e.Vision.Encode(e.B.FromF32([]int{1, 3, vs, vs}, in))
	if err != nil {
		return nil, fmt.Errorf("id embedding of %s: eva: %w", name, err)
	}
	if vs := vit.Shape(); len(vs) != 2 || ArcFaceDim+vs[1] != pulid.IDCondDim {
		return nil, fmt.Errorf("id embedding of %s: eva embedding %v does not complete a %d-wide id_cond", name, vs, pulid.IDCondDim)
	}
	o := nn.Ops{Backend: e.B}
	idCond := o.Concat(1, e.B.FromF32([]int{1, ArcFaceDim}, arc), vit)
	cond, err := e.IDFormer.Forward(e.B, idCond, hidden, nil)
	if err != nil {
		return nil, fmt.Errorf("id embedding of %s: idformer: %w", name, err)
	}
	emb := &Embedding{Tokens: cond.Shape()[1], Dim: cond.Shape()[2]}
	if emb.Cond, err = e.B.ReadF32(cond); err != nil {
		return nil, err
	}
	if uncond {
		// get_id_embedding(cal_uncond=True): the IDFormer on zeros of the
		// same shapes.
		u, err := e.IDFormer.Uncond(e.B, 1, hidden[0].Shape()[1])
		if err != nil {
			return nil, fmt.Errorf("id embedding of %s: uncond: %w", name, err)
		}
		if emb.Uncond, err = e.B.ReadF32(u); err != nil {
			return nil, err
		}
	}
	res.Embedding = emb
	return res, nil
}

// FaceCrop is PuLID's first debug image: the photo (RGB) cut to a face box
// as image[int(y1):int(y2), int(x1):int(x2)], with the box clipped to the
// image (numpy would wrap negative indices). Nil when nothing is left.
func FaceCrop(img *imageio.Image, box [4]float32) *imageio.Image {
	x1, y1 := min(max(int(box[0]), 0), img.W), min(max(int(box[1]), 0), img.H)
	x2, y2 := min(max(int(box[2]), 0), img.W), min(max(int(box[3]), 0), img.H)
	if x2 <= x1 || y2 <= y1 {
		return nil
	}
	out := imageio.New(x2-x1, y2-y1)
	for y := y1; y < y2; y++ {
		copy(out.Pix[3*(y-y1)*out.W:3*(y-y1+1)*out.W], img.Pix[3*(y*img.W+x1):3*(y*img.W+x2)])
	}
	return out
}
