package conformance

// Runners for the pulid/* cases (model/pulid).

import (
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/nn"
)

func init() {
	Register("pulid/idformer", runPulidIDFormer)
	Register("pulid/perceiver_ca", runPulidPerceiverCA)
}

type pulidCaseConfig struct {
	Encoder pulid.IDFormerConfig `json:"pulid_encoder"`
	CA      pulid.CAConfig       `json:"pulid_ca"`
}

func runPulidIDFormer(c *Case, b backend.Backend) (Outputs, error) {
	var cfg pulidCaseConfig
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if p := c.Meta["prefix"]; p != "" && p != "pulid_encoder." {
		return nil, fmt.Errorf("idformer case with prefix %q, want pulid_encoder.", p)
	}
	f, err := pulid.LoadIDFormer(b, st, cfg.Encoder)
	if err != nil {
		return nil, err
	}
	idCond, err := c.Tensor(b, "in.id_cond")
	if err != nil {
		return nil, err
	}
	y := make([]backend.Tensor, pulid.NumScales)
	for i := range y {
		if y[i], err = c.Tensor(b, fmt.Sprintf("in.vit_hidden_%d", i)); err != nil {
			return nil, err
		}
	}
	r := newRecorder(c, b)
	out, err := f.Forward(b, idCond, y, r.hook(""))
	if err != nil {
		return nil, err
	}
	r.add("out.id_embedding", out)
	return r.result()
}

func runPulidPerceiverCA(c *Case, b backend.Backend) (Outputs, error) {
	var cfg pulidCaseConfig
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var k int
	if _, err := fmt.Sscanf(strings.TrimPrefix(c.Meta["prefix"], "pulid_ca."), "%d", &k); err != nil {
		return nil, fmt.Errorf("perceiver_ca prefix %q: want pulid_ca.<k>.", c.Meta["prefix"])
	}
	ca, err := pulid.LoadCA(b, st, cfg.CA, k)
	if err != nil {
		return nil, err
	}
	in, err := tensors(c, b, "in.x", "in.latents")
	if err != nil {
		return nil, err
	}
	var y backend.Tensor
	if err := catch(func() { y = ca.Forward(nn.Ops{Backend: b}, in[0], in[1]) }); err != nil {
		return nil, err
	}
	o, err := Read(b, y)
	return Outputs{"out.y": o}, err
}
