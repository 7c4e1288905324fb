package faceprep

import (
	"math"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// ramp returns a w×h image whose three channels hold distinct patterns.
func ramp(w, h int) *imageio.Image {
	m := imageio.New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 3 * (y*w + x)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2] = uint8(7*x+3*y), uint8(255-5*y), uint8(11*x*y)
		}
	}
	return m
}

func pixel(m *imageio.Image, x, y int) [3]uint8 {
	i := 3 * (y*m.W + x)
	return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
}

func TestWarpAffineHandValues(t *testing.T) {
	src := ramp(9, 7)
	border := [3]uint8{135, 133, 132}
	// Identity and integer shifts copy pixels; a half-pixel shift averages
	// two neighbours rounding up ((a+b+1)>>1 from the 15-bit weights);
	// whatever maps outside is the border.
	id, _ := WarpAffine(src, Affine{{1, 0, 0}, {0, 1, 0}}, 9, 7, border)
	for i := range id.Pix {
		if id.Pix[i] != src.Pix[i] {
			t.Fatalf("identity warp changed value %d: %d → %d", i, src.Pix[i], id.Pix[i])
		}
	}
	sh, _ := WarpAffine(src, Affine{{1, 0, -2}, {0, 1, 1}}, 9, 7, border)
	if got, want := pixel(sh, 3, 4), pixel(src, 5, 3); got != want {
		t.Errorf("shift: %v, want %v", got, want)
	}
	if got := pixel(sh, 0, 0); got != border { // source (2, -1) is outside
		t.Errorf("shift border: %v, want %v", got, border)
	}
	half, _ := WarpAffine(src, Affine{{1, 0, -0.5}, {0, 1, 0}}, 9, 7, border)
	a, b := pixel(src, 4, 2), pixel(src, 5, 2)
	for k := 0; k < 3; k++ {
		if want := uint8((int(a[k]) + int(b[k]) + 1) >> 1); pixel(half, 4, 2)[k] != want {
			t.Errorf("half shift channel %d: %d, want %d", k, pixel(half, 4, 2)[k], want)
		}
	}
	// The last column blends the last pixel with the border 50/50.
	last, edge := pixel(half, 8, 2), pixel(src, 8, 2)
	for k := 0; k < 3; k++ {
		if want := uint8((int(edge[k]) + int(border[k]) + 1) >> 1); last[k] != want {
			t.Errorf("edge channel %d: %d, want %d", k, last[k], want)
		}
	}
	// Scaling by 2 about the origin: dst (2x, 2y) samples src (x, y).
	up, _ := WarpAffine(src, Affine{{2, 0, 0}, {0, 2, 0}}, 18, 14, border)
	if got, want := pixel(up, 6, 4), pixel(src, 3, 2); got != want {
		t.Errorf("scale: %v, want %v", got, want)
	}
	if _, err := WarpAffine(src, Affine{}, 0, 5, border); err == nil {
		t.Error("empty output size accepted")
	}
	if _, err := WarpAffine(&imageio.Image{W: 2, H: 2}, Affine{}, 4, 4, border); err == nil {
		t.Error("malformed source accepted")
	}
}

// similar maps points with scale s, rotation theta and translation t.
func similar(pts [][2]float64, s, theta, tx, ty float64) [][2]float64 {
	out := make([][2]float64, len(pts))
	c, n := s*math.Cos(theta), s*math.Sin(theta)
	for i, p := range pts {
		out[i] = [2]float64{c*p[0] - n*p[1] + tx, n*p[0] + c*p[1] + ty}
	}
	return out
}

var facePts = [][2]float64{{200.5, 240.25}, {320, 238.75}, {260.125, 300}, {210, 360.5}, {310.75, 362}}

