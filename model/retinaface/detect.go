package retinaface

import (
	"fmt"
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
)

// Face is one detection in input-image pixels.
type Face struct {
	Box       [4]float32    // x1, y1, x2, y2
	Score     float32       // face probability
	Landmarks [5][2]float32 // eyes, nose tip, mouth corners as (x, y)
}

// Row is the face as one row of detect_faces' (n, 15) array:
// x1, y1, x2, y2, score, then the five (x, y) landmarks.
func (f Face) Row() [15]float32 {
	var r [15]float32
	copy(r[:4], f.Box[:])
	r[4] = f.Score
	for i, p := range f.Landmarks {
		r[5+2*i], r[6+2*i] = p[0], p[1]
	}
	return r
}

// Priors returns PriorBox's anchors for an h×w input, [P·4] as (cx, cy,
// w, h) normalised by the image size: per level a ceil(h/step)×ceil(w/step)
// grid, row-major, each cell with one anchor per min size. The values are
// computed in float64 and rounded, as torch.Tensor(list of floats) does.
func Priors(h, w int) []float32 {
	var out []float32
	for k, step := range Steps {
		fh, fw := ceilDiv(h, step), ceilDiv(w, step)
		for i := range fh {
			for j := range fw {
				for _, ms := range MinSizes[k] {
					cx := (float64(j) + 0.5) * float64(step) / float64(w)
					cy := (float64(i) + 0.5) * float64(step) / float64(h)
					out = append(out, float32(cx), float32(cy), float32(float64(ms)/float64(w)), float32(float64(ms)/float64(h)))
				}
			}
		}
	}
	return out
}

// NumPriors is the number of anchors of an h×w input.
func NumPriors(h, w int) int {
	n := 0
	for k, step := range Steps {
		n += ceilDiv(h, step) * ceilDiv(w, step) * len(MinSizes[k])
	}
	return n
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Decode is detect_faces after the net: decode the boxes and landmarks of
// every prior against an h×w image, keep the scores strictly above conf,
// sort by descending score and suppress overlaps above nms (torchvision
// NMS). loc [P·4], conf [P·2] (softmaxed), landms [P·10] of one image.
func Decode(loc, conf, landms, priors []float32, h, w int, confThreshold, nmsThreshold float64) ([]Face, error) {
	p := len(priors) / 4
	if len(priors) != 4*p || len(loc) != 4*p || len(conf) != 2*p || len(landms) != 10*p {
		return nil, fmt.Errorf("retinaface: decode: %d priors but %d loc, %d conf, %d landmark values", p, len(loc), len(conf), len(landms))
	}
	v0, v1 := Variances[0], Variances[1]
	fw, fh := float32(w), float32(h)
	var cand []Face
	for i := range p {
		score := conf[2*i+1]
		if !(float64(score) > confThreshold) {
			continue
		}
		pr := priors[4*i : 4*i+4]
		l := loc[4*i : 4*i+4]
		// decode(): centre offsets scaled by variance·prior size, sizes by
		// exp(variance·offset); then x1 = cx − w/2 and x2 = x1 + w, in that
		// order, as the reference updates the tensor in place.
		cx := pr[0] + l[0]*v0*pr[2]
		cy := pr[1] + l[1]*v0*pr[3]
		bw := pr[2] * float32(math.Exp(float64(l[2]*v1)))
		bh := pr[3] * float32(math.Exp(float64(l[3]*v1)))
		x1, y1 := cx-bw/2, cy-bh/2
		x2, y2 := bw+x1, bh+y1
		f := Face{Box: [4]float32{x1 * fw, y1 * fh, x2 * fw, y2 * fh}, Score: score}
		lm := landms[10*i : 10*i+10]
		for k := range 5 {
			f.Landmarks[k] = [2]float32{(pr[0] + lm[2*k]*v0*pr[2]) * fw, (pr[1] + lm[2*k+1]*v0*pr[3]) * fh}
		}
		cand = append(cand, f)
	}
	// numpy's argsort()[::-1]: descending score; equal scores end up in
	// descending index order (a stable ascending sort, reversed).
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
	return NMS(cand, nmsThreshold), nil
}

// NMS is torchvision.ops.nms over faces already sorted by descending
// score: keep a face, drop every later face whose IoU with it exceeds
// thresh. Areas are (x2−x1)·(y2−y1) with no +1, in float32.
func NMS(faces []Face, thresh float64) []Face {
	area := func(f Face) float32 { return (f.Box[2] - f.Box[0]) * (f.Box[3] - f.Box[1]) }
	dropped := make([]bool, len(faces))
	var keep []Face
	for i, a := range faces {
		if dropped[i] {
			continue
		}
		keep = append(keep, a)
		ai := area(a)
		for j := i + 1; j < len(faces); j++ {
			if dropped[j] {
				continue
			}
			c := faces[j]
			w := max(0, min(a.Box[2], c.Box[2])-max(a.Box[0], c.Box[0]))
			h := max(0, min(a.Box[3], c.Box[3])-max(a.Box[1], c.Box[1]))
			inter := w * h
			if float64(inter/(ai+area(c)-inter)) > thresh {
				dropped[j] = true
			}
		}
	}
	return keep
}

// Input converts an h×w BGR uint8 image (HWC) to the net input [1, 3, h, w]:
// float pixels minus Mean per channel, in BGR order, no scaling.
func Input(bgr []byte, h, w int) ([]float32, error) {
	if h < 1 || w < 1 || len(bgr) != h*w*3 {
		return nil, fmt.Errorf("retinaface: image of %d bytes is not %d×%d BGR", len(bgr), h, w)
	}
	out := make([]float32, 3*h*w)
	for c := range 3 {
		plane := out[c*h*w : (c+1)*h*w]
		for i := range plane {
			plane[i] = float32(bgr[3*i+c]) - Mean[c]
		}
	}
	return out, nil
}

// MaxPixels bounds the images Detect accepts (the net runs at the original
// size: use_origin_size=True).
const MaxPixels = 4096 * 4096

// Detect is facexlib's detect_faces(img_bgr, confThreshold, nmsThreshold,
// use_origin_size=True) on an h×w BGR uint8 image (HWC).
func (m *Model) Detect(bgr []byte, h, w int, confThreshold, nmsThreshold float64) ([]Face, error) {
	if h*w > MaxPixels {
		return nil, fmt.Errorf("retinaface: image %d×%d exceeds %d pixels", w, h, MaxPixels)
	}
	in, err := Input(bgr, h, w)
	if err != nil {
		return nil, err
	}
	x := m.b.FromF32([]int{1, 3, h, w}, in)
	out, err := m.Forward(x)
	if err != nil {
		return nil, err
	}
	return m.decodeOutputs(out, h, w, confThreshold, nmsThreshold)
}

func (m *Model) decodeOutputs(out Outputs, h, w int, confThreshold, nmsThreshold float64) ([]Face, error) {
	read := func(t backend.Tensor) ([]float32, error) { return m.b.ReadF32(t) }
	loc, err := read(out.Loc)
	if err != nil {
		return nil, err
	}
	conf, err := read(out.Conf)
	if err != nil {
		return nil, err
	}
	landms, err := read(out.Landms)
	if err != nil {
		return nil, err
	}
	return Decode(loc, conf, landms, Priors(h, w), h, w, confThreshold, nmsThreshold)
}
