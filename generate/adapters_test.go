package generate

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/conformance"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/arcface"
	"github.com/fluxpulid/fluxpulid/model/scrfd"
)

// TestSCRFDDetectorGolden runs the adapter on the photo itself (letterbox,
// blob, graph, decoding): it must find the faces insightface found with the
// same graph on the same photo.
func TestSCRFDDetectorGolden(t *testing.T) {
	g := testenv.Golden(t)
	b := cpu.New()
	net, err := scrfd.OpenNet(b, filepath.Join(g, "scrfd", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := conformance.Open(filepath.Join(g, "scrfd", "case_forward.safetensors"), g)
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
	if check.Detections == 0 {
		t.Fatal("the golden case records no detections: nothing to compare")
	}
	img, err := imageio.DecodeFile(filepath.Join(g, "faceprep", "hinton.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	faces, err := SCRFDDetector{B: b, Net: net}.DetectFaces(img.SwapRB())
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != check.Detections {
		t.Errorf("%d faces, insightface found %d", len(faces), check.Detections)
	}
	for _, f := range faces {
		if f.Score < scrfd.DetThreshold {
			t.Errorf("face %+v", f)
		}
	}
}

// TestArcFaceEmbedderGolden compares the adapter's embedding of each golden
// blob with onnxruntime's on the same graph.
func TestArcFaceEmbedderGolden(t *testing.T) {
	g := testenv.Golden(t)
	b := cpu.New()
	graph, err := arcface.OpenONNX(b, filepath.Join(g, "arcface", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := conformance.Open(filepath.Join(g, "arcface", "case_forward.safetensors"), g)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	blob, bs, err := c.F32("in.blob")
	if err != nil {
		t.Fatal(err)
	}
	want, ws, err := c.F32("out.ort_embedding")
	if err != nil {
		t.Fatal(err)
	}
	per, dim := bs[1]*bs[2]*bs[3], ws[1]
	e := ArcFaceEmbedder{B: b, Graph: graph}
	for i := range bs[0] {
		got, err := e.EmbedFace(blob[i*per : (i+1)*per])
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != dim {
			t.Fatalf("face %d: %d values, want %d", i, len(got), dim)
		}
		for j, v := range got {
			if w := want[i*dim+j]; math.Abs(float64(v-w)) > 6e-4+3e-4*math.Abs(float64(w)) {
				t.Fatalf("face %d value %d: %g, onnxruntime %g", i, j, v, w)
			}
		}
	}
}
