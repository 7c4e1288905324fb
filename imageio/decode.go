package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/webp"
)

// Limits on what Decode accepts. A header may claim any size up to 2³²
// pixels a side; the size is checked before any pixel memory is allocated.
const (
	// MaxPixels bounds width×height (64 megapixels).
	MaxPixels = 64_000_000
	// MaxSide bounds either dimension.
	MaxSide = 1 << 15
	// MaxFileBytes bounds the encoded file read by DecodeReader and
	// DecodeFile.
	MaxFileBytes = 256 << 20
)

// Format names an encoded image format.
type Format string

const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
)

// Test hooks: the fuzz target lowers the pixel budget (so that each input
// decodes quickly) and lets decoder panics through (so that they are seen).
var (
	maxPixels     int64 = MaxPixels
	recoverPanics       = true
)

// ErrNotImage is wrapped by the error for data that is none of the
// supported formats.
var ErrNotImage = errors.New("not a JPEG, PNG or WebP image")

// Sniff names the format of encoded data from its signature.
func Sniff(data []byte) (Format, error) {
	switch {
	case len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff:
		return JPEG, nil
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		return PNG, nil
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP, nil
	}
	return "", ErrNotImage
}

// DecodeFile reads and decodes the image file at path.
func DecodeFile(path string) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	return DecodeReader(f, path)
}

// DecodeReader reads at most MaxFileBytes from r and decodes them; name
// identifies the source in errors.
func DecodeReader(r io.Reader, name string) (*Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("image %s: read: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("image %s: file larger than %d bytes", name, MaxFileBytes)
	}
	return Decode(data, name)
}

// Decode decodes a JPEG, PNG or WebP image to RGB, applying its EXIF
// orientation (JPEG APP1, PNG eXIf, WebP EXIF chunk). name identifies the
// source in errors.
func Decode(data []byte, name string) (img *Image, err error) {
	format, err := Sniff(data)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	// The decoders are third-party code run on untrusted bytes: a panic in
	// one of them must reach the caller as an error, not end the process.
	defer func() {
		if !recoverPanics {
			return
		}
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("image %s: %s decoder failed: %v", name, format, p)
		}
	}()
	var cfg image.Config
	switch format {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case WebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %s header: %w", name, format, decodeErr(err))
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}

	var src image.Image
	switch format {
	case JPEG:
		src, err = jpeg.Decode(bytes.NewReader(data))
	case PNG:
		src, err = png.Decode(bytes.NewReader(data))
	case WebP:
		src, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		if !hasEndMarker(format, data) {
			return nil, fmt.Errorf("image %s: %s data: file is truncated (no end marker): %w", name, format, err)
		}
		return nil, fmt.Errorf("image %s: %s data: %w", name, format, decodeErr(err))
	}
	if b := src.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("image %s: decoded %dx%d but the header says %dx%d", name, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}

	// PuLID's front end (gradio) applies PIL's exif_transpose to every
	// upload, whatever the format.
	switch format {
	case JPEG:
		img = applyOrientation(jpegToRGB(src), jpegOrientation(data))
	case WebP:
		img = applyOrientation(webpToRGB(src), webpOrientation(data))
	default:
		img = applyOrientation(FromImage(src), pngOrientation(data))
	}
	return img, nil
}

// checkSize refuses empty and absurdly large images.
func checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("image size %dx%d is empty", w, h)
	}
	if w > MaxSide || h > MaxSide || int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("image size %dx%d exceeds the limit (%d pixels a side, %d pixels in all)", w, h, MaxSide, maxPixels)
	}
	return nil
}

// hasEndMarker reports whether data ends the way a complete file of its
// format does (JPEG EOI, PNG IEND chunk; WebP's RIFF size covers the file).
// It only refines the message of a failed decode.
func hasEndMarker(f Format, data []byte) bool {
	switch f {
	case JPEG:
		return bytes.Contains(data[max(0, len(data)-64):], []byte{0xff, 0xd9})
	case PNG:
		return bytes.Contains(data[max(0, len(data)-64):], []byte("IEND"))
	case WebP:
		return len(data) >= 8 && int64(binary.LittleEndian.Uint32(data[4:]))+8 <= int64(len(data))
	}
	return true
}

// decodeErr names a truncated file as such.
func decodeErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("file is truncated: %w", err)
	}
	return err
}
