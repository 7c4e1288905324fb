package faceprep

import (
	"fmt"
	"math"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// OpenCV's 8-bit resize works in fixed point: per-axis coefficients are
// rounded to INTER_RESIZE_COEF_BITS = 11 bits, rows are filtered
// horizontally into ints, then combined vertically.
const (
	resizeCoefBits  = 11
	resizeCoefScale = 1 << resizeCoefBits
)

// Interpolation selects an OpenCV resize kernel.
type Interpolation int

const (
	InterLinear  Interpolation = iota // cv2.INTER_LINEAR (the default)
	InterLanczos                      // cv2.INTER_LANCZOS4
)

// ResizeNumpyImageLong is PuLID's resize_numpy_image_long(image, long):
// an image whose longer side exceeds long is scaled by k = long/max(h, w)
// to (int(h·k), int(w·k)) — truncated — with cv2.INTER_LANCZOS4; smaller
// images are returned unchanged.
func ResizeNumpyImageLong(img *imageio.Image, long int) (*imageio.Image, error) {
	if long <= 0 {
		return nil, fmt.Errorf("resize long edge: target %d is not positive", long)
	}
	h, w := img.H, img.W
	if max(h, w) <= long {
		return img, nil
	}
	k := float64(long) / float64(max(h, w))
	nh, nw := int(float64(h)*k), int(float64(w)*k)
	if nh < 1 || nw < 1 {
		return nil, fmt.Errorf("resize long edge: %dx%d to long side %d leaves no pixels", w, h, long)
	}
	return Resize(img, nw, nh, InterLanczos)
}

// Resize is cv2.resize(img, (w, h), interpolation) on an 8-bit,
// three-channel image, bit for bit: OpenCV's geometry
// src = (dst+0.5)·(in/out) − 0.5 in float32, edge-clamped taps, 11-bit
// coefficients, and its integer rounding. INTER_LINEAR at exactly half
// size on both axes is a 2×2 average, as OpenCV switches to INTER_AREA
// there. There is no antialiasing when shrinking (OpenCV has none).
func Resize(img *imageio.Image, w, h int, interp Interpolation) (*imageio.Image, error) {
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.Pix) != 3*img.W*img.H {
		return nil, fmt.Errorf("resize: malformed source image")
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize: output size %dx%d is not positive", w, h)
	}
	if w == img.W && h == img.H {
		return img.Clone(), nil
	}
	// cv::resize derives the scale from the inverse ratio.
	scaleX := 1 / (float64(w) / float64(img.W))
	scaleY := 1 / (float64(h) / float64(img.H))
	if interp == InterLinear && scaleX == 2 && scaleY == 2 {
		return halve(img), nil
	}
	ksize := 2
	if interp == InterLanczos {
		ksize = 8
	}
	xofs, alpha := resizeTaps(img.W, w, scaleX, interp, ksize, true)
	yofs, beta := resizeTaps(img.H, h, scaleY, interp, ksize, false)

	out := imageio.New(w, h)
	sw := img.W
	// Clamped source column of every tap (edge replication).
	xidx := make([]int, w*ksize)
	for dx := 0; dx < w; dx++ {
		for k := 0; k < ksize; k++ {
			xidx[dx*ksize+k] = 3 * min(max(xofs[dx]+k, 0), sw-1)
		}
	}
	// Horizontally filtered source rows, computed once each and dropped
	// once the window has passed them (source rows only move forward).
	rows := make([][]int32, img.H)
	hrow := func(sy int) []int32 {
		if r := rows[sy]; r != nil {
			return r
		}
		src := img.Pix[3*sy*sw : 3*(sy+1)*sw]
		r := make([]int32, 3*w)
		for dx := 0; dx < w; dx++ {
			a := alpha[dx*ksize : (dx+1)*ksize]
			xi := xidx[dx*ksize : (dx+1)*ksize]
			var s0, s1, s2 int32
			for k, c := range a {
				p := src[xi[k] : xi[k]+3]
				s0 += int32(p[0]) * int32(c)
				s1 += int32(p[1]) * int32(c)
				s2 += int32(p[2]) * int32(c)
			}
			r[3*dx], r[3*dx+1], r[3*dx+2] = s0, s1, s2
		}
		rows[sy] = r
		return r
	}
	taps := make([][]int32, ksize)
	first := 0
	for dy := 0; dy < h; dy++ {
		for k := 0; k < ksize; k++ {
			taps[k] = hrow(min(max(yofs[dy]+k, 0), img.H-1))
		}
		b := beta[dy*ksize : (dy+1)*ksize]
		o := out.Pix[3*dy*w : 3*(dy+1)*w]
		if ksize == 2 {
			// VResizeLinear<uchar>: each product keeps 16 bits of headroom
			// ((S>>4)·b >> 16), then rounds by 2 bits.
			b0, b1 := int32(b[0]), int32(b[1])
			t0, t1 := taps[0], taps[1]
			for i := range o {
				o[i] = uint8(((b0*(t0[i]>>4))>>16 + (b1*(t1[i]>>4))>>16 + 2) >> 2)
			}
		} else {
			for i := range o {
				var s int32
				for k := 0; k < ksize; k++ {
					s += taps[k][i] * int32(b[k])
				}
				// FixedPtCast<int, uchar, 22>.
				o[i] = uint8(min(max((s+1<<(2*resizeCoefBits-1))>>(2*resizeCoefBits), 0), 255))
			}
		}
		for ; first < min(max(yofs[dy], 0), img.H); first++ {
			rows[first] = nil
		}
	}
	return out, nil
}

