package idembed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// The ID-embedding file is the container stable-diffusion.cpp's PuLID
// extension reads (load_pulid_id_embedding): a GGUF file holding one tensor
// named "pulid_id" of GGML shape [token_dim, num_tokens] (ne[0] is the
// fastest-varying dim, so the data is the row-major [num_tokens, token_dim]
// array, typically 32×2048) in F32, F16 or BF16, with the metadata
// general.architecture = "pulid" and pulid.version = 1. We add the uncond
// tokens (true CFG) as a second tensor "pulid_id_uncond", which that reader
// ignores.
const (
	TensorCond   = "pulid_id"
	TensorUncond = "pulid_id_uncond"
)

// GGUF constants (ggml/docs/gguf.md).
const (
	ggufMagic            = "GGUF"
	ggufVersion          = 3
	ggufDefaultAlignment = 32

	ggmlF32  = 0
	ggmlF16  = 1
	ggmlBF16 = 30
)

// GGUF metadata value types.
const (
	gUint8 = iota
	gInt8
	gUint16
	gInt16
	gUint32
	gInt32
	gFloat32
	gBool
	gString
	gArray
	gUint64
	gInt64
	gFloat64
)

// Embedding is a face's identity tokens: Cond [Tokens, Dim] row-major (the
// IDFormer output for one image) and, when true CFG needs it, Uncond of the
// same shape (nil otherwise).
type Embedding struct {
	Tokens, Dim int
	Cond        []float32
	Uncond      []float32
}

// Validate checks the shapes and that every value is finite.
func (e *Embedding) Validate() error {
	if e.Tokens <= 0 || e.Dim <= 0 || e.Tokens > maxTokens || e.Dim > maxDim {
		return fmt.Errorf("id embedding: implausible shape %d×%d", e.Tokens, e.Dim)
	}
	if len(e.Cond) != e.Tokens*e.Dim {
		return fmt.Errorf("id embedding: %d values for %d×%d tokens", len(e.Cond), e.Tokens, e.Dim)
	}
	if e.Uncond != nil && len(e.Uncond) != e.Tokens*e.Dim {
		return fmt.Errorf("id embedding: uncond has %d values for %d×%d tokens", len(e.Uncond), e.Tokens, e.Dim)
	}
	if err := checkFinite(e.Cond, e.Dim); err != nil {
		return fmt.Errorf("id embedding: cond: %w", err)
	}
	if err := checkFinite(e.Uncond, e.Dim); err != nil {
		return fmt.Errorf("id embedding: uncond: %w", err)
	}
	return nil
}

// checkFinite refuses NaN and ±Inf: a corrupt or overflowed embedding would
// otherwise flow through every cross-attention into an all-NaN picture,
// found out only after the whole denoising run.
func checkFinite(v []float32, dim int) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("value %v at token %d, element %d is not finite", x, i/dim, i%dim)
		}
	}
	return nil
}

// Bounds of stable-diffusion.cpp's plausibility check.
const (
	maxTokens = 1024
	maxDim    = 65536
)

// Save writes e to path as GGUF with the tensors stored as dt (F32, F16 or BF16).
func Save(path string, e *Embedding, dt dtype.DType) error {
	var buf bytes.Buffer
	if err := Write(&buf, e, dt); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save id embedding: %w", err)
	}
	return nil
}

