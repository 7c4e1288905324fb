package conformance

// Runners for the t5/* and clip/* cases: the tokenizers (tokenizer/sentencepiece,
// tokenizer/clipbpe) and the text encoders (model/t5, model/clip).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/tokenizer/clipbpe"
	"github.com/fluxpulid/fluxpulid/tokenizer/sentencepiece"
)

func init() {
	Register("t5/tokenizer_t5", runT5Tokenizer)
	Register("t5/t5_encoder", runT5Encoder)
	Register("t5/t5_layers", runT5Encoder)
	Register("clip/tokenizer_clip", runCLIPTokenizer)
	Register("clip/clip_text", runCLIPText)
	Register("clip/clip_layers", runCLIPText)
}

// casePrompts reads the case's prompts: metadata `prompts` is either a JSON
// array or the name of a JSON file beside the case.
func casePrompts(c *Case) ([]string, error) {
	s := strings.TrimSpace(c.Meta["prompts"])
	if s == "" {
		return nil, fmt.Errorf("case %s: metadata has no prompts", c.Name)
	}
	if !strings.HasPrefix(s, "[") {
		b, err := os.ReadFile(filepath.Join(c.Dir(), s))
		if err != nil {
			return nil, fmt.Errorf("case %s: prompts: %w", c.Name, err)
		}
		s = string(b)
	}
	var prompts []string
	if err := json.Unmarshal([]byte(s), &prompts); err != nil {
		return nil, fmt.Errorf("case %s: prompts: %w", c.Name, err)
	}
	return prompts, nil
}

// tokenizerFiles resolves the case's `tokenizer_files` (paths such as
// "shared/tokenizers/t5/spiece.model", relative to the shared/ root's
// parent). They are looked up under $FLUXPULID_TOKENIZERS (by the part after
// "tokenizers/"), beside the case, and relative to every folder above the case.
func tokenizerFiles(c *Case) ([]string, error) {
	var out []string
	for _, f := range strings.Split(c.Meta["tokenizer_files"], ",") {
		f, _, _ = strings.Cut(strings.TrimSpace(f), " (")
		if f == "" {
			continue
		}
		var cands []string
		if env := os.Getenv("FLUXPULID_TOKENIZERS"); env != "" {
			if _, rest, ok := strings.Cut(f, "tokenizers/"); ok {
				cands = append(cands, filepath.Join(env, rest))
			}
		}
		cands = append(cands, filepath.Join(c.Dir(), filepath.Base(f)))
		for dir := c.Dir(); ; dir = filepath.Dir(dir) {
			cands = append(cands, filepath.Join(dir, f))
			if filepath.Dir(dir) == dir {
				break
			}
		}
		found := ""
		for _, p := range cands {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				found = p
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("case %s: tokenizer file %s not found (set FLUXPULID_TOKENIZERS)", c.Name, f)
		}
		out = append(out, found)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("case %s: metadata names no tokenizer_files", c.Name)
	}
	return out, nil
}

// idRows encodes every prompt to exactly L ids.
func idRows(prompts []string, L int, enc func(string, int) ([]int, error)) (Output, error) {
	v := make([]int64, 0, len(prompts)*L)
	for i, p := range prompts {
		ids, err := enc(p, L)
		if err != nil {
			return Output{}, fmt.Errorf("prompt %d: %w", i, err)
		}
		for _, id := range ids {
			v = append(v, int64(id))
		}
	}
	return Ints([]int{len(prompts), L}, v), nil
}

// seqLen reads the id length L of out.input_ids [N, L], checking N.
func seqLen(c *Case, n int) (int, error) {
	info, err := c.Info("out.input_ids")
	if err != nil {
		return 0, err
	}
	if len(info.Shape) != 2 || info.Shape[0] != n {
		return 0, fmt.Errorf("case %s: out.input_ids has shape %v for %d prompts", c.Name, info.Shape, n)
	}
	return info.Shape[1], nil
}

func runT5Tokenizer(c *Case, _ backend.Backend) (Outputs, error) {
	cfg := struct {
		ExtraIDs  *int  `json:"extra_ids"`
		Legacy    *bool `json:"legacy"`
		MaxLength int   `json:"max_length"`
	}{}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	extra, legacy := sentencepiece.DefaultExtraIDs, true // T5Tokenizer's defaults
	if cfg.ExtraIDs != nil {
		extra = *cfg.ExtraIDs
	}
	if cfg.Legacy != nil {
		legacy = *cfg.Legacy
	}
	files, err := tokenizerFiles(c)
	if err != nil {
		return nil, err
	}
	m, err := sentencepiece.Load(files[0])
	if err != nil {
		return nil, err
	}
	tok, err := sentencepiece.NewT5(m, extra)
	if err != nil {
		return nil, err
	}
	prompts, err := casePrompts(c)
	if err != nil {
		return nil, err
	}
	L, err := seqLen(c, len(prompts))
	if err != nil {
		return nil, err
	}
	if cfg.MaxLength != 0 && cfg.MaxLength != L {
		return nil, fmt.Errorf("case %s: config max_length %d but out.input_ids has %d columns", c.Name, cfg.MaxLength, L)
	}
	variant := map[bool]*sentencepiece.T5{legacy: tok.WithLegacy(legacy), !legacy: tok.WithLegacy(!legacy)}
	outs := Outputs{}
	if outs["out.input_ids"], err = idRows(prompts, L, variant[legacy].Encode); err != nil {
		return nil, err
	}
	if c.Has("out.input_ids_legacy_false") {
		if outs["out.input_ids_legacy_false"], err = idRows(prompts, L, variant[false].Encode); err != nil {
			return nil, err
		}
	}
	if c.Has("out.length_untruncated") {
		n := make([]int64, len(prompts))
		for i, p := range prompts {
			n[i] = int64(len(variant[legacy].Tokenize(p)))
		}
		outs["out.length_untruncated"] = Ints([]int{len(prompts)}, n)
	}
	return outs, nil
}

