package conformance

import (
	"fmt"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
)

// facexlib RetinaFace: the full detect_faces on a photo, and its
// post-processing alone on synthetic head outputs.
func init() {
	Register("retinaface/net", runRetinaFaceNet)
	Register("retinaface/decodenms", runRetinaFaceDecodeNMS)
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
