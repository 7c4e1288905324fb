// Package retinaface is facexlib's RetinaFace face detector with the
// ResNet-50 backbone (PuLID's `det_model='retinaface_resnet50'`): a
// torchvision ResNet-50 body read at strides 8/16/32, an FPN, an SSH
// context module per level and 1×1 class/box/landmark heads over two
// anchors per location, then facexlib's detect_faces post-processing
// (priors, decode, confidence threshold, NMS).
package retinaface

import (
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/model/internal/convbn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Config is the shape of the net; every field is read from the weights.
type Config struct {
	Stem    int    // body.conv1 output channels (64)
	Blocks  [4]int // Bottleneck blocks per stage (3, 4, 6, 3)
	Mid     [4]int // Bottleneck inner widths (64, 128, 256, 512)
	Out     [4]int // stage output widths (256, 512, 1024, 2048)
	FPN     int    // FPN / SSH / head input width (256)
	Anchors int    // anchors per location (2)
}

// R50 is the configuration of the released detection_Resnet50_Final.pth.
var R50 = Config{
	Stem:    64,
	Blocks:  [4]int{3, 4, 6, 3},
	Mid:     [4]int{64, 128, 256, 512},
	Out:     [4]int{256, 512, 1024, 2048},
	FPN:     256,
	Anchors: 2,
}

// Detection constants of facexlib's cfg_re50 (not stored in the weights).
var (
	Steps     = [3]int{8, 16, 32}
	MinSizes  = [3][2]int{{16, 32}, {64, 128}, {256, 512}}
	Variances = [2]float32{0.1, 0.2}
	// Mean is subtracted from the BGR pixels (no scaling, no std).
	Mean = [3]float32{104, 117, 123}
)

// Defaults of detect_faces as PuLID calls it.
const (
	PuLIDConfThreshold = 0.97
	NMSThreshold       = 0.4
)

// StripModule views src without the `module.` prefix a DataParallel save
// puts on every key (facexlib strips it before load_state_dict), or src
// itself when its keys have none.
func StripModule(src weights.Source) weights.Source {
	names := src.Names()
	if len(names) == 0 {
		return src
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "module.") {
			return src
		}
	}
	return weights.Prefixed(src, "module.")
}

// ConfigFrom reads the configuration from the tensor shapes of src (keys as
// in the state dict, `module.` already stripped).
func ConfigFrom(src weights.Source) (Config, error) {
	var c Config
	dim := func(name string, axis int) int {
		info, ok := src.Info(name)
		if !ok || len(info.Shape) <= axis {
			return 0
		}
		return info.Shape[axis]
	}
	c.Stem = dim("body.conv1.weight", 0)
	if c.Stem == 0 {
		return c, fmt.Errorf("retinaface: no body.conv1.weight: not a RetinaFace ResNet-50 checkpoint")
	}
	for s := range 4 {
		for dim(fmt.Sprintf("body.layer%d.%d.conv1.weight", s+1, c.Blocks[s]), 0) > 0 {
			c.Blocks[s]++
		}
		if c.Blocks[s] == 0 {
			return c, fmt.Errorf("retinaface: stage layer%d has no blocks", s+1)
		}
		c.Mid[s] = dim(fmt.Sprintf("body.layer%d.0.conv1.weight", s+1), 0)
		c.Out[s] = dim(fmt.Sprintf("body.layer%d.0.conv3.weight", s+1), 0)
	}
	c.FPN = dim("fpn.output1.0.weight", 0)
	c.Anchors = dim("ClassHead.0.conv1x1.weight", 0) / 2
	if c.FPN == 0 || c.FPN%4 != 0 || c.Anchors == 0 {
		return c, fmt.Errorf("retinaface: FPN width %d / anchors %d unreadable or invalid (SSH needs a multiple of 4)", c.FPN, c.Anchors)
	}
	return c, nil
}

// Shapes lists every tensor of the state dict of a net of this
// configuration (BatchNorm's num_batches_tracked has shape []), as the
// released checkpoint holds them after `module.` is stripped.
func (c Config) Shapes() map[string][]int {
	m := convbn.Shapes{}
	conv, bn := m.Conv, m.BN
	conv("body.conv1", c.Stem, 3, 7)
	bn("body.bn1", c.Stem)
	in := c.Stem
	for s := range 4 {
		for i := range c.Blocks[s] {
			p := fmt.Sprintf("body.layer%d.%d.", s+1, i)
			conv(p+"conv1", c.Mid[s], in, 1)
			bn(p+"bn1", c.Mid[s])
			conv(p+"conv2", c.Mid[s], c.Mid[s], 3)
			bn(p+"bn2", c.Mid[s])
			conv(p+"conv3", c.Out[s], c.Mid[s], 1)
			bn(p+"bn3", c.Out[s])
			if i == 0 {
				conv(p+"downsample.0", c.Out[s], in, 1)
				bn(p+"downsample.1", c.Out[s])
			}
			in = c.Out[s]
		}
	}
	for l := range 3 {
		p := fmt.Sprintf("fpn.output%d.", l+1)
		conv(p+"0", c.FPN, c.Out[l+1], 1)
		bn(p+"1", c.FPN)
	}
	for _, p := range []string{"fpn.merge1.", "fpn.merge2."} {
		conv(p+"0", c.FPN, c.FPN, 3)
		bn(p+"1", c.FPN)
	}
	for l := range 3 {
		p := fmt.Sprintf("ssh%d.", l+1)
		conv(p+"conv3X3.0", c.FPN/2, c.FPN, 3)
		bn(p+"conv3X3.1", c.FPN/2)
		conv(p+"conv5X5_1.0", c.FPN/4, c.FPN, 3)
		bn(p+"conv5X5_1.1", c.FPN/4)
		for _, n := range []string{"conv5X5_2", "conv7X7_2", "conv7x7_3"} {
			conv(p+n+".0", c.FPN/4, c.FPN/4, 3)
			bn(p+n+".1", c.FPN/4)
		}
	}
	for _, h := range heads {
		for l := range 3 {
			p := fmt.Sprintf("%s.%d.conv1x1.", h.name, l)
			m[p+"weight"] = []int{c.Anchors * h.k, c.FPN, 1, 1}
			m[p+"bias"] = []int{c.Anchors * h.k}
		}
	}
	return m
}

// heads are the per-level 1×1 output convs and their values per anchor.
var heads = [3]struct {
	name string
	k    int
}{{"ClassHead", 2}, {"BboxHead", 4}, {"LandmarkHead", 10}}
