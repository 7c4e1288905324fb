package faceprep

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// Normalisation constants of the identity encoders' inputs.
var (
	// ImageNetMean and ImageNetStd normalise BiSeNet's RGB [0,1] input.
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
	// OpenAIMean and OpenAIStd are the OPENAI CLIP constants PuLID uses for
	// the EVA02-CLIP input (the EVA pretrained_cfg has none of its own).
	OpenAIMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	OpenAIStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// BlobFromImage is cv2.dnn.blobFromImage(img, scale, img size,
// (mean, mean, mean), swapRB) for an 8-bit image: (x − mean)·scale in
// float32 (OpenCV subtracts, then multiplies by float32(scale)), laid out
// NCHW (1, 3, H, W), first and third channels exchanged when swapRB.
func BlobFromImage(img *imageio.Image, scale, mean float64, swapRB bool) []float32 {
	n := img.W * img.H
	out := make([]float32, 3*n)
	s, mu := float32(scale), float32(mean)
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			dc := c
			if swapRB {
				dc = 2 - c
			}
			out[dc*n+i] = (float32(img.Pix[3*i+c]) - mu) * s
		}
	}
	return out
}

// ArcFaceBlob is insightface ArcFaceONNX.get_feat's input for a 112×112
// BGR crop: (x − 127.5)/127.5, channels swapped to RGB, (1, 3, H, W).
func ArcFaceBlob(cropBGR *imageio.Image) []float32 {
	return BlobFromImage(cropBGR, 1/127.5, 127.5, true)
}

// ArcFaceBlobResized is the same call on a face of another size (PuLID's
// fallback feeds the 512 aligned face): blobFromImages first shrinks it to
// size×size with cv2.resize INTER_LINEAR on the 8-bit pixels.
func ArcFaceBlobResized(faceBGR *imageio.Image, size int) ([]float32, error) {
	small, err := Resize(faceBGR, size, size, InterLinear)
	if err != nil {
		return nil, fmt.Errorf("arcface blob: %w", err)
	}
	return ArcFaceBlob(small), nil
}

// RGB01 is facexlib's img2tensor(img_bgr, bgr2rgb=True)/255: float32
// (1, 3, H, W) in RGB order with values in [0, 1].
func RGB01(imgBGR *imageio.Image) []float32 {
	n := imgBGR.W * imgBGR.H
	out := make([]float32, 3*n)
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			out[(2-c)*n+i] = float32(imgBGR.Pix[3*i+c]) / 255
		}
	}
	return out
}

// Normalize is torchvision's normalize on a (3, H, W) float32 tensor, in
// place: (x − mean[c]) / std[c] in float32.
func Normalize(x []float32, mean, std [3]float32) []float32 {
	n := len(x) / 3
	for c := 0; c < 3; c++ {
		for i := c * n; i < (c+1)*n; i++ {
			x[i] = (x[i] - mean[c]) / std[c]
		}
	}
	return x
}

// BiSeNetInput is PuLID's parser input for an aligned BGR face:
// normalize(img2tensor(face, bgr2rgb=True)/255, ImageNet mean, std).
func BiSeNetInput(alignedBGR *imageio.Image) []float32 {
	return Normalize(RGB01(alignedBGR), ImageNetMean, ImageNetStd)
}
