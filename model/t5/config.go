package t5

import (
	"errors"
	"fmt"
)

// Config is transformers' T5Config, the fields the encoder uses, with their
// JSON names.
type Config struct {
	VocabSize       int     `json:"vocab_size"`
	DModel          int     `json:"d_model"`
	DKV             int     `json:"d_kv"`
	DFF             int     `json:"d_ff"`
	NumLayers       int     `json:"num_layers"`
	NumHeads        int     `json:"num_heads"`
	NumBuckets      int     `json:"relative_attention_num_buckets"`
	MaxDistance     int     `json:"relative_attention_max_distance"`
	LayerNormEps    float64 `json:"layer_norm_epsilon"`
	FeedForwardProj string  `json:"feed_forward_proj"`
}

// XXL is google/t5-v1_1-xxl, FLUX.1's text_encoder_2.
func XXL() Config {
	return Config{
		VocabSize: 32128, DModel: 4096, DKV: 64, DFF: 10240, NumLayers: 24, NumHeads: 64,
		NumBuckets: 32, MaxDistance: 128, LayerNormEps: 1e-6, FeedForwardProj: "gated-gelu",
	}
}

// Inner is the attention width num_heads·d_kv (which need not be d_model).
func (c Config) Inner() int { return c.NumHeads * c.DKV }

// Validate checks the configuration is one this encoder implements: T5 v1.1's
// gated-GELU feed-forward.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"d_model", c.DModel}, {"d_kv", c.DKV}, {"d_ff", c.DFF},
		{"num_heads", c.NumHeads}, {"relative_attention_num_buckets", c.NumBuckets},
		{"relative_attention_max_distance", c.MaxDistance}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s = %d, want > 0", f.name, f.v))
		}
	}
	if c.NumLayers < 1 {
		errs = append(errs, fmt.Errorf("num_layers = %d, want ≥ 1 (block 0 holds the position bias)", c.NumLayers))
	}
	// The bidirectional bucketing halves the buckets and gives half of each
	// half to exact small distances; the rest are logarithmic up to
	// max_distance, which must lie beyond the exact range.
	if c.NumBuckets > 0 && (c.NumBuckets < 4 || c.MaxDistance <= c.NumBuckets/2/2) {
		errs = append(errs, fmt.Errorf("relative_attention_num_buckets %d / max_distance %d: want at least 4 buckets and max_distance > buckets/4", c.NumBuckets, c.MaxDistance))
	}
	if c.LayerNormEps <= 0 {
		errs = append(errs, fmt.Errorf("layer_norm_epsilon = %g, want > 0", c.LayerNormEps))
	}
	if c.FeedForwardProj != "gated-gelu" {
		errs = append(errs, fmt.Errorf("feed_forward_proj %q is not supported (T5 v1.1 uses gated-gelu)", c.FeedForwardProj))
	}
	if len(errs) > 0 {
		return fmt.Errorf("t5 config: %w", errors.Join(errs...))
	}
	return nil
}
