package idembed_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestTorchCheckpoints loads the face models from the PyTorch files next to
// the goldens (zip and legacy formats, with and without DataParallel's
// `module.` prefix, a joint CLIP .pt with shared RoPE storages) and checks
// every tensor equals the safetensors one and the loaded nets agree.
func TestTorchCheckpoints(t *testing.T) {
	b := cpu.New()
	x := func(shape ...int) backend.Tensor {
		v := make([]float32, backend.NumElements(shape))
		for i := range v {
			v[i] = float32((i*7919)%255)/127.5 - 1
		}
		return b.FromF32(shape, v)
	}
	type forward func(src weights.Source) ([]float32, error)
	read := func(t backend.Tensor, err error) ([]float32, error) {
		if err != nil {
			return nil, err
		}
		return b.ReadF32(t)
	}
	retina := func(src weights.Source) ([]float32, error) {
		m, err := retinaface.Load(b, src)
		if err != nil {
			return nil, err
		}
		out, err := m.Forward(x(1, 3, 40, 36))
		return read(out.Loc, err)
	}
	parse := func(src weights.Source) ([]float32, error) {
		m, err := bisenet.Load(b, src)
		if err != nil {
			return nil, err
		}
		out, err := m.Forward(x(1, 3, 48, 40))
		return read(out.Out, err)
	}
	vision := func(src weights.Source) ([]float32, error) {
		m, err := eva.Load(b, src)
		if err != nil {
			return nil, err
		}
		out, err := m.Forward(x(1, 3, 84, 84), nil)
		return read(out.Embed, err)
	}
	cases := []struct {
		dir, torch string
		run        forward
	}{
		{"retinaface", "weights.pth", retina},
		{"retinaface", "weights_module_prefix.pth", retina},
		{"bisenet", "weights.pth", parse},
		{"bisenet", "weights_legacy.pth", parse},
		{"eva", "weights.pt", vision},
	}
	for _, tc := range cases {
		t.Run(tc.dir+"/"+tc.torch, func(t *testing.T) {
			st := open(t, filepath.Join(tc.dir, "weights.safetensors"))
			src, c, err := idembed.OpenCheckpoint(testenv.Golden(t, tc.dir, tc.torch))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, n := range st.Names() {
				want, _ := st.Bytes(n)
				got, err := src.Bytes(n)
				wi, _ := st.Info(n)
				gi, ok := src.Info(n)
				if err != nil || !ok || !slices.Equal(got, want) || gi.DType != wi.DType || !slices.Equal(gi.Shape, wi.Shape) {
					t.Fatalf("tensor %q differs from the safetensors one (%v)", n, err)
				}
			}
			want, err := tc.run(st)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.run(src)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatal("outputs differ between the torch and safetensors loads")
			}
		})
	}
	// A safetensors path goes through weights.Open.
	src, c, err := idembed.OpenCheckpoint(testenv.Golden(t, "bisenet", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := bisenet.Load(b, src); err != nil {
		t.Fatal(err)
	}
	if _, _, err := idembed.OpenCheckpoint(filepath.Join(testenv.Golden(t), "missing.pth")); err == nil {
		t.Error("a missing file opened")
	}
}
