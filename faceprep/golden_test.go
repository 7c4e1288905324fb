package faceprep

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// goldenCase is one case file opened for a test.
type goldenCase struct {
	t    *testing.T
	name string
	f    *safetensors.File
	tol  map[string]struct{ Atol, Rtol float64 }
	atol float64
	rtol float64
}

func casesOfKind(t *testing.T, kind string) []*goldenCase {
	t.Helper()
	dir := testenv.Golden(t, "faceprep")
	paths, _ := filepath.Glob(filepath.Join(dir, "case_*.safetensors"))
	var out []*goldenCase
	for _, p := range paths {
		f, err := safetensors.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if f.Metadata["kind"] != kind {
			f.Close()
			continue
		}
		c := &goldenCase{t: t, name: filepath.Base(p), f: f}
		c.atol, _ = strconv.ParseFloat(f.Metadata["atol"], 64)
		c.rtol, _ = strconv.ParseFloat(f.Metadata["rtol"], 64)
		if s := f.Metadata["tolerances"]; s != "" {
			if err := json.Unmarshal([]byte(s), &c.tol); err != nil {
				t.Fatalf("%s: tolerances: %v", c.name, err)
			}
		}
		t.Cleanup(func() { f.Close() })
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Skipf("no %s cases in %s", kind, dir)
	}
	return out
}

func (c *goldenCase) config(v any) {
	if err := json.Unmarshal([]byte(c.f.Metadata["config"]), v); err != nil {
		c.t.Fatalf("%s: config: %v", c.name, err)
	}
}