func TestUmeyamaRecoversSimilarity(t *testing.T) {
	tests := []struct{ s, theta, tx, ty float64 }{
		{1, 0, 0, 0}, {0.43, 0.2, -50, 17}, {2.5, -1.1, 300, -40}, {0.1, 3.0, 5, 5},
	}
	for _, tc := range tests {
		dst := similar(facePts, tc.s, tc.theta, tc.tx, tc.ty)
		m, err := Umeyama(facePts, dst)
		if err != nil {
			t.Fatal(err)
		}
		want := Affine{
			{tc.s * math.Cos(tc.theta), -tc.s * math.Sin(tc.theta), tc.tx},
			{tc.s * math.Sin(tc.theta), tc.s * math.Cos(tc.theta), tc.ty},
		}
		for r := 0; r < 2; r++ {
			for c := 0; c < 3; c++ {
				if math.Abs(m[r][c]-want[r][c]) > 1e-9*math.Max(1, math.Abs(want[r][c])) {
					t.Errorf("%+v: M[%d][%d] = %.12g, want %.12g", tc, r, c, m[r][c], want[r][c])
				}
			}
		}
	}
	same := [][2]float64{{1, 1}, {1, 1}, {1, 1}}
	if _, err := Umeyama(same, facePts[:3]); err == nil {
		t.Error("coincident source points accepted")
	}
	if _, err := Umeyama(facePts[:1], facePts[:1]); err == nil {
		t.Error("a single point accepted")
	}
	if _, err := Umeyama([][2]float64{{0, 0}, {math.NaN(), 1}}, facePts[:2]); err == nil {
		t.Error("NaN accepted")
	}
}

func toF32(p [][2]float64) [][2]float32 {
	out := make([][2]float32, len(p))
	for i := range p {
		out[i] = [2]float32{float32(p[i][0]), float32(p[i][1])}
	}
	return out
}

func TestEstimateAffinePartial2D(t *testing.T) {
	// Exact correspondences: every point is an inlier and the refined
	// similarity is the generating one.
	dst := similar(facePts, 1.3, 0.15, -20, 8)
	m, inl, err := EstimateAffinePartial2D(toF32(facePts), toF32(dst))
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range inl {
		if !ok {
			t.Errorf("point %d marked an outlier", i)
		}
	}
	if d := math.Abs(m[0][0] - 1.3*math.Cos(0.15)); d > 1e-5 {
		t.Errorf("a = %g off by %g", m[0][0], d)
	}
	if m[0][0] != m[1][1] || m[0][1] != -m[1][0] {
		t.Errorf("not a similarity: %v", m)
	}
	// One gross outlier: LMedS rejects it and the fit uses the other four.
	bad := append([][2]float64(nil), dst...)
	bad[2][0] += 60
	m, inl, err = EstimateAffinePartial2D(toF32(facePts), toF32(bad))
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range inl {
		if ok != (i != 2) {
			t.Errorf("inliers %v, want all but 2", inl)
			break
		}
	}
	if d := math.Abs(m[0][2] - (-20)); d > 1e-3 {
		t.Errorf("tx = %g with the outlier rejected, want -20", m[0][2])
	}
	if _, _, err := EstimateAffinePartial2D(toF32(facePts[:1]), toF32(dst[:1])); err == nil {
		t.Error("one point accepted")
	}
	nan := toF32(facePts)
	nan[0][1] = float32(math.NaN())
	if _, _, err := EstimateAffinePartial2D(nan, toF32(dst)); err == nil {
		t.Error("NaN accepted")
	}
}

