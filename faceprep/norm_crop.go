package faceprep

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// Landmarks are five facial points (x, y) in image pixels, in the order of
// SCRFD and RetinaFace outputs and of both templates: image-left eye,
// image-right eye, nose tip, image-left mouth corner, image-right mouth
// corner.
type Landmarks [5][2]float32

// ArcFaceTemplate is insightface's arcface_dst: where norm_crop puts the
// five landmarks in a 112×112 crop (float32 in the reference).
var ArcFaceTemplate = Landmarks{
	{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366},
	{41.5493, 92.3655}, {70.7299, 92.2041},
}

// EstimateNorm is insightface's estimate_norm(lmk, image_size): the
// similarity transform taking the landmarks onto the ArcFace template
// scaled to image_size (a multiple of 112, or of 128 with the template
// shifted 8·ratio pixels right), estimated as skimage does on these
// float32 arrays (see umeyamaNumpyF32) so that the crop is bit-exact.
func EstimateNorm(lmk Landmarks, imageSize int) (Affine, error) {
	var ratio, diffX float32
	switch {
	case imageSize > 0 && imageSize%112 == 0:
		ratio = float32(float64(imageSize) / 112)
	case imageSize > 0 && imageSize%128 == 0:
		ratio = float32(float64(imageSize) / 128)
		diffX = float32(8 * float64(ratio))
	default:
		return Affine{}, fmt.Errorf("norm crop: image size %d is not a multiple of 112 or 128", imageSize)
	}
	dst := make([][2]float32, 5)
	for i := range ArcFaceTemplate {
		// numpy: the float32 template times a Python float stays float32.
		dst[i] = [2]float32{float32(ArcFaceTemplate[i][0]*ratio) + diffX, ArcFaceTemplate[i][1] * ratio}
	}
	m, err := umeyamaNumpyF32(lmk[:], dst)
	if err != nil {
		return Affine{}, fmt.Errorf("norm crop: %w", err)
	}
	return m, nil
}

// NormCrop is insightface's face_align.norm_crop(img, landmark, image_size):
// the face warped to image_size×image_size with the estimated similarity,
// OpenCV bilinear, border 0. The image is BGR in insightface (any channel
// order works: the border is black).
func NormCrop(img *imageio.Image, lmk Landmarks, imageSize int) (*imageio.Image, Affine, error) {
	m, err := EstimateNorm(lmk, imageSize)
	if err != nil {
		return nil, Affine{}, err
	}
	out, err := WarpAffine(img, m, imageSize, imageSize, [3]uint8{})
	if err != nil {
		return nil, Affine{}, fmt.Errorf("norm crop: %w", err)
	}
	return out, m, nil
}
