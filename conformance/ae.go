package conformance

import (
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Runners of the ae/ golden cases (the FLUX autoencoder, model/ae).
func init() {
	Register("ae/decode", runAEDecode)
	Register("ae/encode", runAEEncode)
	Register("ae/resnet_block", aeLayer(func(l *weights.Loader) aeForward {
		conv1 := l.Shape("conv1.weight")
		if len(conv1) != 4 {
			return nil
		}
		return ae.LoadResnetBlock(l, conv1[1], conv1[0]).Forward
	}))
	Register("ae/attn_block", aeLayer(func(l *weights.Loader) aeForward {
		q := l.Shape("q.weight")
		if len(q) != 4 {
			return nil
		}
		return ae.LoadAttnBlock(l, q[0]).Forward
	}))
	Register("ae/downsample", aeLayer(func(l *weights.Loader) aeForward {
		w := l.Shape("conv.weight")
		if len(w) != 4 {
			return nil
		}
		return ae.LoadDownsample(l, w[0]).Forward
	}))
	Register("ae/upsample", aeLayer(func(l *weights.Loader) aeForward {
		w := l.Shape("conv.weight")
		if len(w) != 4 {
			return nil
		}
		return ae.LoadUpsample(l, w[0]).Forward
	}))
}

// aeConfig reads the case's config {"ae": {...}}.
func aeConfig(c *Case) (ae.Config, error) {
	var cfg struct {
		AE *ae.Config `json:"ae"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return ae.Config{}, err
	}
	if cfg.AE == nil {
		return ae.Config{}, fmt.Errorf("case %s: config has no \"ae\" entry", c.Name)
	}
	return *cfg.AE, nil
}

// loadAE loads the case's AutoEncoder and checks that the configuration
// the weights imply is the one the case states.
func loadAE(c *Case, b backend.Backend) (*ae.AutoEncoder, *weights.Store, error) {
	cfg, err := aeConfig(c)
	if err != nil {
		return nil, nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, nil, err
	}
	inferred, err := ae.InferConfig(st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if inferred.String() != cfg.String() {
		st.Close()
		return nil, nil, fmt.Errorf("case %s: weights imply %s, config says %s", c.Name, inferred, cfg)
	}
	m, err := ae.Load(b, st, cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return m, st, nil
}

func runAEDecode(c *Case, b backend.Backend) (Outputs, error) {
	m, st, err := loadAE(c, b)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	z, err := c.Tensor(b, "in.z")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	x, err := m.Decode(z, r.hook(""))
	if err != nil {
		return nil, err
	}
	r.add("out.x", x)
	return r.result()
}

func runAEEncode(c *Case, b backend.Backend) (outs Outputs, err error) {
	m, st, err := loadAE(c, b)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	x, err := c.Tensor(b, "in.x")
	if err != nil {
		return nil, err
	}
	mom, err := m.Moments(x)
	if err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	r := newRecorder(c, b)
	r.add("out.moments", mom)
	r.add("out.z_mean", m.MeanFromMoments(mom))
	return r.result()
}

type aeForward func(o nn.Ops, x backend.Tensor) backend.Tensor

// aeLayer runs one AE sub-module, loaded from the case's weights under the
// metadata `prefix`, on in.x → out.y.
func aeLayer(load func(l *weights.Loader) aeForward) Runner {
	return func(c *Case, b backend.Backend) (outs Outputs, err error) {
		prefix := strings.TrimSuffix(c.Meta["prefix"], ".")
		if prefix == "" {
			return nil, fmt.Errorf("case %s: metadata has no prefix", c.Name)
		}
		st, err := c.Weights()
		if err != nil {
			return nil, err
		}
		defer st.Close()
		defer backend.Catch(&err)
		l := weights.NewLoader(b, st).Sub(prefix)
		f := load(l)
		if err := l.Err(); err != nil {
			return nil, fmt.Errorf("case %s: %s: %w", c.Name, prefix, err)
		}
		if f == nil {
			return nil, fmt.Errorf("case %s: %s: weights missing or of unexpected rank", c.Name, prefix)
		}
		x, err := c.Tensor(b, "in.x")
		if err != nil {
			return nil, err
		}
		r := newRecorder(c, b)
		r.add("out.y", f(nn.Ops{Backend: b}, x))
		return r.result()
	}
}