func TestNormCropTemplate(t *testing.T) {
	// Landmarks that already sit on the template give the identity.
	m, err := EstimateNorm(ArcFaceTemplate, 112)
	if err != nil {
		t.Fatal(err)
	}
	id := Affine{{1, 0, 0}, {0, 1, 0}}
	for r := 0; r < 2; r++ {
		for c := 0; c < 3; c++ {
			if math.Abs(m[r][c]-id[r][c]) > 1e-5 {
				t.Errorf("M[%d][%d] = %g, want %g", r, c, m[r][c], id[r][c])
			}
		}
	}
	// 128 variant: template scaled by 128/128 and shifted 8 px right.
	m, _ = EstimateNorm(ArcFaceTemplate, 128)
	if math.Abs(m[0][2]-8) > 1e-4 || math.Abs(m[0][0]-1) > 1e-6 {
		t.Errorf("128: %v, want a shift of 8", m)
	}
	for _, size := range []int{0, 100, -112} {
		if _, err := EstimateNorm(ArcFaceTemplate, size); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
}

func TestResizeHandValues(t *testing.T) {
	// 2×1 → 4×1 linear: positions −0.25 (clamped), 0.25, 0.75, 1.25
	// (clamped): 0, 63.75, 191.25, 255 in OpenCV's fixed point.
	src, _ := imageio.FromPix(2, 1, []uint8{0, 0, 0, 255, 255, 255})
	out, err := Resize(src, 4, 1, InterLinear)
	if err != nil {
		t.Fatal(err)
	}
	for x, want := range []uint8{0, 64, 191, 255} {
		if got := pixel(out, x, 0)[0]; got != want {
			t.Errorf("linear x=%d: %d, want %d", x, got, want)
		}
	}
	// Exactly half size switches to the 2×2 average, rounding half up.
	q, _ := imageio.FromPix(2, 2, []uint8{10, 0, 0, 11, 0, 0, 10, 0, 0, 11, 0, 0})
	h, _ := Resize(q, 1, 1, InterLinear)
	if h.Pix[0] != 11 { // (10+11+10+11+2)>>2
		t.Errorf("half: %d, want 11", h.Pix[0])
	}
	// A flat image stays flat under every kernel and size.
	flat := imageio.New(13, 9)
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	for _, interp := range []Interpolation{InterLinear, InterLanczos} {
		for _, sz := range [][2]int{{5, 4}, {13, 9}, {31, 17}, {1, 1}} {
			o, err := Resize(flat, sz[0], sz[1], interp)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range o.Pix {
				if v != 77 {
					t.Fatalf("interp %d %v: flat image became %d", interp, sz, v)
				}
			}
		}
	}
	if _, err := Resize(flat, 0, 3, InterLinear); err == nil {
		t.Error("empty size accepted")
	}
}

func TestResizeNumpyImageLong(t *testing.T) {
	tests := []struct{ w, h, long, ww, wh int }{
		{1236, 1232, 1024, 1024, 1020}, // the MANIFEST's truncation example
		{800, 600, 1024, 800, 600},     // small images are left alone
		{3000, 1000, 1024, 1024, 341},
		{999, 4001, 768, 191, 768},
	}
	for _, tc := range tests {
		out, err := ResizeNumpyImageLong(imageio.New(tc.w, tc.h), tc.long)
		if err != nil {
			t.Fatal(err)
		}
		if out.W != tc.ww || out.H != tc.wh {
			t.Errorf("%dx%d long %d: %dx%d, want %dx%d", tc.w, tc.h, tc.long, out.W, out.H, tc.ww, tc.wh)
		}
	}
	if _, err := ResizeNumpyImageLong(imageio.New(4, 4), 0); err == nil {
		t.Error("long 0 accepted")
	}
}

func TestBicubic(t *testing.T) {
	// Same size is the identity (the weights are 0, 1, 0, 0).
	x := make([]float32, 2*5*7)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	y, err := ResizeBicubic(x, 2, 5, 7, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if y[i] != x[i] {
			t.Fatalf("identity resize changed %d: %g → %g", i, x[i], y[i])
		}
	}
	// Constants stay constant (weights sum to one); a step overshoots
	// without antialias (no clamping), as torch does.
	c := make([]float32, 1*16*16)
	step := make([]float32, 16*16)
	for i := range c {
		c[i] = 0.25
		if i%16 >= 8 {
			step[i] = 1
		}
	}
	for _, aa := range []bool{false, true} {
		f := ResizeBicubic
		if aa {
			f = ResizeBicubicAA
		}
		y, err := f(c, 1, 16, 16, 11, 11)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range y {
			if math.Abs(float64(v)-0.25) > 1e-6 {
				t.Fatalf("antialias %v: constant became %g", aa, v)
			}
		}
		s, _ := f(step, 1, 16, 16, 16, 11)
		lo, hi := float32(0), float32(1)
		for _, v := range s {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo >= 0 || hi <= 1 {
			t.Errorf("antialias %v: step range [%g, %g] shows no cubic overshoot", aa, lo, hi)
		}
	}
	if _, err := ResizeBicubic(c, 1, 15, 16, 4, 4); err == nil {
		t.Error("wrong tensor size accepted")
	}
	if h, w := TorchvisionResizeSize(512, 512, 336); h != 336 || w != 336 {
		t.Errorf("square: %d×%d", h, w)
	}
	if h, w := TorchvisionResizeSize(600, 400, 336); h != 504 || w != 336 {
		t.Errorf("portrait: %d×%d, want 504×336", h, w)
	}
}

func TestMaskAndNormalisation(t *testing.T) {
	face, _ := imageio.FromPix(3, 1, []uint8{0, 0, 255, 255, 0, 0, 10, 20, 30}) // BGR: red, blue, …
	feat, bg, err := FaceFeatures(face, []uint8{1, 16, 17})
	if err != nil {
		t.Fatal(err)
	}
	// Red pixel: gray 0.299 (float32); label 16 (cloth) is background → 1.
	if want := float32(0.299); feat[0] != want || feat[3] != want || feat[6] != want {
		t.Errorf("red gray: %v, want %g ×3", []float32{feat[0], feat[3], feat[6]}, want)
	}
	if feat[1] != 1 || !bg[1] || bg[0] || bg[2] {
		t.Errorf("background: features %g, mask %v", feat[1], bg)
	}
	if _, _, err := FaceFeatures(face, []uint8{1}); err == nil || !strings.Contains(err.Error(), "labels") {
		t.Errorf("label count mismatch: %v", err)
	}
	for _, l := range BackgroundLabels {
		if !BackgroundMask([]uint8{l})[0] {
			t.Errorf("label %d should be background", l)
		}
	}
	// Blobs: (x − mean)·scale, channel order swapped.
	blob := BlobFromImage(face, 1/127.5, 127.5, true)
	if blob[0] != float32(255-127.5)*float32(1/127.5) || blob[2*3] != float32(0-127.5)*float32(1/127.5) {
		t.Errorf("arcface blob of a BGR red pixel: R %g, B %g", blob[0], blob[6])
	}
	if s := SCRFDBlob(face); s[0] != (255-127.5)/128 {
		t.Errorf("scrfd blob: %g", s[0])
	}
	in := BiSeNetInput(face)
	if want := (float32(255)/255 - 0.485) / 0.229; in[0] != want {
		t.Errorf("bisenet input R: %g, want %g", in[0], want)
	}
	g := MaskedGrayImage(feat, 3, 1)
	if g.Pix[0] != 76 || g.Pix[3] != 255 { // 0.299·255 = 76.2
		t.Errorf("debug image: %v", g.Pix)
	}
}

func TestSCRFDLetterbox(t *testing.T) {
	img := ramp(485, 550)
	det, scale, err := SCRFDLetterbox(img, 640, 640)
	if err != nil {
		t.Fatal(err)
	}
	// Taller than wide: height fills 640, width int(640/(550/485)) = 564.
	if math.Abs(scale-640.0/550) > 1e-15 {
		t.Errorf("scale %g", scale)
	}
	if got := pixel(det, 564, 100); got != [3]uint8{} {
		t.Errorf("canvas right of the image: %v, want black", got)
	}
	if got := pixel(det, 563, 639); got == [3]uint8{} {
		t.Errorf("last resized pixel is black")
	}
	if _, _, err := SCRFDLetterbox(img, 0, 640); err == nil {
		t.Error("empty detector size accepted")
	}
}

func TestFaceChoice(t *testing.T) {
	// An 800×600 image (h=600, w=800): centre (400, 300).
	boxes := []Box{
		{X1: 0, Y1: 0, X2: 300, Y2: 300},       // big, off-centre; area 90000
		{X1: 380, Y1: 280, X2: 420, Y2: 320},   // small, at the centre
		{X1: 500, Y1: 300, X2: 800, Y2: 600},   // area 90000: ties the first
		{X1: -200, Y1: -200, X2: 250, Y2: 250}, // largest raw (202500), clipped 62500
	}
	if got := CenterFace(boxes, 600, 800); got != 1 {
		t.Errorf("centre face %d, want 1", got)
	}
	if got := LargestFaceInsightface(boxes); got != 3 {
		t.Errorf("insightface largest %d, want 3", got)
	}
	if got := LargestFaceInsightface(boxes[:3]); got != 2 { // ties: the last
		t.Errorf("insightface largest of a tie %d, want 2", got)
	}
	if got := LargestFaceClipped(boxes, 600, 800); got != 0 { // ties: the first
		t.Errorf("facexlib largest (clipped) %d, want 0", got)
	}
	if CenterFace(nil, 1, 1) != -1 || LargestFaceInsightface(nil) != -1 || LargestFaceClipped(nil, 1, 1) != -1 {
		t.Error("no boxes should give -1")
	}
}
