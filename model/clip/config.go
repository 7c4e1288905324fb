package clip

import (
	"errors"
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
)

// Config is transformers' CLIPTextConfig, the fields the text model uses,
// with their JSON names.
type Config struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	EOSTokenID            int     `json:"eos_token_id"`
}

// ViTL14 is the text tower of openai/clip-vit-large-patch14, FLUX.1's
// text_encoder. Its eos_token_id is 2 (the value before transformers #24773),
// which selects the argmax pooling rule.
func ViTL14() Config {
	return Config{
		VocabSize: 49408, HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12,
		NumAttentionHeads: 12, MaxPositionEmbeddings: 77, HiddenAct: "quick_gelu",
		LayerNormEps: 1e-5, EOSTokenID: 2,
	}
}

// HeadDim is hidden_size / num_attention_heads.
func (c Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }

// activations maps hidden_act to the backend op (transformers' ACT2FN).
var activations = map[string]backend.UnaryOp{
	"quick_gelu":        backend.QuickGELU,
	"gelu":              backend.GELUErf,
	"gelu_new":          backend.GELUTanh,
	"gelu_pytorch_tanh": backend.GELUTanh,
}

// Validate checks the configuration is one this model implements.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_attention_heads", c.NumAttentionHeads}, {"max_position_embeddings", c.MaxPositionEmbeddings}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s = %d, want > 0", f.name, f.v))
		}
	}
	if c.NumHiddenLayers < 0 {
		errs = append(errs, fmt.Errorf("num_hidden_layers = %d, want ≥ 0", c.NumHiddenLayers))
	}
	if c.NumAttentionHeads > 0 && c.HiddenSize%c.NumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads))
	}
	if _, ok := activations[c.HiddenAct]; !ok {
		errs = append(errs, fmt.Errorf("hidden_act %q is not supported", c.HiddenAct))
	}
	if c.LayerNormEps <= 0 {
		errs = append(errs, fmt.Errorf("layer_norm_eps = %g, want > 0", c.LayerNormEps))
	}
	if len(errs) > 0 {
		return fmt.Errorf("clip config: %w", errors.Join(errs...))
	}
	return nil
}
