package conformance

import (
	"fmt"
	"strconv"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/eva"
)

// EVA02-CLIP vision tower (PuLID's id_cond_vit and hidden states).
func init() {
	Register("eva/rope", runEVARope)
	Register("eva/patchembed", runEVAPatchEmbed)
	Register("eva/block", runEVABlock)
	Register("eva/visual", runEVAVisual)
}

// evaModel loads the case's tower. The head width is not stored in the
// weights apart from the RoPE tables, so the case config's value wins.
func evaModel(c *Case, b backend.Backend) (*eva.Model, func(), error) {
	var cfg struct {
		HeadDim   int `json:"head_dim"`
		VisionCfg struct {
			HeadWidth  int `json:"head_width"`
			PTHWSeqLen int `json:"pt_hw_seq_len"`
			Layers     int `json:"layers"`
			Width      int `json:"width"`
			ImageSize  int `json:"image_size"`
			PatchSize  int `json:"patch_size"`
		} `json:"vision_cfg"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, nil, err
	}
	src := eva.Visual(st)
	mc, err := eva.ConfigFrom(src)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if cfg.HeadDim > 0 {
		mc.HeadDim = cfg.HeadDim
	} else if cfg.VisionCfg.HeadWidth > 0 {
		mc.HeadDim = cfg.VisionCfg.HeadWidth
	}
	if cfg.VisionCfg.PTHWSeqLen > 0 {
		mc.PTSeqLen = cfg.VisionCfg.PTHWSeqLen
	}
	vc := cfg.VisionCfg
	if vc.Layers > 0 && (vc.Layers != mc.Depth || vc.Width != mc.Width || vc.PatchSize != mc.Patch || vc.ImageSize != mc.ImageSize()) {
		st.Close()
		return nil, nil, fmt.Errorf("case config %+v disagrees with the weights' %+v", vc, mc)
	}
	m, err := eva.LoadConfig(b, src, mc)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return m, func() { st.Close() }, nil
}

func runEVARope(c *Case, b backend.Backend) (Outputs, error) {
	var cfg struct {
		Dim      int `json:"dim"`
		PTSeqLen int `json:"pt_seq_len"`
		FTSeqLen int `json:"ft_seq_len"`
	}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	// VisionRotaryEmbeddingFast(dim) serves heads of width 2·dim.
	hd := 2 * cfg.Dim
	cos, sin, err := eva.RopeTables(hd, cfg.PTSeqLen, cfg.FTSeqLen)
	if err != nil {
		return nil, err
	}
	n := cfg.FTSeqLen * cfg.FTSeqLen
	res := Outputs{"out.freqs_cos": Float([]int{n, hd}, cos), "out.freqs_sin": Float([]int{n, hd}, sin)}
	if c.Has("in.t") {
		t, err := c.Tensor(b, "in.t")
		if err != nil {
			return nil, err
		}
		r := b.RoPE(t, b.FromF32([]int{n, hd / 2}, eva.PairAngles(cos)), b.FromF32([]int{n, hd / 2}, eva.PairAngles(sin)))
		if res["out.rotated"], err = Read(b, r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func runEVAPatchEmbed(c *Case, b backend.Backend) (Outputs, error) {
	m, done, err := evaModel(c, b)
	if err != nil {
		return nil, err
	}
	defer done()
	x, err := c.Tensor(b, "in.image")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	if _, err := m.Embed(x, r.hook("")); err != nil {
		return nil, err
	}
	return r.result()
}

func runEVABlock(c *Case, b backend.Backend) (Outputs, error) {
	i, err := strconv.Atoi(c.Meta["block_index"])
	if err != nil {
		return nil, fmt.Errorf("metadata block_index: %w", err)
	}
	m, done, err := evaModel(c, b)
	if err != nil {
		return nil, err
	}
	defer done()
	x, err := c.Tensor(b, "in.x")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	if _, err := m.Block(i, x, r.hook("")); err != nil {
		return nil, err
	}
	return r.result()
}

func runEVAVisual(c *Case, b backend.Backend) (Outputs, error) {
	m, done, err := evaModel(c, b)
	if err != nil {
		return nil, err
	}
	defer done()
	x, err := c.Tensor(b, "in.image")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	out, err := m.Forward(x, r.hook(""))
	if err != nil {
		return nil, err
	}
	res, err := r.result()
	if err != nil {
		return nil, err
	}
	ts := map[string]backend.Tensor{
		"out.last_block": out.LastBlock, "out.final_norm": out.FinalNorm,
		"out.id_cond_vit_raw": out.Embed, "out.id_cond_vit": out.EmbedNorm,
	}
	for i, h := range out.Hidden {
		ts[fmt.Sprintf("out.hidden.%d", i)] = h
	}
	for name, t := range ts {
		if res[name], err = Read(b, t); err != nil {
			return nil, err
		}
	}
	return res, nil
}
