package imageio

import "image"

// JPEG colour follows libjpeg(-turbo), which PIL and OpenCV both use, so
// that a decoded photo matches the reference's pixels as closely as the
// different inverse DCT allows: "fancy" (triangle-filter) chroma upsampling
// for 4:2:0, 4:2:2 and 4:4:0 (jdsample.c) and the rounded 16-bit
// fixed-point YCbCr→RGB tables (jdcolor.c). The standard library instead
// replicates chroma samples and uses a different rounding.

// FIX(x) of jdcolor.c: x in 16-bit fixed point, rounded.
const (
	fixR  = 91881  // FIX(1.40200): Cr → R
	fixGr = 46802  // FIX(0.71414): Cr → G
	fixGb = 22554  // FIX(0.34414): Cb → G
	fixB  = 116130 // FIX(1.77200): Cb → B
	half  = 1 << 15
)

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// yccToRGB is jdcolor.c's ycc_rgb_convert for one pixel.
func yccToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	Y := int32(y)
	b := int32(cb) - 128
	r := int32(cr) - 128
	R := Y + ((fixR*r + half) >> 16)
	G := Y + ((-fixGb*b - fixGr*r + half) >> 16)
	B := Y + ((fixB*b + half) >> 16)
	return clamp8(R), clamp8(G), clamp8(B)
}

// jpegToRGB converts a decoded JPEG to RGB the way libjpeg does.
func jpegToRGB(src image.Image) *Image {
	s, ok := src.(*image.YCbCr)
	if !ok || s.Rect.Min != (image.Point{}) {
		return FromImage(src)
	}
	w, h := s.Rect.Dx(), s.Rect.Dy()
	var cb, cr []uint8
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		cb, cr = fancyH2V2(s.Cb, s.CStride, w, h), fancyH2V2(s.Cr, s.CStride, w, h)
	case image.YCbCrSubsampleRatio422:
		cb, cr = fancyH2V1(s.Cb, s.CStride, w, h), fancyH2V1(s.Cr, s.CStride, w, h)
	case image.YCbCrSubsampleRatio440:
		cb, cr = fancyH1V2(s.Cb, s.CStride, w, h), fancyH1V2(s.Cr, s.CStride, w, h)
	}
	out := New(w, h)
	i := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var b, r uint8
			if cb != nil {
				b, r = cb[y*w+x], cr[y*w+x]
			} else { // 4:4:4, or a ratio libjpeg upsamples by replication
				ci := s.COffset(x, y)
				b, r = s.Cb[ci], s.Cr[ci]
			}
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = yccToRGB(s.Y[y*s.YStride+x], b, r)
			i += 3
		}
	}
	return out
}

// fancyH2 widens one row of column sums (each already scaled by `scale`
// from the vertical step) to 2n samples with jdsample.c's 3/4–1/4 triangle
// filter: out[2j] leans on column j-1, out[2j+1] on column j+1, edge columns
// are repeated. bias0/bias1 and shift are the libjpeg roundings for the
// even and odd outputs.
func fancyH2(sum []int32, out []uint8, bias0, bias1 int32, shift uint) {
	n := len(sum)
	for j := 0; j < n; j++ {
		prev, next := sum[max(j-1, 0)], sum[min(j+1, n-1)]
		out[2*j] = uint8((3*sum[j] + prev + bias0) >> shift)
		if 2*j+1 < len(out) {
			out[2*j+1] = uint8((3*sum[j] + next + bias1) >> shift)
		}
	}
}

// fancyH2V1 upsamples a 4:2:2 chroma plane (h2v1_fancy_upsample).
func fancyH2V1(c []uint8, stride, w, h int) []uint8 {
	cw := (w + 1) / 2
	out := make([]uint8, w*h)
	sum := make([]int32, cw)
	row := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		for j := range sum {
			sum[j] = int32(c[y*stride+j])
		}
		fancyH2(sum, row, 1, 2, 2)
		copy(out[y*w:(y+1)*w], row)
	}
	return out
}

// fancyH2V2 upsamples a 4:2:0 chroma plane (h2v2_fancy_upsample): each
// output row blends its chroma row 3:1 with the nearer neighbouring row
// (the first and last rows are their own neighbours), then widens.
func fancyH2V2(c []uint8, stride, w, h int) []uint8 {
	cw, ch := (w+1)/2, (h+1)/2
	out := make([]uint8, w*h)
	sum := make([]int32, cw)
	row := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		near := y / 2
		far := near - 1 // upper output row of a pair: the row above
		if y%2 == 1 {
			far = near + 1
		}
		far = min(max(far, 0), ch-1)
		for j := range sum {
			sum[j] = 3*int32(c[near*stride+j]) + int32(c[far*stride+j])
		}
		fancyH2(sum, row, 8, 7, 4)
		// The edge columns of h2v2 are 4*sum, not 3*sum+sum: identical.
		copy(out[y*w:(y+1)*w], row)
	}
	return out
}

