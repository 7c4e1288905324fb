package conformance

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
)

// facexlib BiSeNet face parsing.
func init() {
	Register("bisenet/forward", runBiSeNetForward)
}

func runBiSeNetForward(c *Case, b backend.Backend) (Outputs, error) {
	x, err := c.Tensor(b, "in.x")
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	m, err := bisenet.Load(b, st)
	if err != nil {
		return nil, err
	}
	out, err := m.Forward(x)
	if err != nil {
		return nil, err
	}
	res := Outputs{}
	for name, t := range map[string]backend.Tensor{
		"out.out": out.Out, "out.cp.feat_res8": out.FeatRes8, "out.cp.feat_cp8": out.FeatCP8,
		"out.cp.feat_cp16": out.FeatCP16, "out.ffm": out.FFM,
	} {
		if res[name], err = Read(b, t); err != nil {
			return nil, err
		}
	}
	s := out.Out.Shape()
	if s[0] != 1 {
		return nil, fmt.Errorf("bisenet case with batch %d, want 1", s[0])
	}
	labels, margin, err := bisenet.ArgMax(res["out.out"].F32, s[1], s[2], s[3])
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(labels))
	for i, l := range labels {
		ids[i] = int64(l)
	}
	lo := Ints([]int{1, 1, s[2], s[3]}, ids)
	// MANIFEST rule: random nets have near-ties, so labels are compared only
	// where the reference's top-2 margin is at least 2·atol(out.out).
	if c.Has("out.label_margin") {
		ref, _, err := c.F32("out.label_margin")
		if err != nil {
			return nil, err
		}
		tols, err := tolerances(c)
		if err != nil {
			return nil, err
		}
		t, ok := tols["out.out"]
		if !ok {
			t = tols[""]
		}
		if len(ref) != len(ids) {
			return nil, fmt.Errorf("out.label_margin has %d values for %d pixels", len(ref), len(ids))
		}
		lo.Mask = make([]bool, len(ids))
		for i, v := range ref {
			lo.Mask[i] = float64(v) >= 2*t.atol
		}
	}
	res["out.labels"] = lo
	res["out.label_margin"] = Float([]int{1, 1, s[2], s[3]}, margin)
	return res, nil
}
