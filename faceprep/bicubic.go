package faceprep

import (
	"fmt"
	"math"
)

// TorchvisionResizeSize is the output (h, w) of torchvision's
// resize(img, size) with a single int: the shorter side becomes size, the
// longer int(size·long/short).
func TorchvisionResizeSize(h, w, size int) (int, int) {
	short, long := h, w
	if w <= h {
		short, long = w, h
	}
	newShort, newLong := size, int(float64(size)*float64(long)/float64(short))
	if w <= h {
		return newLong, newShort
	}
	return newShort, newLong
}

// cubicConv1 and cubicConv2 are Keys' cubic convolution kernel on |x| ≤ 1
// and 1 < |x| < 2 (torch's cubic_convolution1/2), in float32.
func cubicConv1(x, a float32) float32 {
	return float32(float32(float32(float32(a+2)*x)-(a+3))*x*x) + 1
}

func cubicConv2(x, a float32) float32 {
	return float32(float32(float32(float32(float32(a*x)-5*a)*x)+8*a)*x) - 4*a
}

// ResizeBicubic is torch.nn.functional.interpolate(x, (oh, ow),
// mode='bicubic', align_corners=False, antialias=False) on a float32
// (C, H, W) tensor — torchvision's tensor resize with BICUBIC before
// torchvision 0.17. Source positions (d+0.5)·(in/out) − 0.5 and the Keys
// weights (A = −0.75) are float32 as in torch; the four taps are clamped to
// the edge; the result is not clamped (it overshoots next to sharp edges).
func ResizeBicubic(x []float32, c, h, w, oh, ow int) ([]float32, error) {
	if err := checkCHW(x, c, h, w, oh, ow); err != nil {
		return nil, fmt.Errorf("bicubic resize: %w", err)
	}
	yi, yw := bicubicTaps(h, oh)
	xi, xw := bicubicTaps(w, ow)
	out := make([]float32, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		plane := x[ch*h*w : (ch+1)*h*w]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				// Height outer, width inner, summed in tap order, as
				// torch's Interpolate<2> nests Interpolate<1>.
				var acc float32
				for j := 0; j < 4; j++ {
					row := plane[yi[4*oy+j]*w:]
					var t float32
					for i := 0; i < 4; i++ {
						t = float32(t + float32(row[xi[4*ox+i]]*xw[4*ox+i]))
					}
					acc = float32(acc + float32(t*yw[4*oy+j]))
				}
				out[(ch*oh+oy)*ow+ox] = acc
			}
		}
	}
	return out, nil
}

// bicubicTaps returns the clamped source indices and weights (4 per
// output) of torch's HelperInterpCubic.
func bicubicTaps(in, out int) ([]int, []float32) {
	const A = float32(-0.75)
	scale := float32(in) / float32(out)
	idx := make([]int, 4*out)
	wts := make([]float32, 4*out)
	for d := 0; d < out; d++ {
		// area_pixel_compute_source_index: scale·(d+0.5) in double, −0.5,
		// stored as float.
		src := float32(float64(scale)*(float64(d)+0.5) - 0.5)
		i0 := int(math.Floor(float64(src)))
		t := src - float32(i0)
		wts[4*d+0] = cubicConv2(float32(float64(t)+1), A)
		wts[4*d+1] = cubicConv1(t, A)
		x2 := float32(1 - float64(t))
		wts[4*d+2] = cubicConv1(x2, A)
		wts[4*d+3] = cubicConv2(float32(float64(x2)+1), A)
		for j := 0; j < 4; j++ {
			idx[4*d+j] = min(max(i0-1+j, 0), in-1)
		}
	}
	return idx, wts
}

