// Package faceprep holds the host-side geometry and pixel preprocessing of
// PuLID's identity encoders, reproducing the reference libraries exactly:
// insightface's norm_crop (Umeyama similarity to the ArcFace template),
// facexlib's align_warp_face (OpenCV estimateAffinePartial2D with LMEDS),
// OpenCV's fixed-point warpAffine and resize, torchvision's bicubic resize,
// the BiSeNet/EVA/ArcFace/SCRFD input normalisations, PuLID's background
// masking, and the two detectors' face choices.
//
// Images are imageio.Image rasters; functions say whether they expect RGB or
// BGR (the OpenCV-based references work in BGR).
package faceprep

import (
	"fmt"
	"math"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// Affine is a 2×3 forward transform from source to destination pixels:
// (x', y') = (M[0][0]x + M[0][1]y + M[0][2], M[1][0]x + M[1][1]y + M[1][2]).
type Affine [2][3]float64

// Apply maps a source point.
func (m Affine) Apply(x, y float64) (float64, float64) {
	return m[0][0]*x + m[0][1]*y + m[0][2], m[1][0]*x + m[1][1]*y + m[1][2]
}

// F32 returns the matrix row-major as float32, the layout of the goldens.
func (m Affine) F32() []float32 {
	return []float32{
		float32(m[0][0]), float32(m[0][1]), float32(m[0][2]),
		float32(m[1][0]), float32(m[1][1]), float32(m[1][2]),
	}
}

// OpenCV's warp geometry: source coordinates carry INTER_BITS = 5
// fractional bits (1/32 pixel), computed from products scaled by
// AB_SCALE = 2^10 and rounded; bilinear weights are products of the two
// 1/32 fractions scaled to INTER_REMAP_COEF_SCALE = 2^15.
const (
	interBits    = 5
	interTabSize = 1 << interBits
	abBits       = 10
	abScale      = 1 << abBits
	remapBits    = 15
)

// cvRound is OpenCV's saturate_cast<int>(double) on x86: round half to
// even; a value outside int32 becomes INT_MIN (what cvtsd2si returns).
func cvRound(v float64) int32 {
	r := math.RoundToEven(v)
	if !(r >= math.MinInt32 && r <= math.MaxInt32) {
		return math.MinInt32
	}
	return int32(r)
}

// saturateShort is saturate_cast<short>(int).
func saturateShort(v int32) int32 {
	return min(max(v, math.MinInt16), math.MaxInt16)
}

// WarpAffine is cv2.warpAffine(src, m, (w, h)) with INTER_LINEAR and
// BORDER_CONSTANT, bit for bit (8-bit, three channels in any order;
// border gives the constant per channel in the image's channel order).
//
// OpenCV inverts the forward matrix, then for destination pixel (x, y)
// finds the source position in 1/32 pixels as
// X = (round((i1·y + i2)·1024) + 16 + round(i0·x·1024)) >> 5 (likewise Y
// with i4, i5, i3), splits it into an integer pixel and a 5-bit fraction,
// and blends the four neighbours with 15-bit integer weights. A neighbour
// outside the image contributes the border value; a position more than
// one pixel outside is the border value.
func WarpAffine(src *imageio.Image, m Affine, w, h int, border [3]uint8) (*imageio.Image, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("warp affine: output size %dx%d is not positive", w, h)
	}
	if src == nil || src.W <= 0 || src.H <= 0 || len(src.Pix) != 3*src.W*src.H {
		return nil, fmt.Errorf("warp affine: malformed source image")
	}
	// Inverse map, in OpenCV's order of operations (warpAffine, no
	// WARP_INVERSE_MAP). float64() stops the compiler fusing a*b+c.
	a, b, c := m[0][0], m[0][1], m[0][2]
	d, e, f := m[1][0], m[1][1], m[1][2]
	det := float64(a*e) - float64(b*d)
	if det != 0 {
		det = 1 / det
	}
	i0, i4 := e*det, a*det
	i1, i3 := b*-det, d*-det
	i2 := float64(-i0*c) - float64(i1*f)
	i5 := float64(-i3*c) - float64(i4*f)

	adelta := make([]int32, w)
	bdelta := make([]int32, w)
	for x := 0; x < w; x++ {
		adelta[x] = cvRound(float64(i0*float64(x)) * abScale)
		bdelta[x] = cvRound(float64(i3*float64(x)) * abScale)
	}
	const roundDelta = abScale / interTabSize / 2

	out := imageio.New(w, h)
	sw, sh := src.W, src.H
	for y := 0; y < h; y++ {
		x0 := cvRound(float64(float64(i1*float64(y))+i2)*abScale) + roundDelta
		y0 := cvRound(float64(float64(i4*float64(y))+i5)*abScale) + roundDelta
		for x := 0; x < w; x++ {
			X := (x0 + adelta[x]) >> (abBits - interBits)
			Y := (y0 + bdelta[x]) >> (abBits - interBits)
			sx := int(saturateShort(X >> interBits))
			sy := int(saturateShort(Y >> interBits))
			fx := X & (interTabSize - 1)
			fy := Y & (interTabSize - 1)
			dst := out.Pix[3*(y*w+x) : 3*(y*w+x)+3]
			if sx >= sw || sx+1 < 0 || sy >= sh || sy+1 < 0 {
				copy(dst, border[:])
				continue
			}
			w00 := (interTabSize - fy) * (interTabSize - fx) * (1 << (remapBits - 2*interBits))
			w01 := (interTabSize - fy) * fx * (1 << (remapBits - 2*interBits))
			w10 := fy * (interTabSize - fx) * (1 << (remapBits - 2*interBits))
			w11 := fy * fx * (1 << (remapBits - 2*interBits))
			in00 := sx >= 0 && sy >= 0
			in01 := sx+1 < sw && sy >= 0
			in10 := sx >= 0 && sy+1 < sh
			in11 := sx+1 < sw && sy+1 < sh
			for k := 0; k < 3; k++ {
				v00, v01, v10, v11 := int32(border[k]), int32(border[k]), int32(border[k]), int32(border[k])
				if in00 {
					v00 = int32(src.Pix[3*(sy*sw+sx)+k])
				}
				if in01 {
					v01 = int32(src.Pix[3*(sy*sw+sx+1)+k])
				}
				if in10 {
					v10 = int32(src.Pix[3*((sy+1)*sw+sx)+k])
				}
				if in11 {
					v11 = int32(src.Pix[3*((sy+1)*sw+sx+1)+k])
				}
				v := (v00*w00 + v01*w01 + v10*w10 + v11*w11 + 1<<(remapBits-1)) >> remapBits
				dst[k] = uint8(min(max(v, 0), 255))
			}
		}
	}
	return out, nil
}
