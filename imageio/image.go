// Package imageio reads face photos (JPEG, PNG, WebP) into 8-bit
// three-channel rasters and writes results as PNG or JPEG.
//
// Decoding follows what PuLID's Python front end does with an upload: the
// file is decoded to RGB as PIL decodes it (libjpeg's and libwebp's colour
// conversion; alpha dropped, as convert("RGB") does), its EXIF orientation
// is applied (ImageOps.exif_transpose), and anything that is not an image,
// is truncated, or claims an absurd size is refused with an error naming
// the file and the problem.
package imageio

import (
	"fmt"
	"image"
	"image/color"
)

// Image is an 8-bit, three-channel raster stored row-major, channels
// interleaved (HWC): the channels of pixel (x, y) are
// Pix[3*(y*W+x) : 3*(y*W+x)+3].
//
// Decoders produce RGB. Code that follows an OpenCV pipeline may hold BGR in
// the same type (SwapRB converts); functions document which order they use.
type Image struct {
	W, H int
	Pix  []uint8
}

// New returns a black w×h image.
func New(w, h int) *Image {
	return &Image{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

// FromPix wraps HWC pixel data of a w×h image, checking its length.
func FromPix(w, h int, pix []uint8) (*Image, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("image size %dx%d is not positive", w, h)
	}
	if len(pix) != 3*w*h {
		return nil, fmt.Errorf("image %dx%d needs %d bytes of HWC pixels, got %d", w, h, 3*w*h, len(pix))
	}
	return &Image{W: w, H: h, Pix: pix}, nil
}

// Clone returns a deep copy.
func (m *Image) Clone() *Image {
	return &Image{W: m.W, H: m.H, Pix: append([]uint8(nil), m.Pix...)}
}

// SwapRB returns a copy with the first and third channels exchanged
// (cv2.cvtColor RGB2BGR and BGR2RGB are the same permutation).
func (m *Image) SwapRB() *Image {
	out := &Image{W: m.W, H: m.H, Pix: make([]uint8, len(m.Pix))}
	for i := 0; i+2 < len(m.Pix); i += 3 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = m.Pix[i+2], m.Pix[i+1], m.Pix[i]
	}
	return out
}

// PlanarF32 returns the pixel values as float32 in channel-planar (CHW)
// order, unscaled (0…255), keeping the channel order.
func (m *Image) PlanarF32() []float32 {
	n := m.W * m.H
	out := make([]float32, 3*n)
	for i := 0; i < n; i++ {
		out[i] = float32(m.Pix[3*i])
		out[n+i] = float32(m.Pix[3*i+1])
		out[2*n+i] = float32(m.Pix[3*i+2])
	}
	return out
}

// ToNRGBA converts an RGB image to an opaque *image.NRGBA for the standard
// library's encoders.
func (m *Image) ToNRGBA() *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
	for i, j := 0, 0; i < len(m.Pix); i, j = i+3, j+4 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2], out.Pix[j+3] = m.Pix[i], m.Pix[i+1], m.Pix[i+2], 0xff
	}
	return out
}

// FromImage converts any image.Image to RGB. Transparency is dropped
// without compositing, as PIL's convert("RGB") does: straight (not
// premultiplied) colour values are kept and alpha is ignored. 16-bit samples
// keep their high byte. YCbCr images use the standard library's conversion
// (the decoders in this package convert JPEG and WebP colour themselves).
func FromImage(src image.Image) *Image {
	b := src.Bounds()
	out := New(b.Dx(), b.Dy())
	i := 0
	put := func(r, g, bl uint8) {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = r, g, bl
		i += 3
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			switch s := src.(type) {
			case *image.NRGBA:
				c := s.NRGBAAt(x, y)
				put(c.R, c.G, c.B)
			case *image.NRGBA64:
				c := s.NRGBA64At(x, y)
				put(uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
			case *image.Gray:
				v := s.GrayAt(x, y).Y
				put(v, v, v)
			case *image.Gray16:
				v := uint8(s.Gray16At(x, y).Y >> 8)
				put(v, v, v)
			case *image.Paletted:
				put(straightRGB(s.Palette[s.ColorIndexAt(x, y)]))
			case *image.NYCbCrA:
				c := s.YCbCrAt(x, y)
				put(color.YCbCrToRGB(c.Y, c.Cb, c.Cr))
			default:
				put(straightRGB(src.At(x, y)))
			}
		}
	}
	return out
}

// straightRGB returns the un-premultiplied 8-bit colour of c.
func straightRGB(c color.Color) (r, g, b uint8) {
	switch v := c.(type) {
	case color.NRGBA:
		return v.R, v.G, v.B
	case color.NRGBA64:
		return uint8(v.R >> 8), uint8(v.G >> 8), uint8(v.B >> 8)
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)
}
