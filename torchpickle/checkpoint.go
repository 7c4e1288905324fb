// Package torchpickle reads PyTorch checkpoints (.pth, .pt, .bin files
// written by torch.save) into named tensors, without running any of the
// pickled code.
//
// Both container formats are handled:
//   - zip (torch >= 1.6): <dir>/data.pkl holds the pickled object, whose
//     tensors refer by key to raw little-endian storages <dir>/data/<key>;
//   - legacy (torch < 1.6, or _use_new_zipfile_serialization=False): five
//     pickles in a row (magic number, protocol version, system info, the
//     object, the list of storage keys), then each storage as an int64
//     element count followed by its raw bytes.
//
// The object is expected to be a state dict (a dict of tensors), possibly
// wrapped as {"model"|"module"|"state_dict": state dict, ...}; see Open.
package torchpickle

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// maxElements bounds any element count (2^40): larger is corrupt, and the
// bound keeps size arithmetic far from overflow.
const maxElements = 1 << 40

// legacyMagic is torch.serialization's MAGIC_NUMBER, the first pickle of a
// legacy file; legacyProtocol its PROTOCOL_VERSION.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

// Tensor is one checkpoint tensor, made contiguous: Data holds the elements
// row-major, little-endian. Data may share memory with the checkpoint's
// other tensors (tensors that view one storage); treat it as read-only.
type Tensor struct {
	DType dtype.DType
	Shape []int
	Data  []byte
}

// NumElements is the product of Shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// F32 decodes the tensor's elements to float32.
func (t *Tensor) F32() []float32 {
	out := make([]float32, t.NumElements())
	dtype.ToF32(t.DType, t.Data, out)
	return out
}

// StateDict is a checkpoint's name -> tensor map.
type StateDict struct {
	Names   []string // in the order the file lists them
	Tensors map[string]*Tensor
	// Skipped lists the entries whose values are not tensors (counters,
	// nested containers), which are left out.
	Skipped []string
}

// storage is a typed torch storage: numel elements of dt. A legacy-format
// view storage refers to a range of its root.
type storage struct {
	dt    dtype.DType
	key   string
	numel int64
	data  []byte // numel * dt.Size() bytes, once read
	root  *storage
	start int64 // element offset into root
}

func (s *storage) bytes() ([]byte, error) {
	if s.root != nil {
		rb, err := s.root.bytes()
		if err != nil {
			return nil, err
		}
		es := int64(s.dt.Size())
		return rb[s.start*es : (s.start+s.numel)*es], nil
	}
	if s.data == nil {
		return nil, fmt.Errorf("storage %q has no data in the file", s.key)
	}
	return s.data, nil
}

// tensorView is a tensor as pickled: a strided view of a storage.
type tensorView struct {
	st            *storage
	offset, numel int64
	size, stride  []int64
}

// Open reads the checkpoint at path. Besides decoding, it applies the two
// conventions checkpoint loaders of the reference code apply before
// load_state_dict: a dict holding the state dict under "model", "module" or
// "state_dict" (tried in that order, as eva_clip's load_state_dict does) is
// unwrapped, and a "module." prefix that every key carries (a save of an
// nn.DataParallel model; facexlib strips it) is removed.
func Open(path string) (*StateDict, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sd, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("torch checkpoint %s: %w", path, err)
	}
	return sd, nil
}

// Parse decodes a checkpoint held in memory (see Open). Tensor data may
// refer to b, which must not change while the tensors are in use.
func Parse(b []byte) (*StateDict, error) {
	l := &loader{storages: map[string]*storage{}}
	var obj any
	var err error
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("PK\x05\x06")):
		obj, err = l.parseZip(b)
	case len(b) > 262 && string(b[257:262]) == "ustar":
		return nil, errors.New("tar-format checkpoints (torch < 0.4) are not supported; re-save with a current torch")
	case len(b) > 0 && b[0] == 0x80:
		obj, err = l.parseLegacy(b)
	default:
		return nil, errors.New("not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)")
	}
	if err != nil {
		return nil, err
	}
	return toStateDict(obj)
}

type loader struct {
	storages map[string]*storage
	// view storages of the legacy format, by view key
	views map[string]*storage
}

