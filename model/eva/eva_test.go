package eva_test

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/weights"
)

func shapesOnly(m map[string][]int) weights.Map {
	src := weights.Map{}
	for n, s := range m {
		src[n] = weights.Tensor{Info: weights.Info{DType: dtype.F16, Shape: s}}
	}
	return src
}

// TestRealCheckpointShapes checks EVA02-CLIP-L-14-336's visual state dict
// against the key list of EVA02_CLIP_L_336_psz14_s6B.pt (prefix `visual.`,
// the RoPE buffers ignored), and reads the real configuration back from
// those shapes, with and without the text tower and RoPE tables.
func TestRealCheckpointShapes(t *testing.T) {
	b, err := os.ReadFile(testenv.Shared(t, "checkpoints", "eva02_clip_l_14_336_visual.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Tensors map[string][]int `json:"tensors"`
		Other   map[string][]int `json:"other_tensors_in_file"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{}
	for n, s := range man.Tensors {
		key, ok := strings.CutPrefix(n, "visual.")
		if !ok {
			t.Fatalf("key %q lacks visual.", n)
		}
		if !eva.IsRopeBuffer(key) {
			want[key] = s
		}
	}
	got := eva.L14_336.Shapes()
	if len(got) != len(want) {
		t.Errorf("L14_336 has %d tensors, the file %d (without rope buffers)", len(got), len(want))
	}
	for n, s := range want {
		if g, ok := got[n]; !ok || !slices.Equal(g, s) {
			t.Errorf("%s: got %v (present %v), want %v", n, g, ok, s)
		}
	}
	joint := map[string][]int{}
	for n, s := range man.Tensors {
		joint[n] = s
	}
	for n, s := range man.Other {
		joint[n] = s
	}
	noRope := map[string][]int{}
	for n, s := range joint {
		if !eva.IsRopeBuffer(n) {
			noRope[n] = s
		}
	}
	for name, m := range map[string]map[string][]int{"joint": joint, "joint without rope": noRope} {
		cfg, err := eva.ConfigFrom(eva.Visual(shapesOnly(m)))
		if err != nil || cfg != eva.L14_336 {
			t.Errorf("%s: config %+v (%v), want %+v", name, cfg, err, eva.L14_336)
		}
	}
}

func TestGoldenConfig(t *testing.T) {
	st := testenv.GoldenWeights(t, "eva")
	src := eva.Visual(st)
	cfg, err := eva.ConfigFrom(src)
	if err != nil {
		t.Fatal(err)
	}
	// MANIFEST: tiny tower 84 px, grid 6, width 64, 24 layers, heads 4×16,
	// mlp 170, embed 32.
	want := eva.Config{Width: 64, Depth: 24, HeadDim: 16, Patch: 14, Grid: 6, MLP: 170, EmbedDim: 32, PTSeqLen: 16}
	if cfg != want {
		t.Fatalf("config %+v, want %+v", cfg, want)
	}
	if err := weights.Check(src, cfg.Shapes(), eva.IsRopeBuffer); err != nil {
		t.Fatal(err)
	}
}

func TestHiddenBlocks(t *testing.T) {
	for depth, want := range map[int][]int{24: {4, 8, 12, 16, 20}, 21: {4, 8, 12, 16, 20}, 9: {4, 8}, 4: nil} {
		if got := (eva.Config{Depth: depth}).HiddenBlocks(); !slices.Equal(got, want) {
			t.Errorf("depth %d: %v, want %v", depth, got, want)
		}
	}
}

// TestRopeTables checks entries by hand: head width 8 → dim 4, freqs
// (1, 1/100); grid 2, pt 16 → t = (0, 8). Patch (r, c) = (1, 0): the
// first half rotates by the row (angle 8·freq), the second by the column (0).
func TestRopeTables(t *testing.T) {
	cos, sin, err := eva.RopeTables(8, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	row := 2 * 8 // patch index 2 = (1, 0)
	want := []float64{8, 8, 0.08, 0.08, 0, 0, 0, 0}
	for j, a := range want {
		if math.Abs(float64(cos[row+j])-math.Cos(a)) > 1e-6 || math.Abs(float64(sin[row+j])-math.Sin(a)) > 1e-6 {
			t.Errorf("column %d: cos %v sin %v, want angle %v", j, cos[row+j], sin[row+j], a)
		}
	}
	if _, _, err := eva.RopeTables(6, 16, 2); err == nil {
		t.Error("head width 6 accepted")
	}
}

func TestLoadErrors(t *testing.T) {
	st := testenv.GoldenWeights(t, "eva")
	edit := func(f func(m weights.Map)) weights.Map {
		m := weights.Map{}
		for _, n := range st.Names() {
			info, _ := st.Info(n)
			data, _ := st.Bytes(n)
			m[n] = weights.Tensor{Info: info, Data: data}
		}
		f(m)
		return m
	}
	cases := []struct {
		name string
		src  weights.Source
		want string
	}{
		{"empty", weights.Map{}, "patch_embed.proj.weight"},
		{"k bias", edit(func(m weights.Map) { m["visual.blocks.3.attn.k_bias"] = m["visual.blocks.3.attn.q_bias"] }), "blocks.3.attn.k_bias"},
		{"missing ffn_ln", edit(func(m weights.Map) { delete(m, "visual.blocks.7.mlp.ffn_ln.bias") }), `"blocks.7.mlp.ffn_ln.bias"`},
		{"non-square pos", edit(func(m weights.Map) {
			e := m["visual.pos_embed"]
			e.Shape = []int{1, 36, 64}
			m["visual.pos_embed"] = e
		}), "square grid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eva.Load(cpu.New(), tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
	m, err := eva.Load(cpu.New(), st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(cpu.New().Zeros([]int{1, 3, 70, 70}), nil); err == nil || !strings.Contains(err.Error(), "84") {
		t.Errorf("a 70-pixel input: %v", err)
	}
}

// TestEmbedNormIsUnit checks that the normalised embedding has unit rows
// and is parallel to the raw one.
func TestEmbedNormIsUnit(t *testing.T) {
	b := cpu.New()
	m, err := eva.Load(b, testenv.GoldenWeights(t, "eva"))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*3*84*84)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
	}
	out, err := m.Forward(b.FromF32([]int{2, 3, 84, 84}, x), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b.ReadF32(out.Embed)
	nrm, _ := b.ReadF32(out.EmbedNorm)
	if len(out.Hidden) != 5 || len(raw) != 64 {
		t.Fatalf("%d hidden states, %d embedding values", len(out.Hidden), len(raw))
	}
	for r := range 2 {
		var ss float64
		for _, v := range raw[32*r : 32*r+32] {
			ss += float64(v) * float64(v)
		}
		for j := range 32 {
			if d := float64(nrm[32*r+j]) - float64(raw[32*r+j])/math.Sqrt(ss); math.Abs(d) > 1e-6 {
				t.Fatalf("row %d col %d: %v vs %v", r, j, nrm[32*r+j], float64(raw[32*r+j])/math.Sqrt(ss))
			}
		}
	}
}
