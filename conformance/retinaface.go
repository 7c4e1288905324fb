package conformance

import (
	"fmt"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
)

// facexlib RetinaFace: the full detect_faces on a photo, and its
// post-processing alone on synthetic head outputs.
func init() {
	Register("retinaface/net", runRetinaFaceNet)
	Register("retinaface/decodenms", runRetinaFaceDecodeNMS)
	Register("retinaface/scrfdpost", runSCRFDPost)
}

// retinaDetectConfig is the part of a retinaface case config that
// parameterises detect_faces.
type retinaDetectConfig struct {
	ImageHW       []int     `json:"image_hw"`
	ConfThreshold *float64  `json:"conf_threshold"`
	NMSThreshold  *float64  `json:"nms_threshold"`
	Variance      []float32 `json:"variance"`
	MinSizes      [][]int   `json:"min_sizes"`
	Steps         []int     `json:"steps"`
}

// thresholds returns the case's thresholds and checks that the fixed
// detection constants it records are the ones the package implements.
func (rc retinaDetectConfig) thresholds() (conf, nms float64, err error) {
	conf, nms = retinaface.PuLIDConfThreshold, retinaface.NMSThreshold
	if rc.ConfThreshold != nil {
		conf = *rc.ConfThreshold
	}
	if rc.NMSThreshold != nil {
		nms = *rc.NMSThreshold
	}
	if rc.Variance != nil && !slices.Equal(rc.Variance, retinaface.Variances[:]) {
		return 0, 0, fmt.Errorf("variance %v, implemented %v", rc.Variance, retinaface.Variances)
	}
	if rc.Steps != nil && !slices.Equal(rc.Steps, retinaface.Steps[:]) {
		return 0, 0, fmt.Errorf("steps %v, implemented %v", rc.Steps, retinaface.Steps)
	}
	if rc.MinSizes != nil {
		ok := len(rc.MinSizes) == len(retinaface.MinSizes)
		for k := 0; ok && k < len(rc.MinSizes); k++ {
			ok = slices.Equal(rc.MinSizes[k], retinaface.MinSizes[k][:])
		}
		if !ok {
			return 0, 0, fmt.Errorf("min_sizes %v, implemented %v", rc.MinSizes, retinaface.MinSizes)
		}
	}
	return conf, nms, nil
}

func detectionsOutput(faces []retinaface.Face) Output {
	v := make([]float32, 0, 15*len(faces))
	for _, f := range faces {
		r := f.Row()
		v = append(v, r[:]...)
	}
	return Float([]int{len(faces), 15}, v)
}

func runRetinaFaceNet(c *Case, b backend.Backend) (Outputs, error) {
	var rc retinaDetectConfig
	if err := c.JSON("config", &rc); err != nil {
		return nil, err
	}
	conf, nms, err := rc.thresholds()
	if err != nil {
		return nil, err
	}
	info, err := c.Info("in.image_bgr")
	if err != nil {
		return nil, err
	}
	if len(info.Shape) != 3 || info.Shape[2] != 3 {
		return nil, fmt.Errorf("in.image_bgr has shape %v, want [H, W, 3]", info.Shape)
	}
	h, w := info.Shape[0], info.Shape[1]
	img, err := c.Bytes("in.image_bgr")
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	m, err := retinaface.Load(b, st)
	if err != nil {
		return nil, err
	}
	in, err := retinaface.Input(img, h, w)
	if err != nil {
		return nil, err
	}
	out, err := m.Forward(b.FromF32([]int{1, 3, h, w}, in))
	if err != nil {
		return nil, err
	}
	res := Outputs{"out.net_input": Float([]int{1, 3, h, w}, in)}
	for name, t := range map[string]backend.Tensor{
		"out.loc": out.Loc, "out.conf": out.Conf, "out.conf_logits": out.ConfLogits, "out.landms": out.Landms,
		"out.fpn.0": out.FPN[0], "out.fpn.1": out.FPN[1], "out.fpn.2": out.FPN[2],
	} {
		if res[name], err = Read(b, t); err != nil {
			return nil, err
		}
	}
	priors := retinaface.Priors(h, w)
	res["out.priors"] = Float([]int{len(priors) / 4, 4}, priors)
	faces, err := retinaface.Decode(res["out.loc"].F32, res["out.conf"].F32, res["out.landms"].F32, priors, h, w, conf, nms)
	if err != nil {
		return nil, err
	}
	res["out.detections"] = detectionsOutput(faces)
	return res, nil
}

