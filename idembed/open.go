package idembed

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/fluxpulid/fluxpulid/torchpickle"
	"github.com/fluxpulid/fluxpulid/weights"
)

// OpenCheckpoint opens a face-model checkpoint as a weights.Source: a
// safetensors file (or sharded folder), or a PyTorch pickle (.pth/.pt, zip or
// legacy format; torchpickle unwraps {"model"|"module"|"state_dict": …} and
// a DataParallel `module.` prefix), recognised by content. Close the
// returned closer when the models are loaded.
func OpenCheckpoint(path string) (weights.Source, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	st, _ := f.Stat()
	f.Close()
	head = head[:n]
	isTorch := bytes.HasPrefix(head, []byte("PK\x03\x04")) || (len(head) > 0 && head[0] == 0x80)
	if st != nil && st.IsDir() || !isTorch {
		s, err := weights.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		return s, s, nil
	}
	sd, err := torchpickle.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return TorchSource(sd), io.NopCloser(nil), nil
}

// TorchSource views a decoded PyTorch state dict as a weights.Source.
func TorchSource(sd *torchpickle.StateDict) weights.Source { return torchSource{sd} }

type torchSource struct{ sd *torchpickle.StateDict }

func (s torchSource) Names() []string { return slices.Clone(s.sd.Names) }

func (s torchSource) Info(name string) (weights.Info, bool) {
	t, ok := s.sd.Tensors[name]
	if !ok {
		return weights.Info{}, false
	}
	return weights.Info{DType: t.DType, Shape: t.Shape}, true
}

func (s torchSource) Bytes(name string) ([]byte, error) {
	t, ok := s.sd.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	return t.Data, nil
}
