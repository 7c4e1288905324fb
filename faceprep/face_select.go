package faceprep

import "math"

// Box is a detection: corners (x1, y1), (x2, y2) in image pixels and a
// score (float32, as both detectors output).
type Box struct {
	X1, Y1, X2, Y2, Score float32
}

// CenterFace is facexlib's get_center_face, the choice PuLID makes for
// alignment and parsing (get_face_landmarks_5(only_center_face=True)): the
// index of the box whose centre is closest to the image centre (w/2, h/2);
// the first on ties; −1 for no boxes.
func CenterFace(boxes []Box, h, w int) int {
	cx, cy := float64(w)/2, float64(h)/2
	best, bestD := -1, math.Inf(1)
	for i, b := range boxes {
		// The box centre is computed in float32 (numpy on float32 rows).
		fx := float64(float32(b.X1+b.X2) / 2)
		fy := float64(float32(b.Y1+b.Y2) / 2)
		d := math.Hypot(fx-cx, fy-cy)
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// LargestFaceInsightface is PuLID's choice among insightface's faces for
// ArcFace: sort by (x2−x1)·(y2−y1) (float32) ascending, stably, and take
// the last — the largest, the last one on ties; −1 for no boxes.
func LargestFaceInsightface(boxes []Box) int {
	best := -1
	var bestA float32
	for i, b := range boxes {
		a := float32(b.X2-b.X1) * float32(b.Y2-b.Y1)
		if best < 0 || a >= bestA {
			best, bestA = i, a
		}
	}
	return best
}

// LargestFaceClipped is facexlib's get_largest_face (not PuLID's path):
// the largest area after clipping the box to the image, first on ties;
// −1 for no boxes.
func LargestFaceClipped(boxes []Box, h, w int) int {
	clip := func(v float32, l int) float32 {
		return min(max(v, 0), float32(l))
	}
	best, bestA := -1, float32(math.Inf(-1))
	for i, b := range boxes {
		// float32, as numpy computes on the float32 coordinates.
		a := float32(clip(b.X2, w)-clip(b.X1, w)) * float32(clip(b.Y2, h)-clip(b.Y1, h))
		if a > bestA {
			best, bestA = i, a
		}
	}
	return best
}