// persistentLoad resolves a storage persistent id:
// ('storage', storage_type, key, location, numel) in zip files, with a sixth
// view_metadata element (None or (view_key, offset, view_size)) in legacy
// ones. The location (cpu, cuda:0, ...) is irrelevant: data is read to the
// host.
func (l *loader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) < 5 || len(t) > 6 || t[0] != "storage" {
		return nil, errors.New("persistent id is not a ('storage', type, key, location, numel) tuple")
	}
	typ, ok := t[1].(pyGlobal)
	if !ok || typ.kind != globalStorageType {
		return nil, fmt.Errorf("persistent id names a %s, not a storage type", typeName(t[1]))
	}
	key, ok := t[2].(string)
	if !ok {
		return nil, errors.New("storage key is not a string")
	}
	if _, ok := t[3].(string); !ok {
		return nil, errors.New("storage location is not a string")
	}
	numel, ok := asInt(t[4])
	if !ok || numel < 0 || numel > maxElements {
		return nil, fmt.Errorf("storage %q: invalid element count", key)
	}
	st := l.storages[key]
	if st == nil {
		st = &storage{dt: typ.dt, key: key, numel: numel}
		l.storages[key] = st
	} else if st.dt != typ.dt || st.numel != numel {
		return nil, fmt.Errorf("storage %q is referenced as %v[%d] and as %v[%d]", key, st.dt, st.numel, typ.dt, numel)
	}
	if len(t) == 5 {
		return st, nil
	}
	if _, ok := t[5].(pyNone); ok {
		return st, nil
	}
	vm, ok := t[5].(pyTuple)
	if !ok || len(vm) != 3 {
		return nil, fmt.Errorf("storage %q: view metadata is not (view_key, offset, size)", key)
	}
	vkey, ok1 := vm[0].(string)
	off, ok2 := asInt(vm[1])
	n, ok3 := asInt(vm[2])
	if !ok1 || !ok2 || !ok3 || off < 0 || n < 0 || off > numel || n > numel-off {
		return nil, fmt.Errorf("storage %q: invalid view metadata", key)
	}
	if l.views == nil {
		l.views = map[string]*storage{}
	}
	if v := l.views[vkey]; v != nil {
		if v.root != st || v.start != off || v.numel != n {
			return nil, fmt.Errorf("storage view %q is defined twice differently", vkey)
		}
		return v, nil
	}
	v := &storage{dt: st.dt, key: vkey, numel: n, root: st, start: off}
	l.views[vkey] = v
	return v, nil
}

func (l *loader) parseZip(b []byte) (any, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	var pkl *zip.File
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		entries[f.Name] = f
		// "<dir>/data.pkl": the directory is the saved file's stem, or
		// "archive" for files saved to a stream.
		if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			if pkl != nil {
				return nil, fmt.Errorf("zip holds both %s and %s", pkl.Name, f.Name)
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, errors.New("zip archive without a <dir>/data.pkl entry")
	}
	dir := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo := entries[dir+"byteorder"]; bo != nil {
		order, err := readEntry(b, bo, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bo.Name, err)
		}
		if string(order) != "little" {
			return nil, fmt.Errorf("storages are %q-endian; only little-endian checkpoints are supported", order)
		}
	}
	prog, err := readEntry(b, pkl, int64(len(b))*1100)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	obj, err := newUnpickler(prog, l.persistentLoad).load()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	for key, st := range l.storages {
		f := entries[dir+"data/"+key]
		if f == nil {
			return nil, fmt.Errorf("storage %q: no entry %sdata/%s", key, dir, key)
		}
		want := st.numel * int64(st.dt.Size())
		if f.UncompressedSize64 != uint64(want) {
			return nil, fmt.Errorf("storage %q: entry %s has %d bytes, %v[%d] needs %d",
				key, f.Name, f.UncompressedSize64, st.dt, st.numel, want)
		}
		if st.data, err = readEntry(b, f, want); err != nil {
			return nil, fmt.Errorf("storage %q: %s: %w", key, f.Name, err)
		}
	}
	return obj, nil
}

// readEntry returns the bytes of a zip entry of at most limit bytes. Stored
// (uncompressed) entries, which torch.save writes, are returned as views
// of b after their CRC is checked; compressed ones are inflated.
func readEntry(b []byte, f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry of %d bytes exceeds the %d-byte limit", f.UncompressedSize64, limit)
	}
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return nil, err
		}
		n := f.UncompressedSize64
		if f.CompressedSize64 != n || off < 0 || uint64(off) > uint64(len(b)) || n > uint64(len(b))-uint64(off) {
			return nil, errors.New("stored entry runs past the end of the file")
		}
		data := b[off : off+int64(n) : off+int64(n)]
		if crc32.ChecksumIEEE(data) != f.CRC32 {
			return nil, errors.New("CRC-32 mismatch: the file is corrupt")
		}
		return data, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The declared size may lie; reading through a limit keeps the
	// allocation proportional to what the data really inflates to.
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if uint64(len(data)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("entry inflates to %d bytes, its header says %d", len(data), f.UncompressedSize64)
	}
	return data, nil
}

