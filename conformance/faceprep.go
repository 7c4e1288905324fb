package conformance

// Runners for the faceprep/* cases (package faceprep): host-side geometry
// and pixel preprocessing; the backend is not used.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/faceprep"
	"github.com/fluxpulid/fluxpulid/imageio"
)

func init() {
	Register("faceprep/align", runFaceprepAlign)
	Register("faceprep/faceselect", runFaceprepFaceSelect)
	Register("faceprep/maskgray", runFaceprepMaskGray)
	Register("faceprep/resizelong", runFaceprepResizeLong)
	Register("faceprep/scrfdprep", runFaceprepSCRFDPrep)
}

// faceprepOutputs keeps the results the case holds (a held-back case may
// omit some), named out.*; 8-bit images compare as integers.
func faceprepOutputs(c *Case, got map[string]faceprep.Tensor) Outputs {
	out := Outputs{}
	for name, t := range got {
		full := "out." + name
		if !c.Has(full) {
			continue
		}
		switch {
		case t.U8 != nil:
			v := make([]int64, len(t.U8))
			for i, b := range t.U8 {
				v[i] = int64(b)
			}
			out[full] = Ints(t.Shape, v)
		case t.I64 != nil:
			out[full] = Ints(t.Shape, t.I64)
		default:
			out[full] = Float(t.Shape, t.F32)
		}
	}
	return out
}

// faceprepImage reads an 8-bit HWC image tensor of the case. For
// in.image_rgb of a case that holds only the photo's name
// (config.source_file), the photo beside the case is decoded instead.
func faceprepImage(c *Case, name string) (*imageio.Image, error) {
	if !c.Has(name) && name == "in.image_rgb" {
		var cfg struct {
			SourceFile string `json:"source_file"`
		}
		if err := c.JSON("config", &cfg); err == nil && cfg.SourceFile != "" {
			return imageio.DecodeFile(filepath.Join(c.Dir(), filepath.Base(cfg.SourceFile)))
		}
	}
	info, err := c.Info(name)
	if err != nil {
		return nil, err
	}
	if info.DType != dtype.U8 || len(info.Shape) != 3 || info.Shape[2] != 3 {
		return nil, fmt.Errorf("case %s: %s is %v %v, want U8 (H, W, 3)", c.Name, name, info.DType, info.Shape)
	}
	b, err := c.Bytes(name)
	if err != nil {
		return nil, err
	}
	return imageio.FromPix(info.Shape[1], info.Shape[0], slices.Clone(b))
}