// fancyH1V2 upsamples a 4:4:0 chroma plane (h1v2_fancy_upsample).
func fancyH1V2(c []uint8, stride, w, h int) []uint8 {
	ch := (h + 1) / 2
	out := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		near := y / 2
		far, bias := near-1, int32(1)
		if y%2 == 1 {
			far, bias = near+1, 2
		}
		far = min(max(far, 0), ch-1)
		for x := 0; x < w; x++ {
			out[y*w+x] = uint8((3*int32(c[near*stride+x]) + int32(c[far*stride+x]) + bias) >> 2)
		}
	}
	return out
}

// Lossy WebP (VP8) stores limited-range BT.601 YCbCr 4:2:0, which the
// standard image.YCbCr (full-range JPEG YCbCr) misreads as washed out
// (golang/go#40173). The conversion here is libwebp's, as PIL decodes it:
// its "fancy" 9-3-3-1 chroma upsampler (dsp/upsampling.c) and the 14-bit
// fixed-point VP8YUVTo{R,G,B} of dsp/yuv.h.

// mulHi is libwebp's MultHi: (v*coeff) >> 8.
func mulHi(v, coeff int32) int32 { return (v * coeff) >> 8 }

// clipYUV is VP8Clip8: the value carries 6 fractional bits.
func clipYUV(v int32) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// vp8ToRGB is VP8YuvToRgb for one pixel.
func vp8ToRGB(y, u, v uint8) (uint8, uint8, uint8) {
	Y, U, V := int32(y), int32(u), int32(v)
	r := clipYUV(mulHi(Y, 19077) + mulHi(V, 26149) - 14234)
	g := clipYUV(mulHi(Y, 19077) - mulHi(U, 6419) - mulHi(V, 13320) + 8708)
	b := clipYUV(mulHi(Y, 19077) + mulHi(U, 33050) - 17685)
	return r, g, b
}

// webpToRGB converts a decoded WebP to RGB as libwebp does; lossless
// images (NRGBA) are taken as they are, alpha dropped.
func webpToRGB(src image.Image) *Image {
	var s *image.YCbCr
	switch v := src.(type) {
	case *image.YCbCr:
		s = v
	case *image.NYCbCrA:
		s = &v.YCbCr
	}
	if s == nil || s.SubsampleRatio != image.YCbCrSubsampleRatio420 || s.Rect.Min != (image.Point{}) {
		return FromImage(src)
	}
	w, h := s.Rect.Dx(), s.Rect.Dy()
	ch := (h + 1) / 2
	out := New(w, h)
	u := make([]uint8, w)
	v := make([]uint8, w)
	for y := 0; y < h; y++ {
		// Output row y sits between chroma rows near and far, 3:1.
		near := y / 2
		far := near - 1
		if y%2 == 1 {
			far = near + 1
		}
		far = min(max(far, 0), ch-1)
		fancyRowVP8(s.Cb[near*s.CStride:], s.Cb[far*s.CStride:], u)
		fancyRowVP8(s.Cr[near*s.CStride:], s.Cr[far*s.CStride:], v)
		yr := s.Y[y*s.YStride:]
		o := out.Pix[3*y*w:]
		for x := 0; x < w; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = vp8ToRGB(yr[x], u[x], v[x])
		}
	}
	return out
}

// fancyRowVP8 fills out (one output row) from the nearer chroma row n and
// the farther row f with libwebp's upsampler: the first and (for an even
// width) last pixels blend only vertically, (3n+f+2)/4; inner pixels take
// 9/16 of the nearest sample, 3/16 of each of the two adjacent ones and
// 1/16 of the diagonal one, with libwebp's two-stage rounding.
func fancyRowVP8(n, f []uint8, out []uint8) {
	w := len(out)
	out[0] = uint8((3*int32(n[0]) + int32(f[0]) + 2) >> 2)
	for x := 1; x <= (w-1)/2; x++ {
		// Output pixels 2x-1 and 2x lie between chroma columns x-1 and x.
		nl, nr := int32(n[x-1]), int32(n[x])
		fl, fr := int32(f[x-1]), int32(f[x])
		avg := nl + nr + fl + fr + 8
		dLeft := (avg + 2*(nr+fl)) >> 3  // (nl+3nr+3fl+fr)/8, rounded
		dRight := (avg + 2*(nl+fr)) >> 3 // (3nl+nr+fl+3fr)/8, rounded
		out[2*x-1] = uint8((dLeft + nl) >> 1)
		out[2*x] = uint8((dRight + nr) >> 1)
	}
	if w%2 == 0 && w > 1 {
		last := w/2 - 1
		out[w-1] = uint8((3*int32(n[last]) + int32(f[last]) + 2) >> 2)
	}
}