func (l *loader) parseLegacy(b []byte) (any, error) {
	u := newUnpickler(b, nil)
	magic, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("legacy header: %w", err)
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, errors.New("pickle stream without torch's magic number (not a torch.save file)")
	}
	proto, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("legacy header: %w", err)
	}
	if p, ok := proto.(int64); !ok || p != legacyProtocol {
		return nil, fmt.Errorf("legacy protocol version is not %d", legacyProtocol)
	}
	sysInfo, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("legacy system info: %w", err)
	}
	info, ok := sysInfo.(*pyDict)
	if !ok {
		return nil, errors.New("legacy system info is not a dict")
	}
	if le, ok := info.get("little_endian"); ok && le != true {
		return nil, errors.New("big-endian checkpoints are not supported")
	}
	u.persistentLoad = l.persistentLoad
	obj, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("legacy object: %w", err)
	}
	u.persistentLoad = nil
	keysObj, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("legacy storage keys: %w", err)
	}
	keys, ok := keysObj.(*pyList)
	if !ok {
		return nil, errors.New("legacy storage keys are not a list")
	}
	pos := int64(u.pos)
	for i, k := range keys.items {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("legacy storage key %d is not a string", i)
		}
		st := l.storages[key]
		if st == nil {
			return nil, fmt.Errorf("storage %q is listed but no tensor uses it", key)
		}
		if st.data != nil {
			return nil, fmt.Errorf("storage %q is listed twice", key)
		}
		if int64(len(b))-pos < 8 {
			return nil, fmt.Errorf("storage %q: file ends before its element count", key)
		}
		n := int64(binary.LittleEndian.Uint64(b[pos:]))
		pos += 8
		if n != st.numel {
			return nil, fmt.Errorf("storage %q: file holds %d elements, the pickle says %d", key, n, st.numel)
		}
		size := n * int64(st.dt.Size())
		if size > int64(len(b))-pos {
			return nil, fmt.Errorf("storage %q: %d bytes run past the end of the file", key, size)
		}
		st.data = b[pos : pos+size : pos+size]
		pos += size
	}
	return obj, nil
}

// toStateDict unwraps the saved object to its state dict and makes every
// tensor contiguous.
func toStateDict(obj any) (*StateDict, error) {
	d, ok := obj.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("the checkpoint holds a %s, not a dict of tensors", typeName(obj))
	}
	for _, wrapper := range []string{"model", "module", "state_dict"} {
		if inner, ok := d.get(wrapper); ok {
			if id, ok := inner.(*pyDict); ok {
				d = id
				break
			}
		}
	}
	names := make([]string, len(d.keys))
	prefixed := len(d.keys) > 0
	for i, k := range d.keys {
		s, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("state dict key %d is not a string but a %s", i, typeName(k))
		}
		names[i] = s
		prefixed = prefixed && strings.HasPrefix(s, "module.")
	}
	sd := &StateDict{Tensors: map[string]*Tensor{}}
	for i, name := range names {
		if prefixed {
			name = strings.TrimPrefix(name, "module.")
		}
		v, ok := d.vals[i].(*tensorView)
		if !ok {
			sd.Skipped = append(sd.Skipped, name)
			continue
		}
		if _, dup := sd.Tensors[name]; dup {
			return nil, fmt.Errorf("tensor %q appears twice", name)
		}
		t, err := v.materialize()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		sd.Names = append(sd.Names, name)
		sd.Tensors[name] = t
	}
	return sd, nil
}

// materialize gathers a strided view into a contiguous row-major tensor;
// a view that already is contiguous shares its storage's bytes.
func (v *tensorView) materialize() (*Tensor, error) {
	src, err := v.st.bytes()
	if err != nil {
		return nil, err
	}
	es := int64(v.st.dt.Size())
	t := &Tensor{DType: v.st.dt, Shape: make([]int, len(v.size))}
	for i, s := range v.size {
		t.Shape[i] = int(s)
	}
	if v.numel == 0 {
		t.Data = []byte{}
		return t, nil
	}
	contiguous, want := true, int64(1)
	for i := len(v.size) - 1; i >= 0; i-- {
		if v.size[i] != 1 && v.stride[i] != want {
			contiguous = false
			break
		}
		want *= v.size[i]
	}
	if contiguous {
		end := (v.offset + v.numel) * es
		t.Data = src[v.offset*es : end : end]
		return t, nil
	}
	// Walk the output in row-major order with an odometer over the
	// indices, copying one innermost row at a time.
	rank := len(v.size)
	inner := v.size[rank-1]
	innerStride := v.stride[rank-1]
	out := make([]byte, 0, v.numel*es)
	idx := make([]int64, rank)
	for {
		base := v.offset
		for d := 0; d < rank-1; d++ {
			base += idx[d] * v.stride[d]
		}
		if innerStride == 1 {
			out = append(out, src[base*es:(base+inner)*es]...)
		} else {
			for j := int64(0); j < inner; j++ {
				p := (base + j*innerStride) * es
				out = append(out, src[p:p+es]...)
			}
		}
		d := rank - 2
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < v.size[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			break
		}
	}
	t.Data = out
	return t, nil
}
