package generate

import (
	"reflect"
	"strings"
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

	// Shapes that read as a configuration the encoder cannot have: the
	// error names the file as well as the field.
	shaped := func(shapes map[string][]int) weights.Map {
		m := weights.Map{}
		for name, s := range shapes {
			m[name] = weights.Tensor{Info: weights.Info{Shape: s}}
		}
		return m
	}
	const blk = "encoder.block.0.layer."
	t5With := func(q, ff []int) weights.Map {
		return shaped(map[string][]int{"shared.weight": {256, 32}, blk + "0.SelfAttention.q.weight": q,
			blk + "0.SelfAttention.relative_attention_bias.weight": {32, 2}, blk + "1.DenseReluDense.wi_0.weight": ff})
	}
	const pre = "text_model."
	clipWith := func(fc1 []int) weights.Map {
		return shaped(map[string][]int{pre + "embeddings.token_embedding.weight": {520, 64},
			pre + "embeddings.position_embedding.weight": {77, 64}, pre + "encoder.layers.0.mlp.fc1.weight": fc1})
	}
	for _, tc := range []struct {
		name string
		t5   bool
		src  weights.Source
		want string
	}{
		{"T5 query of width 0", true, t5With([]int{0, 32}, []int{64, 32}), "x.safetensors: the configuration its tensor shapes imply: t5 config: d_kv = 0"},
		{"T5 wi_0 of width 0", true, t5With([]int{32, 32}, []int{0, 32}), "x.safetensors: the configuration its tensor shapes imply: t5 config: d_ff = 0"},
		{"CLIP fc1 of width 0", false, clipWith([]int{0, 64}), "x.safetensors: the configuration its tensor shapes imply: clip config: intermediate_size = 0"},
	} {
		var err error
		if tc.t5 {
			_, err = t5ConfigFromSource(tc.src, "x.safetensors")
		} else {
			_, err = clipConfigFromSource(tc.src, "x.safetensors")
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}
