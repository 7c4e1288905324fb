package idembed

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
)

func testEmbedding(tokens, dim int, uncond bool) *Embedding {
	e := &Embedding{Tokens: tokens, Dim: dim, Cond: make([]float32, tokens*dim)}
	for i := range e.Cond {
		e.Cond[i] = float32(math.Sin(float64(i)*0.7)) * 3
	}
	if uncond {
		e.Uncond = make([]float32, tokens*dim)
		for i := range e.Uncond {
			e.Uncond[i] = float32(i) / 7
		}
	}
	return e
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		dt     dtype.DType
		uncond bool
		round  func(float32) float32
	}{
		{dtype.F32, false, func(v float32) float32 { return v }},
		{dtype.F32, true, func(v float32) float32 { return v }},
		{dtype.F16, true, func(v float32) float32 { return dtype.F16ToF32(dtype.F32ToF16(v)) }},
		{dtype.BF16, false, func(v float32) float32 { return dtype.BF16ToF32(dtype.F32ToBF16(v)) }},
	} {
		e := testEmbedding(32, 2048, tc.uncond)
		p := filepath.Join(dir, "face.gguf")
		if err := Save(p, e, tc.dt); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p)
		if err != nil {
			t.Fatalf("%v: %v", tc.dt, err)
		}
		if got.Tokens != 32 || got.Dim != 2048 || (got.Uncond != nil) != tc.uncond {
			t.Fatalf("%v: loaded %d×%d, uncond %v", tc.dt, got.Tokens, got.Dim, got.Uncond != nil)
		}
		for i, v := range e.Cond {
			if got.Cond[i] != tc.round(v) {
				t.Fatalf("%v: cond[%d] = %v, want %v", tc.dt, i, got.Cond[i], tc.round(v))
			}
		}
		for i := range e.Uncond {
			if got.Uncond[i] != tc.round(e.Uncond[i]) {
				t.Fatalf("%v: uncond[%d] = %v", tc.dt, i, got.Uncond[i])
			}
		}
	}
}

// TestLayout checks the bytes against the GGUF v3 specification by hand:
// the reader stable-diffusion.cpp uses takes ne[0] = token_dim, ne[1] =
// num_tokens and a data section aligned to 32 bytes.
func TestLayout(t *testing.T) {
	e := testEmbedding(2, 3, false)
	var buf bytes.Buffer
	if err := Write(&buf, e, dtype.F32); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	le := binary.LittleEndian
	off := 0
	u32 := func() uint32 { v := le.Uint32(b[off:]); off += 4; return v }
	u64 := func() uint64 { v := le.Uint64(b[off:]); off += 8; return v }
	str := func() string { n := int(u64()); s := string(b[off : off+n]); off += n; return s }
	if string(b[:4]) != "GGUF" {
		t.Fatalf("magic %q", b[:4])
	}
	off = 4
	if v, nt, nkv := u32(), u64(), u64(); v != 3 || nt != 1 || nkv != 2 {
		t.Fatalf("version %d, %d tensors, %d kv", v, nt, nkv)
	}
	if k, typ, v := str(), u32(), str(); k != "general.architecture" || typ != 8 || v != "pulid" {
		t.Fatalf("kv %q type %d = %q", k, typ, v)
	}
	if k, typ, v := str(), u32(), u32(); k != "pulid.version" || typ != 4 || v != 1 {
		t.Fatalf("kv %q type %d = %d", k, typ, v)
	}
	if name, nd, ne0, ne1, typ, o := str(), u32(), u64(), u64(), u32(), u64(); name != "pulid_id" || nd != 2 || ne0 != 3 || ne1 != 2 || typ != 0 || o != 0 {
		t.Fatalf("tensor %q dims %d [%d %d] type %d offset %d", name, nd, ne0, ne1, typ, o)
	}
	data := (off + 31) / 32 * 32
	for i, v := range e.Cond {
		if got := math.Float32frombits(le.Uint32(b[data+4*i:])); got != v {
			t.Fatalf("value %d at byte %d: %v, want %v", i, data+4*i, got, v)
		}
	}
}

func TestParseErrors(t *testing.T) {
	var good bytes.Buffer
	if err := Write(&good, testEmbedding(4, 8, true), dtype.F16); err != nil {
		t.Fatal(err)
	}
	g := good.Bytes()
	patch := func(at int, v ...byte) []byte {
		c := bytes.Clone(g)
		copy(c[at:], v)
		return c
	}
	// Offset of the first tensor-info type field: header 24 bytes, the two
	// kv entries, then name (8+8), n_dims (4), dims (16).
	kv := 8 + len("general.architecture") + 4 + 8 + len("pulid") + 8 + len("pulid.version") + 4 + 4
	typeAt := 24 + kv + 8 + len("pulid_id") + 4 + 16
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"png", []byte("\x89PNG\r\n\x1a\n"), "magic"},
		{"version", patch(4, 9), "version 9"},
		{"huge tensor count", patch(8, 0, 0, 0, 0, 0, 0, 1), "tensors"},
		{"q4 type", patch(typeAt, 2), "GGML type 2"},
		{"wrong name", bytes.Replace(g, []byte("pulid_id\x02"), []byte("pulid_xx\x02"), 1), `no "pulid_id"`},
		{"truncated data", g[:len(g)-40], "outside"},
		// The last F16 value of the file (little-endian 0x7e00 is NaN,
		// 0x7c00 +Inf, 0xfc00 -Inf): a corrupt file, not an identity.
		{"NaN value", patch(len(g)-2, 0x00, 0x7e), "element 7 is not finite"},
		{"+Inf value", patch(len(g)-2, 0x00, 0x7c), "+Inf at token 3"},
		{"-Inf value", patch(len(g)-2, 0x00, 0xfc), "not finite"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
	// Every truncation fails cleanly.
	for n := range len(g) - 1 {
		if _, err := Parse(g[:n]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
}

func TestSaveRejects(t *testing.T) {
	dir := t.TempDir()
	e := testEmbedding(2, 2, false)
	if err := Save(filepath.Join(dir, "x.gguf"), e, dtype.I8); err == nil {
		t.Error("I8 accepted")
	}
	e.Uncond = []float32{1, 2, float32(math.NaN()), 4}
	if err := Save(filepath.Join(dir, "x.gguf"), e, dtype.F32); err == nil || !strings.Contains(err.Error(), "uncond") {
		t.Errorf("NaN uncond: error %v", err)
	}
	e.Uncond = nil
	e.Cond = e.Cond[:3]
	if err := Save(filepath.Join(dir, "x.gguf"), e, dtype.F32); err == nil {
		t.Error("short data accepted")
	}
	if _, err := Load(filepath.Join(dir, "missing.gguf")); err == nil {
		t.Error("missing file loaded")
	}
}

func FuzzParse(f *testing.F) {
	for _, dt := range []dtype.DType{dtype.F32, dtype.F16, dtype.BF16} {
		var b bytes.Buffer
		Write(&b, testEmbedding(2, 4, dt == dtype.F16), dt)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("parsed an invalid embedding: %v", err)
		}
	})
}