// Write encodes e as a GGUF file.
func Write(w io.Writer, e *Embedding, dt dtype.DType) error {
	if err := e.Validate(); err != nil {
		return err
	}
	var gt uint32
	switch dt {
	case dtype.F32:
		gt = ggmlF32
	case dtype.F16:
		gt = ggmlF16
	case dtype.BF16:
		gt = ggmlBF16
	default:
		return fmt.Errorf("id embedding: cannot store as %v (F32, F16 or BF16)", dt)
	}
	tensors := []struct {
		name string
		v    []float32
	}{{TensorCond, e.Cond}}
	if e.Uncond != nil {
		tensors = append(tensors, struct {
			name string
			v    []float32
		}{TensorUncond, e.Uncond})
	}
	var h bytes.Buffer
	le := binary.LittleEndian
	putU32 := func(v uint32) { h.Write(le.AppendUint32(nil, v)) }
	putU64 := func(v uint64) { h.Write(le.AppendUint64(nil, v)) }
	putStr := func(s string) { putU64(uint64(len(s))); h.WriteString(s) }
	h.WriteString(ggufMagic)
	putU32(ggufVersion)
	putU64(uint64(len(tensors)))
	putU64(2)
	putStr("general.architecture")
	putU32(gString)
	putStr("pulid")
	putStr("pulid.version")
	putU32(gUint32)
	putU32(1)
	size := uint64(e.Tokens * e.Dim * dt.Size())
	aligned := (size + ggufDefaultAlignment - 1) / ggufDefaultAlignment * ggufDefaultAlignment
	for i, t := range tensors {
		putStr(t.name)
		putU32(2)
		putU64(uint64(e.Dim)) // ne[0]: token_dim
		putU64(uint64(e.Tokens))
		putU32(gt)
		putU64(uint64(i) * aligned)
	}
	for h.Len()%ggufDefaultAlignment != 0 {
		h.WriteByte(0)
	}
	for _, t := range tensors {
		data := make([]byte, aligned)
		for i, v := range t.v {
			switch dt {
			case dtype.F32:
				le.PutUint32(data[4*i:], math.Float32bits(v))
			case dtype.F16:
				le.PutUint16(data[2*i:], dtype.F32ToF16(v))
			case dtype.BF16:
				le.PutUint16(data[2*i:], dtype.F32ToBF16(v))
			}
		}
		h.Write(data)
	}
	_, err := w.Write(h.Bytes())
	if err != nil {
		return fmt.Errorf("write id embedding: %w", err)
	}
	return nil
}

// maxFileSize bounds the files Load reads: two 1024×65536 F32 tensors.
const maxFileSize = 2*maxTokens*maxDim*4 + 1<<20

// Load reads an ID-embedding file written by Save or by
// stable-diffusion.cpp's tooling.
func Load(path string) (*Embedding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load id embedding: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load id embedding %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("load id embedding %s: larger than %d bytes", path, maxFileSize)
	}
	e, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load id embedding %s: %w", path, err)
	}
	return e, nil
}

// ggufTensor is a tensor entry of a GGUF file.
type ggufTensor struct {
	dims   []uint64
	typ    uint32
	offset uint64
}

// reader decodes little-endian GGUF fields, failing on truncation.
type reader struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = errTruncated
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *reader) str() string { return string(r.take(r.u64())) }

// scalarSize is the byte size of the fixed-size metadata value types.
var scalarSize = map[uint32]uint64{gUint8: 1, gInt8: 1, gBool: 1, gUint16: 2, gInt16: 2, gUint32: 4, gInt32: 4, gFloat32: 4, gUint64: 8, gInt64: 8, gFloat64: 8}

