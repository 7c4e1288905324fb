package safetensors

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the header parser: it must return an
// error or a File whose every tensor can be read, never panic.
func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	Write(&b, map[string]Tensor{
		"w": BF16Tensor([]int{2, 2}, []float32{1, 2, 3, 4}),
		"x": F32Tensor([]int{3}, []float32{1, 2, 3}),
	}, map[string]string{"k": "v"})
	f.Add(b.Bytes())
	f.Add(withHeader(`{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}`, 4))
	f.Add(withHeader(`{"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"__metadata__":{}}`, 8))
	f.Add(withHeader(`{}`, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, n := range file.Names() {
			info, _ := file.Info(n)
			raw, err := file.Bytes(n)
			if err != nil || int64(len(raw)) != info.Size {
				t.Fatalf("tensor %q: %d bytes, info %+v, err %v", n, len(raw), info, err)
			}
			if info.DType.IsFloat() {
				file.F32(n)
			} else {
				file.I64(n)
			}
		}
	})
}
