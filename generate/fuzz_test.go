package generate

import (
	"errors"
	"testing"
)

// FuzzParseInput feeds arbitrary request bodies through ParseInput and
// Resolve: they must never panic, every error must name a field (or be
// the not-a-JSON-object error), and a resolved request must be in range.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{
		`{"main_face_image": "a.jpg"}`,
		`{"main_face_image": "data:image/png;base64,iVBORw0K", "size": "1024*768", "seed": -1}`,
		`{"id_embedding": "e.gguf", "width": 900.0, "height": 1e3, "num_steps": 20, "true_cfg": 1.5, "seed": "18446744073709551615"}`,
		`{"main_face_image": "x", "output_format": "JPEG", "output_quality": 101, "id_weight": -1}`,
		`{"main_face_image": null, "prompt": 5}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, _, err := ParseInput(data)
		if err != nil {
			if len(Fields(err)) == 0 && !containsJSONObject(err) {
				t.Fatalf("error names no field: %v", err)
			}
			return
		}
		r, err := in.Resolve()
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("resolve error names no field: %v", err)
			}
			return
		}
		if r.Width < MinSize || r.Width > MaxSize || r.Width%SizeMultiple != 0 || r.Height < MinSize || r.Height > MaxSize ||
			r.Height%SizeMultiple != 0 || r.NumSteps < MinSteps || r.NumSteps > MaxSteps || r.StartStep < 0 ||
			r.StartStep > MaxStartStep || r.GuidanceScale < MinGuidance || r.GuidanceScale > MaxGuidance ||
			r.TrueCFG < MinTrueCFG || r.TrueCFG > MaxTrueCFG || r.IDWeight < 0 || r.IDWeight > MaxIDWeight ||
			r.MaxSequenceLength < MinSeqLen || r.MaxSequenceLength > MaxSeqLen || r.NumOutputs < 1 ||
			r.NumOutputs > MaxOutputs || r.OutputQuality < MinQuality || r.OutputQuality > MaxQuality {
			t.Fatalf("resolved out of range: %+v", *r)
		}
		if r.FaceImagePath == "" && len(r.FaceImage) == 0 && r.IDEmbeddingPath == "" {
			t.Fatalf("resolved without a face: %+v", *r)
		}
	})
}

func containsJSONObject(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if len(e.Error()) >= 6 && e.Error()[:6] == "input:" {
			return true
		}
	}
	return false
}