// value reads one metadata value, returning it when it is a uint32 or a
// string (the types of the keys we look at) and skipping anything else.
func (r *reader) value(t uint32, depth int) (any, error) {
	if n, ok := scalarSize[t]; ok {
		s := r.take(n)
		if s == nil {
			return nil, r.err
		}
		if t == gUint32 {
			return binary.LittleEndian.Uint32(s), nil
		}
		return nil, nil // other scalars are skipped
	}
	switch t {
	case gString:
		return r.str(), r.err
	case gArray:
		if depth > 4 {
			return nil, errors.New("metadata arrays nested too deep")
		}
		et, n := r.u32(), r.u64()
		if r.err != nil {
			return nil, r.err
		}
		// Every element takes at least one byte: a count beyond the file is corrupt.
		if n > uint64(len(r.b)-r.off) {
			return nil, fmt.Errorf("metadata array of %d elements exceeds the file", n)
		}
		for range n {
			if _, err := r.value(et, depth+1); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unknown metadata value type %d", t)
}

// Parse decodes an ID-embedding GGUF file held in memory.
func Parse(data []byte) (*Embedding, error) {
	r := &reader{b: data}
	if m := r.take(4); m == nil || string(m) != ggufMagic {
		return nil, errors.New("not a GGUF file (bad magic)")
	}
	if v := r.u32(); r.err == nil && v != 2 && v != 3 {
		return nil, fmt.Errorf("GGUF version %d not supported (2 or 3)", v)
	}
	nt, nkv := r.u64(), r.u64()
	if r.err != nil {
		return nil, fmt.Errorf("GGUF header: %w", r.err)
	}
	if nt > 1<<16 || nkv > 1<<20 {
		return nil, fmt.Errorf("GGUF header claims %d tensors and %d metadata entries", nt, nkv)
	}
	align := uint64(ggufDefaultAlignment)
	for range nkv {
		key := r.str()
		t := r.u32()
		if r.err != nil {
			return nil, fmt.Errorf("GGUF metadata: %w", r.err)
		}
		v, err := r.value(t, 0)
		if err != nil {
			return nil, fmt.Errorf("GGUF metadata %q: %w", key, err)
		}
		if key == "general.alignment" {
			a, ok := v.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return nil, fmt.Errorf("GGUF general.alignment %v is not a power of two uint32", v)
			}
			align = uint64(a)
		}
	}
	tensors := map[string]ggufTensor{}
	for range nt {
		name := r.str()
		nd := r.u32()
		if r.err != nil {
			return nil, fmt.Errorf("GGUF tensor info: %w", r.err)
		}
		if nd == 0 || nd > 4 {
			return nil, fmt.Errorf("GGUF tensor %q has %d dims", name, nd)
		}
		t := ggufTensor{dims: make([]uint64, nd)}
		for i := range t.dims {
			t.dims[i] = r.u64()
		}
		t.typ, t.offset = r.u32(), r.u64()
		if r.err != nil {
			return nil, fmt.Errorf("GGUF tensor info %q: %w", name, r.err)
		}
		if _, dup := tensors[name]; dup {
			return nil, fmt.Errorf("GGUF tensor %q appears twice", name)
		}
		tensors[name] = t
	}
	start := (uint64(r.off) + align - 1) / align * align
	if start > uint64(len(data)) {
		return nil, errors.New("GGUF data section missing")
	}
	body := data[start:]
	e := &Embedding{}
	cond, ok := tensors[TensorCond]
	if !ok {
		return nil, fmt.Errorf("no %q tensor", TensorCond)
	}
	var err error
	if e.Cond, e.Tokens, e.Dim, err = readTensor(body, cond, align); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", TensorCond, err)
	}
	if u, ok := tensors[TensorUncond]; ok {
		var tk, d int
		if e.Uncond, tk, d, err = readTensor(body, u, align); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", TensorUncond, err)
		}
		if tk != e.Tokens || d != e.Dim {
			return nil, fmt.Errorf("tensor %q is %d×%d, %q %d×%d", TensorUncond, tk, d, TensorCond, e.Tokens, e.Dim)
		}
	}
	return e, nil
}

// readTensor widens a [token_dim, num_tokens] (GGML order) tensor to float32.
func readTensor(body []byte, t ggufTensor, align uint64) ([]float32, int, int, error) {
	for i, d := range t.dims {
		if i >= 2 && d != 1 {
			return nil, 0, 0, fmt.Errorf("shape %v is not [token_dim, num_tokens]", t.dims)
		}
	}
	dim, tokens := t.dims[0], uint64(1)
	if len(t.dims) > 1 {
		tokens = t.dims[1]
	}
	if dim == 0 || tokens == 0 || dim > maxDim || tokens > maxTokens {
		return nil, 0, 0, fmt.Errorf("implausible shape [%d, %d]", dim, tokens)
	}
	var dt dtype.DType
	switch t.typ {
	case ggmlF32:
		dt = dtype.F32
	case ggmlF16:
		dt = dtype.F16
	case ggmlBF16:
		dt = dtype.BF16
	default:
		return nil, 0, 0, fmt.Errorf("GGML type %d not supported (F32, F16 or BF16)", t.typ)
	}
	if t.offset%align != 0 {
		return nil, 0, 0, fmt.Errorf("offset %d is not aligned to %d", t.offset, align)
	}
	n := dim * tokens
	size := n * uint64(dt.Size())
	if t.offset > uint64(len(body)) || size > uint64(len(body))-t.offset {
		return nil, 0, 0, fmt.Errorf("data [%d, %d) lies outside the file's %d data bytes", t.offset, t.offset+size, len(body))
	}
	out := make([]float32, n)
	dtype.ToF32(dt, body[t.offset:t.offset+size], out)
	if err := checkFinite(out, int(dim)); err != nil {
		return nil, 0, 0, err
	}
	return out, int(tokens), int(dim), nil
}
