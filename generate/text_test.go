package generate

import (
	"reflect"
	"testing"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/weights"
)

func TestTextConfigsOfRealCheckpoints(t *testing.T) {
	tc, err := t5ConfigFromSource(testenv.Manifest(t, "t5xxl_encoder"), "t5xxl_fp16.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tc, t5.XXL()) {
		t.Errorf("t5xxl: %+v, want %+v", tc, t5.XXL())
	}
	cc, err := clipConfigFromSource(testenv.Manifest(t, "clip_l_text"), "clip_l.safetensors")
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
