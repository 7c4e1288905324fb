package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// Tensor is one entry to write.
type Tensor struct {
	DType dtype.DType
	Shape []int
	Data  []byte // little-endian, len = numel * DType.Size()
}

// F32Tensor encodes float32 values.
func F32Tensor(shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{DType: dtype.F32, Shape: shape, Data: b}
}

// BF16Tensor rounds float32 values to bfloat16.
func BF16Tensor(shape []int, v []float32) Tensor {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], dtype.F32ToBF16(x))
	}
	return Tensor{DType: dtype.BF16, Shape: shape, Data: b}
}

// Write encodes tensors (sorted by name) and metadata to w. The header is
// padded with spaces to a multiple of 8 bytes so the data stays aligned.
func Write(w io.Writer, tensors map[string]Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, n := range names {
		t := tensors[n]
		count := int64(1)
		for _, d := range t.Shape {
			count *= int64(d)
		}
		if want := count * int64(t.DType.Size()); want != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for %v %v, want %d", n, len(t.Data), t.DType, t.Shape, want)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[n] = map[string]any{"dtype": t.DType.String(), "shape": shape, "data_offsets": [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	if pad := (8 - len(hb)%8) % 8; pad > 0 {
		hb = append(hb, bytes.Repeat([]byte{' '}, pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := w.Write(tensors[n].Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes tensors to path.
func WriteFile(path string, tensors map[string]Tensor, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, tensors, metadata); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
