package imageio

import (
	"fmt"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/HugoSmits86/nativewebp"
)

// EncodePNG writes m (RGB) as an 8-bit PNG.
func EncodePNG(w io.Writer, m *Image) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	if err := png.Encode(w, m.ToNRGBA()); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// EncodeJPEG writes m (RGB) as a baseline JPEG (4:2:0) at quality 1…100,
// the IJG quality scale the hosted APIs' output_quality refers to.
func EncodeJPEG(w io.Writer, m *Image, quality int) error {
	if quality < 1 || quality > 100 {
		return fmt.Errorf("encode jpeg: quality %d is outside 1…100", quality)
	}
	if err := m.check(); err != nil {
		return fmt.Errorf("encode jpeg: %w", err)
	}
	if err := jpeg.Encode(w, m.ToNRGBA(), &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("encode jpeg: %w", err)
	}
	return nil
}

// EncodeWebP writes m (RGB) as a lossless WebP (VP8L). Lossless because
// the only pure-Go WebP encoder available writes VP8L alone; the pixels
// survive exactly, so there is no quality to choose.
func EncodeWebP(w io.Writer, m *Image) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("encode webp: %w", err)
	}
	if err := nativewebp.Encode(w, m.ToNRGBA(), nil); err != nil {
		return fmt.Errorf("encode webp: %w", err)
	}
	return nil
}

// Encode writes m in the named format; quality applies to JPEG (WebP is
// written lossless).
func Encode(w io.Writer, m *Image, f Format, quality int) error {
	switch f {
	case PNG:
		return EncodePNG(w, m)
	case JPEG:
		return EncodeJPEG(w, m, quality)
	case WebP:
		return EncodeWebP(w, m)
	}
	return fmt.Errorf("encode: format %q is not supported (png, jpeg, webp)", f)
}

// check validates the raster's shape before it reaches an encoder.
func (m *Image) check() error {
	if m == nil {
		return fmt.Errorf("nil image")
	}
	if m.W <= 0 || m.H <= 0 || len(m.Pix) != 3*m.W*m.H {
		return fmt.Errorf("image %dx%d with %d bytes of pixels is malformed", m.W, m.H, len(m.Pix))
	}
	return nil
}
