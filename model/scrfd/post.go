// Package scrfd holds the post-processing of insightface's SCRFD face
// detector (antelopev2 `scrfd_10g_bnkps.onnx`, insightface 0.7.3
// SCRFD.detect): anchor centres per stride, distance-to-box and
// distance-to-keypoint decoding, the score threshold, the +1-pixel NMS, and
// PuLID's choice of the largest face. The net itself is an ONNX graph.
package scrfd

import (
	"fmt"
	"slices"
)

// Detection constants of SCRFD.detect as FaceAnalysis('antelopev2') runs it.
var Strides = [3]int{8, 16, 32}

const (
	NumAnchors   = 2   // anchors per location
	DetThreshold = 0.5 // keep score >= DetThreshold
	NMSThreshold = 0.4 // keep while IoU <= NMSThreshold
)

// Face is one detection in original-image pixels.
type Face struct {
	Box   [4]float32 // x1, y1, x2, y2
	Score float32
	Kps   [5][2]float32
}

// Letterbox is the geometry of SCRFD.detect's resize into the detector
// input: the image keeps its aspect ratio and sits at the top left of a
// detW×detH canvas.
type Letterbox struct {
	NewW, NewH int
	Scale      float64 // new_h / h: detector pixels per image pixel
}

// Fit computes the letterbox of an h×w image into detW×detH, with
// insightface's int() truncation.
func Fit(h, w, detW, detH int) (Letterbox, error) {
	if h < 1 || w < 1 || detW < 1 || detH < 1 {
		return Letterbox{}, fmt.Errorf("scrfd: cannot fit a %d×%d image into %d×%d", w, h, detW, detH)
	}
	imRatio := float64(h) / float64(w)
	var lb Letterbox
	if imRatio > float64(detH)/float64(detW) {
		lb.NewH = detH
		lb.NewW = int(float64(lb.NewH) / imRatio)
	} else {
		lb.NewW = detW
		lb.NewH = int(float64(lb.NewW) * imRatio)
	}
	if lb.NewW < 1 || lb.NewH < 1 {
		return Letterbox{}, fmt.Errorf("scrfd: a %d×%d image shrinks to nothing in %d×%d", w, h, detW, detH)
	}
	lb.Scale = float64(lb.NewH) / float64(h)
	return lb, nil
}

// AnchorCenters returns the (x, y) centres of a stride's anchors for a
// detH×detW input, [(detH/stride)·(detW/stride)·NumAnchors][2]: row-major
// grid points times stride, each repeated for the anchors.
func AnchorCenters(detH, detW, stride int) [][2]float32 {
	h, w := detH/stride, detW/stride
	out := make([][2]float32, 0, h*w*NumAnchors)
	for i := range h {
		for j := range w {
			for range NumAnchors {
				out = append(out, [2]float32{float32(j * stride), float32(i * stride)})
			}
		}
	}
	return out
}

// Level holds the net outputs of one stride: scores [n], bbox [n·4] and
// kps [n·10] as distances in stride units.
type Level struct {
	Scores, BBox, Kps []float32
}

// Detect decodes the net outputs of the three strides (for a detH×detW
// input holding the letterboxed image) into faces in original-image pixels,
// sorted by descending score, after NMS.
func Detect(levels [3]Level, detH, detW int, lb Letterbox, thresh, nmsThresh float64) ([]Face, error) {
	var cand []Face
	scale := float32(lb.Scale) // numpy divides the float32 arrays by a float32-cast scalar
	for k, stride := range Strides {
		lv := levels[k]
		centres := AnchorCenters(detH, detW, stride)
		n := len(centres)
		if len(lv.Scores) != n || len(lv.BBox) != 4*n || len(lv.Kps) != 10*n {
			return nil, fmt.Errorf("scrfd: stride %d: %d anchors but %d scores, %d box and %d keypoint values",
				stride, n, len(lv.Scores), len(lv.BBox), len(lv.Kps))
		}
		s := float32(stride)
		for i, c := range centres {
			if !(lv.Scores[i] >= float32(thresh)) {
				continue
			}
			d := lv.BBox[4*i : 4*i+4]
			f := Face{Score: lv.Scores[i], Box: [4]float32{
				(c[0] - d[0]*s) / scale, (c[1] - d[1]*s) / scale,
				(c[0] + d[2]*s) / scale, (c[1] + d[3]*s) / scale,
			}}
			p := lv.Kps[10*i : 10*i+10]
			for j := range 5 {
				f.Kps[j] = [2]float32{(c[0] + p[2*j]*s) / scale, (c[1] + p[2*j+1]*s) / scale}
			}
			cand = append(cand, f)
		}
	}
	// argsort()[::-1]: descending score, ties in descending position.
	slices.Reverse(cand)
	slices.SortStableFunc(cand, func(a, b Face) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return NMS(cand, nmsThresh), nil
}

// NMS is insightface's greedy NMS over faces sorted by descending score,
// with the +1-pixel convention: area = (x2−x1+1)·(y2−y1+1), overlap
// widths max(0, xx2−xx1+1); a face survives while its IoU with every kept
// face is <= thresh. float32 throughout, as numpy on the float32 dets.
func NMS(faces []Face, thresh float64) []Face {
	area := func(f Face) float32 { return (f.Box[2] - f.Box[0] + 1) * (f.Box[3] - f.Box[1] + 1) }
	t := float32(thresh)
	var keep []Face
	rest := faces
	for len(rest) > 0 {
		a := rest[0]
		keep = append(keep, a)
		ai := area(a)
		var next []Face
		for _, c := range rest[1:] {
			w := max(0, min(a.Box[2], c.Box[2])-max(a.Box[0], c.Box[0])+1)
			h := max(0, min(a.Box[3], c.Box[3])-max(a.Box[1], c.Box[1])+1)
			inter := w * h
			if inter/(ai+area(c)-inter) <= t {
				next = append(next, c)
			}
		}
		rest = next
	}
	return keep
}

// Largest is PuLID's choice among FaceAnalysis faces: sorted by
// (x2−x1)·(y2−y1) (a stable sort), the last. -1 when there are none.
func Largest(faces []Face) int {
	best := -1
	var bestArea float32
	for i, f := range faces {
		a := (f.Box[2] - f.Box[0]) * (f.Box[3] - f.Box[1])
		if best < 0 || a >= bestArea {
			best, bestArea = i, a
		}
	}
	return best
}
