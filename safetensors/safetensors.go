// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to dtype,
// shape and byte range, then the raw little-endian data.
//
// Files are memory-mapped where the platform allows, so opening a 24 GB
// checkpoint costs only its header; tensor bytes are views into the mapping.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// 100 MB); anything larger is treated as corrupt rather than allocated.
const MaxHeaderSize = 100 << 20

// Info describes one tensor of a file.
type Info struct {
	Name  string
	DType dtype.DType
	Shape []int
	// Offset and Size locate the data relative to the start of the data
	// section (the byte after the header).
	Offset, Size int64
}

// NumElements is the product of the shape (1 for a scalar).
func (i Info) NumElements() int64 {
	n := int64(1)
	for _, d := range i.Shape {
		n *= int64(d)
	}
	return n
}

// File is an open safetensors file.
type File struct {
	Path     string
	Metadata map[string]string

	data    []byte // the data section
	tensors map[string]Info
	names   []string // in file order (by offset)
	unmap   func() error
}

// Open maps the file at path and validates its header.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < 8 {
		return nil, fmt.Errorf("safetensors %s: file of %d bytes is too short", path, st.Size())
	}
	buf, unmap, err := mapFile(fd, st.Size())
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	f, err := Parse(buf)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	f.Path = path
	f.unmap = unmap
	return f, nil
}

// Parse reads a whole safetensors file held in memory. The File refers to
// buf; buf must not change while it is in use.
func Parse(buf []byte) (*File, error) {
	if len(buf) < 8 {
		return nil, errors.New("shorter than the 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(len(buf)-8) {
		return nil, fmt.Errorf("header length %d runs past the end of the %d-byte file", n, len(buf))
	}
	header := buf[8 : 8+n]
	data := buf[8+n:]

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	f := &File{data: data, tensors: make(map[string]Info, len(raw))}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("header: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		info, err := parseEntry(name, msg)
		if err != nil {
			return nil, fmt.Errorf("header: tensor %q: %w", name, err)
		}
		if info.Offset+info.Size > int64(len(data)) {
			return nil, fmt.Errorf("tensor %q: bytes [%d, %d) run past the %d-byte data section",
				name, info.Offset, info.Offset+info.Size, len(data))
		}
		f.tensors[name] = info
		f.names = append(f.names, name)
	}
	sort.Slice(f.names, func(a, b int) bool {
		ia, ib := f.tensors[f.names[a]], f.tensors[f.names[b]]
		if ia.Offset != ib.Offset {
			return ia.Offset < ib.Offset
		}
		return ia.Name < ib.Name
	})
	var end int64
	for i, name := range f.names {
		info := f.tensors[name]
		if i > 0 && info.Offset < end {
			return nil, fmt.Errorf("tensor %q: bytes [%d, %d) overlap the previous tensor %q",
				name, info.Offset, info.Offset+info.Size, f.names[i-1])
		}
		end = max(end, info.Offset+info.Size)
	}
	return f, nil
}

type entry struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

func parseEntry(name string, msg json.RawMessage) (Info, error) {
	var e entry
	if err := json.Unmarshal(msg, &e); err != nil {
		return Info{}, err
	}
	dt, err := dtype.Parse(e.DType)
	if err != nil {
		return Info{}, err
	}
	info := Info{Name: name, DType: dt, Shape: make([]int, len(e.Shape))}
	count := int64(1)
	for i, d := range e.Shape {
		if d < 0 || d > math.MaxInt32 {
			return Info{}, fmt.Errorf("dimension %d of shape %v is out of range", i, e.Shape)
		}
		info.Shape[i] = int(d)
		if d != 0 && count > math.MaxInt64/8/d {
			return Info{}, fmt.Errorf("shape %v has too many elements", e.Shape)
		}
		count *= d
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin {
		return Info{}, fmt.Errorf("invalid data_offsets [%d, %d]", begin, end)
	}
	if want := count * int64(dt.Size()); end-begin != want {
		return Info{}, fmt.Errorf("data_offsets [%d, %d] hold %d bytes, but %v %v needs %d",
			begin, end, end-begin, dt, e.Shape, want)
	}
	info.Offset, info.Size = begin, end-begin
	return info, nil
}

// Close releases the mapping. Byte slices obtained from the file must not
// be used afterwards.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap = nil
	return err
}

// Names lists the tensors in file order.
func (f *File) Names() []string { return f.names }

// Info returns the description of the named tensor.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.tensors[name]
	return i, ok
}

// Bytes returns the raw little-endian data of a tensor (a view, not a copy).
func (f *File) Bytes(name string) ([]byte, error) {
	i, ok := f.tensors[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	return f.data[i.Offset : i.Offset+i.Size : i.Offset+i.Size], nil
}

// F32 decodes a floating-point (or integer) tensor to a new float32 slice.
func (f *File) F32(name string) ([]float32, []int, error) {
	i, ok := f.tensors[name]
	if !ok {
		return nil, nil, fmt.Errorf("no tensor %q", name)
	}
	out := make([]float32, i.NumElements())
	dtype.ToF32(i.DType, f.data[i.Offset:i.Offset+i.Size], out)
	return out, i.Shape, nil
}

// I64 decodes an integer or bool tensor to a new int64 slice.
func (f *File) I64(name string) ([]int64, []int, error) {
	i, ok := f.tensors[name]
	if !ok {
		return nil, nil, fmt.Errorf("no tensor %q", name)
	}
	out := make([]int64, i.NumElements())
	if err := dtype.ToI64(i.DType, f.data[i.Offset:i.Offset+i.Size], out); err != nil {
		return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	return out, i.Shape, nil
}
