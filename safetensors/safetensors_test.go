package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
)

func encode(t *testing.T, tensors map[string]Tensor, meta map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	buf := encode(t, map[string]Tensor{
		"a": F32Tensor([]int{2, 3}, []float32{1, 2, 3, 4, 5, -6}),
		"b": BF16Tensor([]int{2}, []float32{1.5, -0.25}),
		"s": F32Tensor([]int{}, []float32{7}),
	}, map[string]string{"kind": "test"})
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Metadata["kind"]; got != "test" {
		t.Errorf("metadata kind = %q", got)
	}
	if got := strings.Join(f.Names(), ","); got != "a,b,s" {
		t.Errorf("names = %s", got)
	}
	a, shape, err := f.F32("a")
	if err != nil || len(shape) != 2 || shape[1] != 3 || a[5] != -6 {
		t.Errorf("a = %v %v %v", a, shape, err)
	}
	b, _, _ := f.F32("b")
	if b[0] != 1.5 || b[1] != -0.25 {
		t.Errorf("b = %v", b)
	}
	s, shape, _ := f.F32("s")
	if len(shape) != 0 || s[0] != 7 {
		t.Errorf("scalar = %v %v", s, shape)
	}
	if info, _ := f.Info("b"); info.DType != dtype.BF16 {
		t.Errorf("b dtype %v", info.DType)
	}
	if _, err := f.Bytes("missing"); err == nil {
		t.Error("Bytes of a missing tensor succeeded")
	}
}

func withHeader(h string, data int) []byte {
	b := make([]byte, 8+len(h)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	copy(b[8:], h)
	return b
}

func TestCorrupt(t *testing.T) {
	cases := []struct {
		name, want string
		buf        []byte
	}{
		{"short", "shorter", []byte{1, 2}},
		{"huge header", "exceeds", func() []byte { b := make([]byte, 16); binary.LittleEndian.PutUint64(b, 1<<40); return b }()},
		{"header past end", "past the end", func() []byte { b := make([]byte, 16); binary.LittleEndian.PutUint64(b, 100); return b }()},
		{"bad json", "header", withHeader(`{"a":`, 0)},
		{"bad dtype", "unknown dtype", withHeader(`{"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}}`, 4)},
		{"size mismatch", "needs 8", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8)},
		{"out of range", "run past", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4)},
		{"negative dim", "out of range", withHeader(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, 8)},
		{"reversed offsets", "invalid data_offsets", withHeader(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, 8)},
		{"overlap", "overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8)},
		{"bad metadata", "__metadata__", withHeader(`{"__metadata__":{"a":1}}`, 0)},
		{"overflowing shape", "too many", withHeader(`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, 8)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.buf)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "none")); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	p := filepath.Join(dir, "empty")
	os.WriteFile(p, nil, 0o644)
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("Open of an empty file: %v", err)
	}
}
