package faceprep

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// BackgroundLabels are the BiSeNet classes PuLID paints white before EVA
// sees the face: background, cloth, hat, both ears, earring, neck and
// necklace.
var BackgroundLabels = [...]uint8{0, 16, 18, 7, 8, 9, 14, 15}

// BackgroundMask marks the pixels whose parsing label is one of
// BackgroundLabels.
func BackgroundMask(labels []uint8) []bool {
	var isBG [256]bool
	for _, l := range BackgroundLabels {
		isBG[l] = true
	}
	out := make([]bool, len(labels))
	for i, l := range labels {
		out[i] = isBG[l]
	}
	return out
}

// ToGray is PuLID's to_gray on a (3, H, W) RGB tensor:
// 0.299·R + 0.587·G + 0.114·B in float32, one plane (the reference then
// repeats it to three channels).
func ToGray(rgb []float32) []float32 {
	n := len(rgb) / 3
	out := make([]float32, n)
	for i := 0; i < n; i++ {
		// Each product and sum is its own float32 tensor op in torch.
		r := float32(float32(0.299) * rgb[i])
		g := float32(float32(0.587) * rgb[n+i])
		b := float32(float32(0.114) * rgb[2*n+i])
		out[i] = float32(r+g) + b
	}
	return out
}

// FaceFeatures is PuLID's masked gray face for EVA: where the parsing
// label (one per pixel of the aligned face, row-major) is background, 1.0
// (white); elsewhere the gray value of the face in [0, 1], repeated to
// three channels: a (3, H, W) float32 tensor, plus the background mask.
func FaceFeatures(alignedBGR *imageio.Image, labels []uint8) ([]float32, []bool, error) {
	n := alignedBGR.W * alignedBGR.H
	if len(labels) != n {
		return nil, nil, fmt.Errorf("face features: %d labels for a %dx%d face", len(labels), alignedBGR.W, alignedBGR.H)
	}
	gray := ToGray(RGB01(alignedBGR))
	bg := BackgroundMask(labels)
	out := make([]float32, 3*n)
	for i := 0; i < n; i++ {
		v := gray[i]
		if bg[i] {
			v = 1
		}
		out[i], out[n+i], out[2*n+i] = v, v, v
	}
	return out, bg, nil
}

// MaskedGrayImage renders face features (3, H, W) in [0, 1] as an 8-bit
// image for inspection (the CLI's debug output).
func MaskedGrayImage(features []float32, w, h int) *imageio.Image {
	m := imageio.New(w, h)
	n := w * h
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			v := features[c*n+i]*255 + 0.5
			m.Pix[3*i+c] = uint8(min(max(v, 0), 255))
		}
	}
	return m
}