func runFaceprepAlign(c *Case, _ backend.Backend) (Outputs, error) {
	img, err := faceprepImage(c, "in.image_rgb")
	if err != nil {
		return nil, err
	}
	v, shape, err := c.F32("in.landmarks")
	if err != nil {
		return nil, err
	}
	if !slices.Equal(shape, []int{5, 2}) {
		return nil, fmt.Errorf("case %s: landmarks shape %v, want [5 2]", c.Name, shape)
	}
	var lmk faceprep.Landmarks
	for i := range lmk {
		lmk[i] = [2]float32{v[2*i], v[2*i+1]}
	}
	// Sizes from the config, PuLID's when absent.
	var cfg struct {
		NormCrop struct {
			ImageSize int `json:"image_size"`
		} `json:"norm_crop"`
		Align struct {
			FaceSize int `json:"face_size"`
		} `json:"align_warp_face"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	normSize, faceSize := cfg.NormCrop.ImageSize, cfg.Align.FaceSize
	if normSize == 0 {
		normSize = 112
	}
	if faceSize == 0 {
		faceSize = 512
	}
	got, err := faceprep.AlignCase(img, lmk, normSize, faceSize)
	if err != nil {
		return nil, err
	}
	return faceprepOutputs(c, got), nil
}

func runFaceprepFaceSelect(c *Case, _ backend.Backend) (Outputs, error) {
	var cfg struct {
		ImageHW []int `json:"image_hw"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	if len(cfg.ImageHW) != 2 {
		return nil, fmt.Errorf("case %s: config image_hw %v, want [h, w]", c.Name, cfg.ImageHW)
	}
	v, shape, err := c.F32("in.boxes")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[1] < 4 {
		return nil, fmt.Errorf("case %s: boxes shape %v, want (n, 4+)", c.Name, shape)
	}
	boxes := make([]faceprep.Box, shape[0])
	for i := range boxes {
		r := v[i*shape[1] : (i+1)*shape[1]]
		boxes[i] = faceprep.Box{X1: r[0], Y1: r[1], X2: r[2], Y2: r[3]}
		if len(r) > 4 {
			boxes[i].Score = r[4]
		}
	}
	return faceprepOutputs(c, faceprep.FaceSelectCase(boxes, cfg.ImageHW[0], cfg.ImageHW[1])), nil
}

var evaInputName = regexp.MustCompile(`^out\.eva_input_(\d+)(_antialias)?$`)

func runFaceprepMaskGray(c *Case, _ backend.Backend) (Outputs, error) {
	img, err := faceprepImage(c, "in.aligned_bgr")
	if err != nil {
		return nil, err
	}
	info, err := c.Info("in.labels")
	if err != nil {
		return nil, err
	}
	if !info.DType.Valid() || info.NumElements() != int64(img.W*img.H) {
		return nil, fmt.Errorf("case %s: labels %v %v for a %dx%d face", c.Name, info.DType, info.Shape, img.W, img.H)
	}
	raw, _, err := c.I64("in.labels")
	if err != nil {
		return nil, err
	}
	labels := make([]uint8, len(raw))
	for i, l := range raw {
		if l < 0 || l > 255 {
			return nil, fmt.Errorf("case %s: label %d out of range", c.Name, l)
		}
		labels[i] = uint8(l)
	}
	// The EVA input size is in the output names (eva_input_<size>).
	size := 0
	for _, n := range c.Names("out.eva_input_") {
		if m := evaInputName.FindStringSubmatch(n); m != nil {
			size, _ = strconv.Atoi(m[1])
		}
	}
	if size == 0 {
		size = 336 // no EVA output to compare: any size will do
	}
	got, err := faceprep.MaskGrayCase(img, labels, size)
	if err != nil {
		return nil, err
	}
	return faceprepOutputs(c, got), nil
}

func runFaceprepResizeLong(c *Case, _ backend.Backend) (Outputs, error) {
	var cfg struct {
		Long int `json:"resize_long_edge"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	img, err := faceprepImage(c, "in.image_rgb")
	if err != nil {
		return nil, err
	}
	got, err := faceprep.ResizeLongCase(img, cfg.Long)
	if err != nil {
		return nil, err
	}
	return faceprepOutputs(c, got), nil
}

var detSizeName = regexp.MustCompile(`_(\d+)x(\d+)$`)

func runFaceprepSCRFDPrep(c *Case, _ backend.Backend) (Outputs, error) {
	var cfg struct {
		DetSizes [][2]int `json:"det_sizes"` // (W, H)
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	sizes := cfg.DetSizes
	// Every size named by an output, in case the config lists fewer.
	for _, n := range c.Names("out.") {
		if m := detSizeName.FindStringSubmatch(n); m != nil {
			w, _ := strconv.Atoi(m[1])
			h, _ := strconv.Atoi(m[2])
			if !slices.Contains(sizes, [2]int{w, h}) {
				sizes = append(sizes, [2]int{w, h})
			}
		}
	}
	img, err := faceprepImage(c, "in.image_rgb")
	if err != nil {
		return nil, err
	}
	got, err := faceprep.SCRFDPrepCase(img, sizes)
	if err != nil {
		return nil, err
	}
	return faceprepOutputs(c, got), nil
}
