package imageio

import "encoding/binary"

// jpegOrientation returns the EXIF orientation (1…8) stored in a JPEG's
// APP1 segment, or 1 when there is none or it cannot be read. Only the
// orientation tag (0x0112) of IFD0 is looked at; a damaged EXIF block is
// ignored, as image viewers do, rather than failing the decode.
func jpegOrientation(data []byte) int {
	// Walk the marker segments after SOI until the start of scan.
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xff {
			return 1
		}
		marker := data[p+1]
		if marker == 0xff { // fill byte
			p++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // SOS, EOI: no more headers
			return 1
		}
		if marker >= 0xd0 && marker <= 0xd7 || marker == 0x01 { // parameterless
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o := exifOrientation(seg); o != 0 {
				return o
			}
		}
		p += 2 + n
	}
	return 1
}

// pngOrientation reads the orientation from a PNG's eXIf chunk (TIFF
// data), 1 when there is none.
func pngOrientation(data []byte) int {
	p := 8
	for p+12 <= len(data) {
		n := int64(binary.BigEndian.Uint32(data[p:]))
		typ := string(data[p+4 : p+8])
		if n > int64(len(data)-p-12) {
			return 1
		}
		body := data[p+8 : p+8+int(n)]
		switch typ {
		case "eXIf":
			if o := exifOrientation(body); o != 0 {
				return o
			}
			return 1
		case "IDAT", "IEND": // eXIf must precede the image data
			return 1
		}
		p += 12 + int(n)
	}
	return 1
}

// webpOrientation reads the orientation from the EXIF chunk of an
// extended (VP8X) WebP, 1 when there is none.
func webpOrientation(data []byte) int {
	p := 12
	for p+8 <= len(data) {
		n := int64(binary.LittleEndian.Uint32(data[p+4:]))
		if n > int64(len(data)-p-8) {
			return 1
		}
		if string(data[p:p+4]) == "EXIF" {
			if o := exifOrientation(data[p+8 : p+8+int(n)]); o != 0 {
				return o
			}
			return 1
		}
		p += 8 + int(n) + int(n&1) // chunks are padded to even sizes
	}
	return 1
}

// exifOrientation reads TIFF-structured EXIF data, with or without the
// "Exif\0\0" prefix some writers keep outside JPEG.
func exifOrientation(b []byte) int {
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		b = b[6:]
	}
	return tiffOrientation(b)
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF-structured EXIF
// block; 0 means absent or invalid.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0
	}
	count := int64(bo.Uint16(t[ifd:]))
	for i := int64(0); i < count; i++ {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// SHORT (type 3), one value, stored left-justified in the value field.
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) < 1 {
			return 0
		}
		o := int(bo.Uint16(t[e+8:]))
		if o < 1 || o > 8 {
			return 0
		}
		return o
	}
	return 0
}

// applyOrientation turns a stored raster into its displayed form for EXIF
// orientation o, as PIL's ImageOps.exif_transpose does. Orientations 5–8
// swap width and height.
func applyOrientation(m *Image, o int) *Image {
	if o <= 1 || o > 8 {
		return m
	}
	w, h := m.W, m.H
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := New(ow, oh)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			// (sx, sy) is the stored pixel shown at (x, y).
			var sx, sy int
			switch o {
			case 2: // mirrored left-right
				sx, sy = w-1-x, y
			case 3: // rotated 180°
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored top-bottom
				sx, sy = x, h-1-y
			case 5: // transposed: stored rows are displayed columns
				sx, sy = y, x
			case 6: // displayed = stored rotated 90° clockwise
				sx, sy = y, h-1-x
			case 7: // transversed (anti-diagonal)
				sx, sy = w-1-y, h-1-x
			case 8: // displayed = stored rotated 90° counter-clockwise
				sx, sy = w-1-y, x
			}
			s := 3 * (sy*w + sx)
			d := 3 * (y*ow + x)
			copy(out.Pix[d:d+3], m.Pix[s:s+3])
		}
	}
	return out
}
