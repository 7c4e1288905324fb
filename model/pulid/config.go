package pulid

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/fluxpulid/fluxpulid/weights"
)

// Validate checks the CA configuration.
func (c CAConfig) Validate() error {
	if c.Dim <= 0 || c.DimHead <= 0 || c.Heads <= 0 || c.KVDim <= 0 {
		return fmt.Errorf("pulid_ca config %+v: widths must be positive", c)
	}
	return nil
}

// Validate checks a whole PuLID configuration.
func (c Config) Validate() error {
	if c.NumCA < 0 {
		return fmt.Errorf("pulid config: %d CA modules", c.NumCA)
	}
	errs := []error{c.Encoder.Validate()}
	if c.NumCA > 0 {
		errs = append(errs, c.CA.Validate())
	}
	return errors.Join(errs...)
}

// ConfigFromWeights reads a PuLID checkpoint's configuration from its
// shapes: widths, depth, token counts and the number of CA modules. The
// split of attention width into heads × dim_head is not stored; the
// reference's head widths (64 in the encoder, 128 in the CA) are assumed.
func ConfigFromWeights(src weights.Source) (Config, error) {
	var errs []error
	dim := func(name string, rank, i int) int {
		info, ok := src.Info(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("pulid weights: missing tensor %q", name))
			return 0
		case len(info.Shape) != rank:
			errs = append(errs, fmt.Errorf("pulid weights: tensor %q has shape %v, want rank %d", name, info.Shape, rank))
			return 0
		}
		return info.Shape[i]
	}
	var c Config
	e := &c.Encoder
	e.NumQueries = dim("pulid_encoder.latents", 3, 1)
	e.Dim = dim("pulid_encoder.latents", 3, 2)
	e.OutputDim = dim("pulid_encoder.proj_out", 2, 1)
	e.Depth = count(src, "pulid_encoder.layers.")
	if e.Dim > 0 {
		e.NumIDToken = dim("pulid_encoder.id_embedding_mapping.6.weight", 2, 0) / e.Dim
		e.FFMult = dim("pulid_encoder.layers.0.1.1.weight", 2, 0) / e.Dim
	}
	e.DimHead = RealIDFormer.DimHead
	e.Heads = heads(dim("pulid_encoder.layers.0.0.to_q.weight", 2, 0), e.DimHead, &errs)
	if c.NumCA = count(src, "pulid_ca."); c.NumCA > 0 {
		c.CA.Dim = dim("pulid_ca.0.norm2.weight", 1, 0)
		c.CA.KVDim = dim("pulid_ca.0.norm1.weight", 1, 0)
		c.CA.DimHead = RealCA.DimHead
		c.CA.Heads = heads(dim("pulid_ca.0.to_q.weight", 2, 0), c.CA.DimHead, &errs)
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, c.Validate()
}

// count returns 1 + the largest index i of names prefix<i>.*.
func count(src weights.Source, prefix string) int {
	n := 0
	for _, name := range src.Names() {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			idx, _, _ := strings.Cut(rest, ".")
			if i, err := strconv.Atoi(idx); err == nil && i+1 > n {
				n = i + 1
			}
		}
	}
	return n
}

// heads splits an attention width into heads of dimHead.
func heads(inner, dimHead int, errs *[]error) int {
	if inner%dimHead != 0 {
		*errs = append(*errs, fmt.Errorf("pulid weights: attention width %d is not a multiple of the head width %d", inner, dimHead))
	}
	return inner / dimHead
}
