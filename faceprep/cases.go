package faceprep

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// Tensor is a host-side result named like a golden `out.*` tensor: exactly
// one of F32, U8, I64 holds the row-major data.
type Tensor struct {
	Shape []int
	F32   []float32
	U8    []uint8
	I64   []int64
}

func f32T(v []float32, shape ...int) Tensor { return Tensor{Shape: shape, F32: v} }
func u8T(v []uint8, shape ...int) Tensor    { return Tensor{Shape: shape, U8: v} }
func i64T(v []int64, shape ...int) Tensor   { return Tensor{Shape: shape, I64: v} }

func hwc(m *imageio.Image) Tensor { return u8T(m.Pix, m.H, m.W, 3) }

// The functions below compute what a faceprep golden case of each kind
// holds, from its inputs; output names omit the "out." prefix.

// AlignCase (kind faceprep/align): insightface's norm_crop (normSize, 112
// in PuLID) and ArcFace blob, and facexlib's align_warp_face (faceSize, 512
// in PuLID), on an RGB photo with given landmarks. The reference converts
// the photo to BGR first.
func AlignCase(imageRGB *imageio.Image, lmk Landmarks, normSize, faceSize int) (map[string]Tensor, error) {
	bgr := imageRGB.SwapRB()
	crop, ncM, err := NormCrop(bgr, lmk, normSize)
	if err != nil {
		return nil, err
	}
	aligned, alM, inliers, err := AlignWarpFace(bgr, lmk, faceSize)
	if err != nil {
		return nil, err
	}
	// skimage's least-squares similarity on the same pairs, for comparison.
	src := make([][2]float64, 5)
	dst := make([][2]float64, 5)
	for i := range lmk {
		src[i] = [2]float64{float64(lmk[i][0]), float64(lmk[i][1])}
		dst[i] = [2]float64{FFHQTemplate512[i][0] * float64(faceSize) / 512, FFHQTemplate512[i][1] * float64(faceSize) / 512}
	}
	umM, err := Umeyama(src, dst)
	if err != nil {
		return nil, err
	}
	blobAligned, err := ArcFaceBlobResized(aligned, normSize)
	if err != nil {
		return nil, err
	}
	in := make([]uint8, len(inliers))
	for i, ok := range inliers {
		if ok {
			in[i] = 1
		}
	}
	return map[string]Tensor{
		"norm_crop_M":     f32T(ncM.F32(), 2, 3),
		"norm_crop_bgr":   hwc(crop),
		"arcface_blob":    f32T(ArcFaceBlob(crop), 1, 3, crop.H, crop.W),
		"align_M":         f32T(alM.F32(), 2, 3),
		"align_inliers":   u8T(in, len(in)),
		"align_umeyama_M": f32T(umM.F32(), 2, 3),
		"aligned_bgr":     hwc(aligned),
		fmt.Sprintf("arcface_blob_from_aligned%d", faceSize): f32T(blobAligned, 1, 3, normSize, normSize),
	}, nil
}

// FaceSelectCase (kind faceprep/faceselect): the face each detector path
// picks among boxes on an h×w image.
func FaceSelectCase(boxes []Box, h, w int) map[string]Tensor {
	return map[string]Tensor{
		"facexlib_center_index":           i64T([]int64{int64(CenterFace(boxes, h, w))}, 1),
		"pulid_insightface_largest_index": i64T([]int64{int64(LargestFaceInsightface(boxes))}, 1),
		"facexlib_largest_index_clipped":  i64T([]int64{int64(LargestFaceClipped(boxes, h, w))}, 1),
	}
}

// MaskGrayCase (kind faceprep/maskgray): background mask and gray face of
// an aligned BGR face with its parsing labels, and the EVA input at
// evaSize (bicubic without and with antialias, OPENAI normalisation).
func MaskGrayCase(alignedBGR *imageio.Image, labels []uint8, evaSize int) (map[string]Tensor, error) {
	h, w := alignedBGR.H, alignedBGR.W
	feat, bg, err := FaceFeatures(alignedBGR, labels)
	if err != nil {
		return nil, err
	}
	mask := make([]uint8, len(bg))
	for i, b := range bg {
		if b {
			mask[i] = 1
		}
	}
	oh, ow := TorchvisionResizeSize(h, w, evaSize)
	eva, err := EVAInput(feat, h, w, evaSize, false)
	if err != nil {
		return nil, err
	}
	evaAA, err := EVAInput(feat, h, w, evaSize, true)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("eva_input_%d", evaSize)
	return map[string]Tensor{
		"bg_mask":           u8T(mask, 1, 1, h, w),
		"face_features":     f32T(feat, 1, 3, h, w),
		name:                f32T(eva, 1, 3, oh, ow),
		name + "_antialias": f32T(evaAA, 1, 3, oh, ow),
	}, nil
}

// EVAInput is PuLID's EVA02-CLIP input from face features (3, h, w):
// torchvision resize to size (shorter side) with BICUBIC — antialias off
// as in torchvision ≤ 0.16, which PuLID pins, or on as in ≥ 0.17 — then
// OPENAI normalisation.
func EVAInput(features []float32, h, w, size int, antialias bool) ([]float32, error) {
	oh, ow := TorchvisionResizeSize(h, w, size)
	var out []float32
	var err error
	if antialias {
		out, err = ResizeBicubicAA(features, 3, h, w, oh, ow)
	} else {
		out, err = ResizeBicubic(features, 3, h, w, oh, ow)
	}
	if err != nil {
		return nil, fmt.Errorf("eva input: %w", err)
	}
	return Normalize(out, OpenAIMean, OpenAIStd), nil
}

// ResizeLongCase (kind faceprep/resizelong): PuLID's
// resize_numpy_image_long on an RGB photo.
func ResizeLongCase(imageRGB *imageio.Image, long int) (map[string]Tensor, error) {
	out, err := ResizeNumpyImageLong(imageRGB, long)
	if err != nil {
		return nil, err
	}
	return map[string]Tensor{"resized_rgb": hwc(out)}, nil
}

// SCRFDPrepCase (kind faceprep/scrfdprep): SCRFD's letterbox, scale and
// blob of an RGB photo for each detector size (W, H); names end in
// _<W>x<H>.
func SCRFDPrepCase(imageRGB *imageio.Image, sizes [][2]int) (map[string]Tensor, error) {
	bgr := imageRGB.SwapRB()
	out := map[string]Tensor{}
	for _, s := range sizes {
		det, scale, err := SCRFDLetterbox(bgr, s[0], s[1])
		if err != nil {
			return nil, err
		}
		suffix := fmt.Sprintf("_%dx%d", s[0], s[1])
		out["det_img_bgr"+suffix] = hwc(det)
		out["det_scale"+suffix] = f32T([]float32{float32(scale)}, 1)
		out["blob"+suffix] = f32T(SCRFDBlob(det), 1, 3, s[1], s[0])
	}
	return out, nil
}
