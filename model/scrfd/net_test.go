package scrfd_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/conformance"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
)

// TestDetectGolden runs graph and post-processing on hinton.jpeg's 640×640
// letterbox: insightface's SCRFD.detect, given the same graph outputs,
// found insightface_check.detections_at_0.5 faces (recorded in the case).
func TestDetectGolden(t *testing.T) {
	dir := testenv.Golden(t)
	b := cpu.New()
	net, err := scrfd.OpenNet(b, filepath.Join(dir, "scrfd", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if net.FixedW != 0 || net.FixedH != 0 {
		t.Errorf("the graph's spatial dims are dynamic, got fixed %d×%d", net.FixedW, net.FixedH)
	}
	c, err := conformance.Open(filepath.Join(dir, "scrfd", "case_forward.safetensors"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var check struct {
		Detections int `json:"detections_at_0.5"`
	}
	if err := c.JSON("insightface_check", &check); err != nil {
		t.Fatal(err)
	}
	blob, err := c.Tensor(b, "in.blob")
	if err != nil {
		t.Fatal(err)
	}
	// hinton.jpeg is 550×485 (faceprep/case_scrfdprep_hinton in.image_rgb)
	lb, err := scrfd.Fit(550, 485, 640, 640)
	if err != nil {
		t.Fatal(err)
	}
	faces, err := net.Detect(b, blob, lb, scrfd.DetThreshold, scrfd.NMSThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != check.Detections {
		t.Errorf("%d faces, insightface found %d", len(faces), check.Detections)
	}
	for i := 1; i < len(faces); i++ {
		if faces[i].Score > faces[i-1].Score {
			t.Fatalf("faces are not sorted by score at %d", i)
		}
	}
}

func TestNetErrors(t *testing.T) {
	dir := testenv.Golden(t)
	b := cpu.New()
	if _, err := scrfd.OpenNet(b, filepath.Join(dir, "arcface", "model.onnx")); err == nil || !strings.Contains(err.Error(), "has 1 outputs") {
		t.Errorf("an ArcFace graph as SCRFD: %v", err)
	}
	net, err := scrfd.OpenNet(b, filepath.Join(dir, "scrfd", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Run(b.Zeros([]int{1, 3, 100, 96})); err == nil || !strings.Contains(err.Error(), "multiples of 32") {
		t.Errorf("a 100×96 blob: %v", err)
	}
}
