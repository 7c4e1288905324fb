// Package tinyset writes a complete, tiny FLUX + PuLID model set under the
// real file and tensor names (flux1-dev.safetensors, ae.safetensors,
// pulid_flux_v0.9.1.safetensors, ...), with mutually consistent widths and
// seeded pseudo-random weights, so that the whole generation job can run
// end to end in a test in seconds. The weights are random: the images mean
// nothing, but every shape, name, file format and code path is the real one.
package tinyset

import (
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// Config are the widths of a tiny set. The couplings the real models have
// hold here too: FLUX's context width is T5's d_model, its vector width
// CLIP's hidden size, the PuLID cross-attention is FLUX-wide and reads the
// IDFormer's output width.
type Config struct {
	Flux  flux.Config
	PuLID pulid.Config
	AE    ae.Config
	T5    t5.Config
	CLIP  clip.Config
	// Seed varies the weights.
	Seed uint64
}

// TextDim and VecDim are the tiny T5 d_model and CLIP hidden size (one
// head of CLIP-L's width 64, the head width a loader assumes).
const (
	TextDim = 32
	VecDim  = 64
)

// Default is a set that runs a 256x256 generation in about a second per
// step on two cores. Head widths are those the loaders assume when they
// read a configuration from the weights: FLUX's RoPE axes 16+56+56 = 128,
// IDFormer heads of 64, PuLID cross-attention heads of 128.
func Default() Config {
	fc := flux.Config{
		InChannels: 64, VecInDim: VecDim, ContextInDim: TextDim, HiddenSize: 128, MLPRatio: 2,
		NumHeads: 1, Depth: 2, DepthSingleBlocks: 4, AxesDim: []int{16, 56, 56}, Theta: 10000,
		QKVBias: true, GuidanceEmbed: true,
	}
	enc := pulid.IDFormerConfig{Dim: 32, Depth: 5, DimHead: 64, Heads: 1, NumIDToken: 2, NumQueries: 4, OutputDim: 32, FFMult: 1}
	return Config{
		Flux: fc,
		PuLID: pulid.Config{
			Encoder: enc,
			CA:      pulid.CAConfig{Dim: fc.HiddenSize, DimHead: 128, Heads: 1, KVDim: enc.OutputDim},
			NumCA:   flux.NumIDModules(fc, flux.DefaultDoubleInterval, flux.DefaultSingleInterval),
		},
		AE: ae.Config{InChannels: 3, Ch: 32, OutCh: 3, ChMult: []int{1, 1, 1, 1}, NumResBlocks: 1, ZChannels: 16,
			ScaleFactor: ae.FluxScaleFactor, ShiftFactor: ae.FluxShiftFactor},
		T5: t5.Config{VocabSize: 256, DModel: TextDim, DKV: 16, DFF: 64, NumLayers: 2, NumHeads: 2,
			NumBuckets: 32, MaxDistance: 128, LayerNormEps: 1e-6, FeedForwardProj: "gated-gelu"},
		CLIP: clip.Config{VocabSize: 520, HiddenSize: VecDim, IntermediateSize: 128, NumHiddenLayers: 2,
			NumAttentionHeads: 1, MaxPositionEmbeddings: 77, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, EOSTokenID: 2},
		Seed: 1,
	}
}

// Files are the file names Write creates in its directory.
var Files = struct{ Flux, AE, PuLID, T5, T5Tokenizer, CLIP, CLIPTokenizer string }{
	"flux1-dev.safetensors", "ae.safetensors", "pulid_flux_v0.9.1.safetensors",
	"t5xxl_fp16.safetensors", "tokenizer_2/spiece.model", "clip_l.safetensors", "tokenizer",
}

// Write writes the FLUX, AE, PuLID, T5 and CLIP files of c and the two
// tokenizers into dir, in the dtypes the real files have (FLUX and PuLID
// bfloat16, the AE and CLIP float32, T5 bfloat16 as text_encoder_2).
func Write(dir string, c Config) error {
	if err := writeModels(dir, c); err != nil {
		return err
	}
	ts, err := t5.Shapes(c.T5)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, Files.T5), ts, c.Seed, true); err != nil {
		return err
	}
	cs, err := clip.Shapes(c.CLIP)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, Files.CLIP), cs, c.Seed, false); err != nil {
		return err
	}
	if err := WriteT5Tokenizer(filepath.Join(dir, Files.T5Tokenizer)); err != nil {
		return err
	}
	return WriteCLIPTokenizer(filepath.Join(dir, Files.CLIPTokenizer))
}

func writeModels(dir string, c Config) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fs, err := flux.Shapes(c.Flux)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, Files.Flux), fs, c.Seed, true); err != nil {
		return err
	}
	if err := c.AE.Validate(); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, Files.AE), c.AE.Shapes(), c.Seed, false); err != nil {
		return err
	}
	ps, err := pulid.Shapes(c.PuLID)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, Files.PuLID), ps, c.Seed, true)
}

// WriteTensors writes shapes as one safetensors file of seeded values.
func WriteTensors(path string, shapes map[string][]int, seed uint64, bf16 bool) error {
	return writeFile(path, shapes, seed, bf16)
}

func writeFile(path string, shapes map[string][]int, seed uint64, bf16 bool) error {
	ts := make(map[string]safetensors.Tensor, len(shapes))
	for name, shape := range shapes {
		v := Values(name, shape, seed)
		if bf16 {
			ts[name] = safetensors.BF16Tensor(shape, v)
		} else {
			ts[name] = safetensors.F32Tensor(shape, v)
		}
	}
	if err := safetensors.WriteFile(path, ts, map[string]string{"format": "pt", "fluxpulid": "tinyset random weights"}); err != nil {
		return fmt.Errorf("tinyset: %s: %w", path, err)
	}
	return nil
}

// Values are the seeded weights of one tensor: uniform with the standard
// deviation 1/sqrt(fan in) for matrices and kernels (activations keep
// their scale through the layers), 1 ± 0.1 for norm scales, ±0.02 for
// biases. They depend only on (name, shape, seed).
func Values(name string, shape []int, seed uint64) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	r := splitmix{state: h.Sum64() ^ seed*0x9e3779b97f4a7c15}
	out := make([]float32, n)
	var scale, offset float64
	switch {
	case len(shape) >= 2:
		fanIn := n / shape[0]
		scale = math.Sqrt(3 / float64(fanIn)) // uniform(-a, a) has std a/sqrt(3)
	case isNorm(name):
		scale, offset = 0.1, 1
	default:
		scale = 0.02
	}
	for i := range out {
		out[i] = float32(offset + scale*(2*r.float()-1))
	}
	return out
}

func isNorm(name string) bool {
	return strings.Contains(name, "norm") && strings.HasSuffix(name, ".weight") || strings.HasSuffix(name, ".scale")
}

// splitmix is SplitMix64: a small, fast, well-mixed generator.
type splitmix struct{ state uint64 }

func (s *splitmix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float is uniform in [0, 1).
func (s *splitmix) float() float64 { return float64(s.next()>>11) / (1 << 53) }