func runRetinaFaceDecodeNMS(c *Case, b backend.Backend) (Outputs, error) {
	var rc retinaDetectConfig
	if err := c.JSON("config", &rc); err != nil {
		return nil, err
	}
	conf, nms, err := rc.thresholds()
	if err != nil {
		return nil, err
	}
	if len(rc.ImageHW) != 2 {
		return nil, fmt.Errorf("config image_hw %v, want [H, W]", rc.ImageHW)
	}
	h, w := rc.ImageHW[0], rc.ImageHW[1]
	loc, _, err := c.F32("in.loc")
	if err != nil {
		return nil, err
	}
	cf, _, err := c.F32("in.conf")
	if err != nil {
		return nil, err
	}
	landms, _, err := c.F32("in.landms")
	if err != nil {
		return nil, err
	}
	priors := retinaface.Priors(h, w)
	faces, err := retinaface.Decode(loc, cf, landms, priors, h, w, conf, nms)
	if err != nil {
		return nil, err
	}
	return Outputs{
		"out.priors":     Float([]int{len(priors) / 4, 4}, priors),
		"out.detections": detectionsOutput(faces),
	}, nil
}

// runSCRFDPost feeds synthetic 9-output heads through SCRFD.detect's
// post-processing for an image of config.image_hw letterboxed into
// config.det_size_wh.
func runSCRFDPost(c *Case, b backend.Backend) (Outputs, error) {
	var cfg struct {
		ImageHW   []int    `json:"image_hw"`
		DetSizeWH []int    `json:"det_size_wh"`
		DetThresh *float64 `json:"det_thresh"`
		NMSThresh *float64 `json:"nms_thresh"`
		Strides   []int    `json:"strides"`
		Anchors   int      `json:"num_anchors"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	if len(cfg.ImageHW) != 2 || len(cfg.DetSizeWH) != 2 {
		return nil, fmt.Errorf("config image_hw %v / det_size_wh %v, want two values each", cfg.ImageHW, cfg.DetSizeWH)
	}
	if cfg.Strides != nil && !slices.Equal(cfg.Strides, scrfd.Strides[:]) || cfg.Anchors != 0 && cfg.Anchors != scrfd.NumAnchors {
		return nil, fmt.Errorf("strides %v / %d anchors, implemented %v / %d", cfg.Strides, cfg.Anchors, scrfd.Strides, scrfd.NumAnchors)
	}
	thresh, nms := scrfd.DetThreshold, scrfd.NMSThreshold
	if cfg.DetThresh != nil {
		thresh = *cfg.DetThresh
	}
	if cfg.NMSThresh != nil {
		nms = *cfg.NMSThresh
	}
	detW, detH := cfg.DetSizeWH[0], cfg.DetSizeWH[1]
	lb, err := scrfd.Fit(cfg.ImageHW[0], cfg.ImageHW[1], detW, detH)
	if err != nil {
		return nil, err
	}
	res := Outputs{}
	var levels [3]scrfd.Level
	for k, s := range scrfd.Strides {
		var err error
		lv := &levels[k]
		if lv.Scores, _, err = c.F32(fmt.Sprintf("in.scores_s%d", s)); err != nil {
			return nil, err
		}
		if lv.BBox, _, err = c.F32(fmt.Sprintf("in.bbox_s%d", s)); err != nil {
			return nil, err
		}
		if lv.Kps, _, err = c.F32(fmt.Sprintf("in.kps_s%d", s)); err != nil {
			return nil, err
		}
		ac := scrfd.AnchorCenters(detH, detW, s)
		flat := make([]float32, 0, 2*len(ac))
		for _, p := range ac {
			flat = append(flat, p[0], p[1])
		}
		res[fmt.Sprintf("out.anchor_centers_s%d", s)] = Float([]int{len(ac), 2}, flat)
	}
	faces, err := scrfd.Detect(levels, detH, detW, lb, thresh, nms)
	if err != nil {
		return nil, err
	}
	var boxes, kps []float32
	for _, f := range faces {
		boxes = append(boxes, f.Box[0], f.Box[1], f.Box[2], f.Box[3], f.Score)
		for _, p := range f.Kps {
			kps = append(kps, p[0], p[1])
		}
	}
	res["out.bboxes"] = Float([]int{len(faces), 5}, boxes)
	res["out.kpss"] = Float([]int{len(faces), 5, 2}, kps)
	res["out.pulid_largest_index"] = Ints([]int{1}, []int64{int64(scrfd.Largest(faces))})
	return res, nil
}