func (c *goldenCase) image(name string) *imageio.Image {
	info, ok := c.f.Info(name)
	if !ok || info.DType != dtype.U8 || len(info.Shape) != 3 || info.Shape[2] != 3 {
		c.t.Fatalf("%s: %s is not a U8 HWC image", c.name, name)
	}
	b, _ := c.f.Bytes(name)
	m, err := imageio.FromPix(info.Shape[1], info.Shape[0], append([]uint8(nil), b...))
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func (c *goldenCase) f32(name string) ([]float32, []int) {
	v, shape, err := c.f.F32(name)
	if err != nil {
		c.t.Fatalf("%s: %s: %v", c.name, name, err)
	}
	return v, shape
}

// compare checks every out.* tensor of the case against got, with the
// per-tensor tolerance, and returns how many values differ at all per output.
func (c *goldenCase) compare(got map[string]Tensor, skip ...string) map[string]int {
	c.t.Helper()
	differ := map[string]int{}
	names := c.f.Names()
	sort.Strings(names)
	for _, full := range names {
		if !strings.HasPrefix(full, "out.") {
			continue
		}
		name := strings.TrimPrefix(full, "out.")
		if slices.Contains(skip, name) {
			continue
		}
		g, ok := got[name]
		if !ok {
			c.t.Errorf("%s: %s not computed", c.name, full)
			continue
		}
		info, _ := c.f.Info(full)
		if fmt.Sprint(info.Shape) != fmt.Sprint(g.Shape) {
			c.t.Errorf("%s: %s shape %v, want %v", c.name, full, g.Shape, info.Shape)
			continue
		}
		atol, rtol := c.atol, c.rtol
		if tt, ok := c.tol[full]; ok {
			atol, rtol = tt.Atol, tt.Rtol
		}
		var want, have []float64
		switch info.DType {
		case dtype.U8:
			b, _ := c.f.Bytes(full)
			for i := range b {
				want = append(want, float64(b[i]))
				have = append(have, float64(g.U8[i]))
			}
		case dtype.I64:
			v, _, _ := c.f.I64(full)
			for i := range v {
				want = append(want, float64(v[i]))
				have = append(have, float64(g.I64[i]))
			}
		default:
			v, _ := c.f32(full)
			for i := range v {
				want = append(want, float64(v[i]))
				have = append(have, float64(g.F32[i]))
			}
		}
		if len(have) != len(want) {
			c.t.Errorf("%s: %s has %d values, want %d", c.name, full, len(have), len(want))
			continue
		}
		bad, ne, maxd, worst := 0, 0, 0.0, -1
		for i := range want {
			d := math.Abs(have[i] - want[i])
			if d != 0 {
				ne++
			}
			if d > maxd {
				maxd, worst = d, i
			}
			if !(d <= atol+rtol*math.Abs(want[i])) {
				bad++
			}
		}
		differ[name] = ne
		c.t.Logf("%s: %-36s max |Δ| %.3g, %d of %d differ (atol %g rtol %g)", c.name, name, maxd, ne, len(want), atol, rtol)
		if bad > 0 {
			c.t.Errorf("%s: %s: %d of %d values outside atol %g rtol %g (max |Δ| %g at %d: got %g want %g)",
				c.name, full, bad, len(want), atol, rtol, maxd, worst, have[worst], want[worst])
		}
	}
	return differ
}

func TestGoldenAlign(t *testing.T) {
	for _, c := range casesOfKind(t, "faceprep/align") {
		lv, shape := c.f32("in.landmarks")
		if fmt.Sprint(shape) != "[5 2]" {
			t.Fatalf("%s: landmarks shape %v", c.name, shape)
		}
		var lmk Landmarks
		for i := range lmk {
			lmk[i] = [2]float32{lv[2*i], lv[2*i+1]}
		}
		var cfg struct {
			NormCrop struct {
				ImageSize int `json:"image_size"`
			} `json:"norm_crop"`
			Align struct {
				FaceSize int `json:"face_size"`
			} `json:"align_warp_face"`
		}
		c.config(&cfg)
		if cfg.NormCrop.ImageSize != 112 || cfg.Align.FaceSize != 512 {
			t.Logf("%s: norm crop %d, face size %d", c.name, cfg.NormCrop.ImageSize, cfg.Align.FaceSize)
		}
		got, err := AlignCase(c.image("in.image_rgb"), lmk, cfg.NormCrop.ImageSize, cfg.Align.FaceSize)
		if err != nil {
			t.Fatal(err)
		}
		d := c.compare(got)
		for _, name := range []string{"aligned_bgr", "align_inliers", "align_M", "norm_crop_bgr", "arcface_blob",
			fmt.Sprintf("arcface_blob_from_aligned%d", cfg.Align.FaceSize)} {
			if d[name] != 0 {
				t.Errorf("%s: %s is not bit-exact (%d values differ)", c.name, name, d[name])
			}
		}
	}
}

func TestGoldenFaceSelect(t *testing.T) {
	for _, c := range casesOfKind(t, "faceprep/faceselect") {
		var cfg struct {
			ImageHW [2]int `json:"image_hw"`
		}
		c.config(&cfg)
		v, shape := c.f32("in.boxes")
		if len(shape) != 2 || shape[1] < 4 {
			t.Fatalf("%s: boxes shape %v", c.name, shape)
		}
		boxes := make([]Box, shape[0])
		for i := range boxes {
			r := v[i*shape[1]:]
			boxes[i] = Box{X1: r[0], Y1: r[1], X2: r[2], Y2: r[3]}
			if shape[1] > 4 {
				boxes[i].Score = r[4]
			}
		}
		c.compare(FaceSelectCase(boxes, cfg.ImageHW[0], cfg.ImageHW[1]))
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var evaName = regexp.MustCompile(`^out\.eva_input_(\d+)$`)

func TestGoldenMaskGray(t *testing.T) {
	for _, c := range casesOfKind(t, "faceprep/maskgray") {
		img := c.image("in.aligned_bgr")
		info, _ := c.f.Info("in.labels")
		labels, _ := c.f.Bytes("in.labels")
		if info.DType != dtype.U8 || len(labels) != img.W*img.H {
			t.Fatalf("%s: labels %v %v", c.name, info.DType, info.Shape)
		}
		size := 336
		for _, n := range c.f.Names() {
			if m := evaName.FindStringSubmatch(n); m != nil {
				size, _ = strconv.Atoi(m[1])
			}
		}
		got, err := MaskGrayCase(img, labels, size)
		if err != nil {
			t.Fatal(err)
		}
		d := c.compare(got)
		if d["bg_mask"] != 0 {
			t.Errorf("%s: bg_mask differs", c.name)
		}
	}
}

func TestGoldenResizeLong(t *testing.T) {
	for _, c := range casesOfKind(t, "faceprep/resizelong") {
		var cfg struct {
			Long int `json:"resize_long_edge"`
		}
		c.config(&cfg)
		got, err := ResizeLongCase(c.image("in.image_rgb"), cfg.Long)
		if err != nil {
			t.Fatal(err)
		}
		c.compare(got)
	}
}

func TestGoldenSCRFDPrep(t *testing.T) {
	for _, c := range casesOfKind(t, "faceprep/scrfdprep") {
		var cfg struct {
			DetSizes [][2]int `json:"det_sizes"`
		}
		c.config(&cfg)
		got, err := SCRFDPrepCase(c.image("in.image_rgb"), cfg.DetSizes)
		if err != nil {
			t.Fatal(err)
		}
		c.compare(got)
	}
}