// resizeTaps computes, per output index, the first source index of the
// kernel window and the 11-bit coefficients, as cv::resize's setup loop
// does (coordinates and coefficients in float32). For linear
// interpolation OpenCV pins positions outside the image to the edge pixel
// on the horizontal axis only (horiz); vertically it keeps the raw
// fraction and lets the row index clamp, which rounds differently.
func resizeTaps(in, out int, scale float64, interp Interpolation, ksize int, horiz bool) ([]int, []int16) {
	ofs := make([]int, out)
	coef := make([]int16, out*ksize)
	cbuf := make([]float32, ksize)
	for d := 0; d < out; d++ {
		f := float32(float64(float64(d)+0.5)*scale - 0.5)
		s := int(math.Floor(float64(f)))
		f -= float32(s)
		if interp == InterLinear {
			if horiz && s < 0 {
				f, s = 0, 0
			}
			if horiz && s >= in-1 {
				f, s = 0, in-1
			}
			cbuf[0], cbuf[1] = 1-f, f
		} else {
			lanczos4(f, cbuf)
		}
		ofs[d] = s - ksize/2 + 1
		for k := 0; k < ksize; k++ {
			coef[d*ksize+k] = int16(saturateShort(cvRoundF32(cbuf[k] * resizeCoefScale)))
		}
	}
	return ofs, coef
}

// cvRoundF32 is cvRound(float): round half to even.
func cvRoundF32(v float32) int32 {
	return cvRound(float64(v))
}

// lanczos4 is OpenCV's interpolateLanczos4: the 8 taps at distances
// x+3 … x−4 of sinc(t)·sinc(t/4), from one sin/cos pair and the rotation
// table of the 45° steps, normalised to sum 1 in float32.
func lanczos4(x float32, c []float32) {
	const s45 = 0.70710678118654752440084436210485
	cs := [8][2]float64{{1, 0}, {-s45, -s45}, {0, 1}, {s45, -s45}, {-1, 0}, {s45, s45}, {0, -1}, {-s45, s45}}
	if x < 1.1920928955078125e-07 {
		for i := range c {
			c[i] = 0
		}
		c[3] = 1
		return
	}
	y0 := float64(-(x + 3)) * math.Pi * 0.25
	s0, c0 := math.Sin(y0), math.Cos(y0)
	var sum float32
	for i := 0; i < 8; i++ {
		y := float64(-(x + 3 - float32(i))) * math.Pi * 0.25
		c[i] = float32((float64(cs[i][0]*s0) + float64(cs[i][1]*c0)) / float64(y*y))
		sum += c[i]
	}
	sum = 1 / sum
	for i := range c {
		c[i] *= sum
	}
}

// halve is OpenCV's INTER_AREA fast path for an exact 2× reduction:
// (a+b+c+d+2)>>2 over each 2×2 block.
func halve(img *imageio.Image) *imageio.Image {
	w, h := img.W/2, img.H/2
	out := imageio.New(w, h)
	s := img.Pix
	sw := img.W
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				i0 := 3*((2*y)*sw+2*x) + c
				i1 := 3*((2*y+1)*sw+2*x) + c
				v := int(s[i0]) + int(s[i0+3]) + int(s[i1]) + int(s[i1+3])
				out.Pix[3*(y*w+x)+c] = uint8((v + 2) >> 2)
			}
		}
	}
	return out
}