// ResizeBicubicAA is the antialiased variant (antialias=True, the default
// from torchvision 0.17): a separable PIL-style filter, width first then
// height. For output i the support is 2·s pixels around
// center = (i+0.5)·s (s = in/out when shrinking), taps
// [int(center−support+0.5), int(center+support+0.5)) clipped to the
// image, weights Keys cubic with a = −0.5 at (j − center + 0.5)/s,
// normalised to sum 1.
func ResizeBicubicAA(x []float32, c, h, w, oh, ow int) ([]float32, error) {
	if err := checkCHW(x, c, h, w, oh, ow); err != nil {
		return nil, fmt.Errorf("bicubic resize (antialias): %w", err)
	}
	// Horizontal pass into (C, H, OW), then vertical into (C, OH, OW).
	xmin, xsize, xw, xstride := aaTaps(w, ow)
	tmp := make([]float32, c*h*ow)
	for r := 0; r < c*h; r++ {
		row := x[r*w : (r+1)*w]
		for ox := 0; ox < ow; ox++ {
			tmp[r*ow+ox] = aaDot(row[xmin[ox]:], 1, xw[ox*xstride:ox*xstride+xsize[ox]])
		}
	}
	ymin, ysize, yw, ystride := aaTaps(h, oh)
	out := make([]float32, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		plane := tmp[ch*h*ow : (ch+1)*h*ow]
		for oy := 0; oy < oh; oy++ {
			wts := yw[oy*ystride : oy*ystride+ysize[oy]]
			for ox := 0; ox < ow; ox++ {
				out[(ch*oh+oy)*ow+ox] = aaDot(plane[ymin[oy]*ow+ox:], ow, wts)
			}
		}
	}
	return out, nil
}

// aaDot is torch's interpolate_aa_single_dim: Σ src[j·stride]·w[j] in
// float32, in order.
func aaDot(src []float32, stride int, w []float32) float32 {
	acc := float32(src[0] * w[0])
	for j := 1; j < len(w); j++ {
		acc = float32(acc + float32(src[j*stride]*w[j]))
	}
	return acc
}

// aaFilter is torch's bicubic antialias filter (Keys, a = −0.5).
func aaFilter(x float32) float32 {
	const a = float32(-0.5)
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return cubicConv1(x, a)
	}
	if x < 2 {
		return cubicConv2(x, a)
	}
	return 0
}

// aaTaps computes torch's _compute_weights_aa for every output index: the
// first tap, the tap count and the normalised weights (stride per output).
func aaTaps(in, out int) (xmin, xsize []int, wts []float32, stride int) {
	scale := float32(in) / float32(out)
	support := float32(2)
	invscale := float32(1)
	if scale >= 1 {
		support = float32(2 * float64(scale))
		invscale = float32(1 / float64(scale))
	}
	stride = int(math.Ceil(float64(support)))*2 + 1
	xmin = make([]int, out)
	xsize = make([]int, out)
	wts = make([]float32, out*stride)
	for i := 0; i < out; i++ {
		center := float32(float64(scale) * (float64(i) + 0.5))
		lo := max(int(float64(center-support)+0.5), 0)
		hi := min(int(float64(center+support)+0.5), in)
		n := min(hi-lo, stride)
		xmin[i], xsize[i] = lo, n
		w := wts[i*stride : i*stride+n]
		var total float32
		for j := 0; j < n; j++ {
			arg := float32((float64(float32(j+lo)-center) + 0.5) * float64(invscale))
			w[j] = aaFilter(arg)
			total += w[j]
		}
		if total != 0 {
			for j := range w {
				w[j] /= total
			}
		}
	}
	return
}

func checkCHW(x []float32, c, h, w, oh, ow int) error {
	if c <= 0 || h <= 0 || w <= 0 || oh <= 0 || ow <= 0 {
		return fmt.Errorf("sizes (%d, %d, %d) → (%d, %d) must be positive", c, h, w, oh, ow)
	}
	if len(x) != c*h*w {
		return fmt.Errorf("tensor of %d values is not (%d, %d, %d)", len(x), c, h, w)
	}
	return nil
}