func runCLIPTokenizer(c *Case, _ backend.Backend) (Outputs, error) {
	cfg := struct {
		FTFY      *bool `json:"ftfy"`
		MaxLength int   `json:"max_length"`
	}{}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	files, err := tokenizerFiles(c)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(files[0])
	for _, f := range files[1:] {
		if filepath.Dir(f) != dir {
			return nil, fmt.Errorf("case %s: vocab.json and merges.txt found in different folders (%s, %s)", c.Name, dir, filepath.Dir(f))
		}
	}
	ftfy, err := clipbpe.Load(dir)
	if err != nil {
		return nil, err
	}
	basic, err := clipbpe.Load(dir)
	if err != nil {
		return nil, err
	}
	basic.Cleaning = clipbpe.Basic
	main := ftfy
	if cfg.FTFY != nil && !*cfg.FTFY {
		main = basic
	}
	prompts, err := casePrompts(c)
	if err != nil {
		return nil, err
	}
	L, err := seqLen(c, len(prompts))
	if err != nil {
		return nil, err
	}
	if cfg.MaxLength != 0 && cfg.MaxLength != L {
		return nil, fmt.Errorf("case %s: config max_length %d but out.input_ids has %d columns", c.Name, cfg.MaxLength, L)
	}
	outs := Outputs{}
	if outs["out.input_ids"], err = idRows(prompts, L, main.Encode); err != nil {
		return nil, err
	}
	if c.Has("out.input_ids_noftfy") {
		if outs["out.input_ids_noftfy"], err = idRows(prompts, L, basic.Encode); err != nil {
			return nil, err
		}
	}
	if c.Has("out.length_untruncated") {
		n := make([]int64, len(prompts))
		for i, p := range prompts {
			n[i] = int64(len(main.Tokenize(p)))
		}
		outs["out.length_untruncated"] = Ints([]int{len(prompts)}, n)
	}
	return outs, nil
}

// caseIDs reads in.input_ids [B, L] as int32 rows.
func caseIDs(c *Case) ([]int32, int, int, error) {
	v, s, err := c.I64("in.input_ids")
	if err != nil {
		return nil, 0, 0, err
	}
	if len(s) != 2 || s[0] <= 0 || s[1] <= 0 {
		return nil, 0, 0, fmt.Errorf("case %s: in.input_ids has shape %v, want [B, L]", c.Name, s)
	}
	ids := make([]int32, len(v))
	for i, x := range v {
		if x < 0 || x > 1<<31-1 {
			return nil, 0, 0, fmt.Errorf("case %s: in.input_ids[%d] = %d", c.Name, i, x)
		}
		ids[i] = int32(x)
	}
	return ids, s[0], s[1], nil
}

func runT5Encoder(c *Case, b backend.Backend) (Outputs, error) {
	var cfg t5.Config
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	ids, batch, L, err := caseIDs(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	m, err := t5.Load(b, st, cfg)
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	out, err := m.Forward(b, ids, batch, r.hook(""))
	if err != nil {
		return nil, err
	}
	r.add("out.last_hidden_state", out)
	outs, err := r.result()
	if err != nil {
		return nil, err
	}
	if c.Has("out.relative_position_bucket") {
		bk := t5.Buckets(L, L, cfg.NumBuckets, cfg.MaxDistance)
		v := make([]int64, len(bk))
		for i, x := range bk {
			v[i] = int64(x)
		}
		outs["out.relative_position_bucket"] = Ints([]int{L, L}, v)
	}
	return outs, nil
}

func runCLIPText(c *Case, b backend.Backend) (Outputs, error) {
	var cfg clip.Config
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	ids, batch, _, err := caseIDs(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	m, err := clip.Load(b, st, cfg)
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	out, err := m.Forward(b, ids, batch, r.hook(""))
	if err != nil {
		return nil, err
	}
	r.add("out.last_hidden_state", out.LastHidden)
	r.add("out.pooler_output", out.Pooled)
	outs, err := r.result()
	if err != nil {
		return nil, err
	}
	if c.Has("out.pooled_index") {
		v := make([]int64, len(out.PooledAt))
		for i, p := range out.PooledAt {
			v[i] = int64(p)
		}
		outs["out.pooled_index"] = Ints([]int{batch}, v)
	}
	return outs, nil
}
