package generate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/weights"
)

// manifest reads a real checkpoint's names and shapes from
// ../shared/checkpoints as a data-less Source.
func manifest(t *testing.T, name string) weights.Source {
	t.Helper()
	dir := os.Getenv("FLUXPULID_SHARED")
	if dir == "" {
		wd, _ := os.Getwd()
		dir = filepath.Join(filepath.Dir(filepath.Dir(wd)), "shared")
	}
	data, err := os.ReadFile(filepath.Join(dir, "checkpoints", name))
	if err != nil {
		t.Skipf("checkpoint manifest: %v", err)
	}
	var m struct {
		Tensors map[string][]int `json:"tensors"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	src := weights.Map{}
	for n, s := range m.Tensors {
		src[n] = weights.Tensor{Info: weights.Info{Shape: s}}
	}
	return src
}

func TestTextConfigsOfRealCheckpoints(t *testing.T) {
	tc, err := t5ConfigFromSource(manifest(t, "t5xxl_encoder.json"), "t5xxl_fp16.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tc, t5.XXL()) {
		t.Errorf("t5xxl: %+v, want %+v", tc, t5.XXL())
	}
	cc, err := clipConfigFromSource(manifest(t, "clip_l_text.json"), "clip_l.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cc, clip.ViTL14()) {
		t.Errorf("clip_l: %+v, want %+v", cc, clip.ViTL14())
	}
}

func TestTextConfigsRejectStrangeFiles(t *testing.T) {
	src := weights.Map{"shared.weight": {Info: weights.Info{Shape: []int{10, 8}}}}
	if _, err := t5ConfigFromSource(src, "x.safetensors"); err == nil {
		t.Error("a T5 file without blocks was accepted")
	}
	if _, err := clipConfigFromSource(src, "x.safetensors"); err == nil {
		t.Error("a T5 file was accepted as CLIP")
	}
}
