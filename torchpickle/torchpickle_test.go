package torchpickle

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// TestGoldenCheckpoints loads the torch.save files beside the goldens and
// requires EXACTLY the tensors of the safetensors file they were saved
// from: same key set (after the reader's module. stripping), dtype, shape
// and bytes. The EVA file is a whole CLIP checkpoint: its visual.* part is
// the safetensors file, and the text tower and logit_scale come in addition
// (eva/MANIFEST.md).
func TestGoldenCheckpoints(t *testing.T) {
	golden := testenv.Golden(t)
	tests := []struct {
		pth, st string
		extra   int    // tensors beyond the safetensors file
		extraOf string // ... all with this prefix or named logit_scale
	}{
		{"bisenet/weights.pth", "bisenet/weights.safetensors", 0, ""},
		{"bisenet/weights_legacy.pth", "bisenet/weights.safetensors", 0, ""},
		{"retinaface/weights.pth", "retinaface/weights.safetensors", 0, ""},
		{"retinaface/weights_module_prefix.pth", "retinaface/weights.safetensors", 0, ""},
		{"eva/weights.pt", "eva/weights.safetensors", 580 - 562, "text."},
	}
	for _, tt := range tests {
		t.Run(tt.pth, func(t *testing.T) {
			sd, err := Open(filepath.Join(golden, tt.pth))
			if err != nil {
				t.Fatal(err)
			}
			st, err := safetensors.Open(filepath.Join(golden, tt.st))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if len(sd.Skipped) != 0 {
				t.Errorf("skipped non-tensor entries %v", sd.Skipped)
			}
			if got, want := len(sd.Names), len(st.Names())+tt.extra; got != want {
				t.Errorf("%d tensors, want %d", got, want)
			}
			for _, name := range st.Names() {
				info, _ := st.Info(name)
				want, _ := st.Bytes(name)
				got := sd.Tensors[name]
				if got == nil {
					t.Errorf("missing %q", name)
					continue
				}
				if got.DType != info.DType || !reflect.DeepEqual(got.Shape, info.Shape) {
					t.Errorf("%q: %v %v, want %v %v", name, got.DType, got.Shape, info.DType, info.Shape)
					continue
				}
				if !bytes.Equal(got.Data, want) {
					t.Errorf("%q: data differs", name)
				}
			}
			for _, name := range sd.Names {
				if _, ok := st.Info(name); ok {
					continue
				}
				if tt.extraOf == "" || !(strings.HasPrefix(name, tt.extraOf) || name == "logit_scale") {
					t.Errorf("unexpected tensor %q", name)
				}
			}
		})
	}
}

// TestEVASharedStorage: every rope buffer of the EVA checkpoint views one
// storage per table (eva/MANIFEST.md), so equal keys must give equal data.
func TestEVASharedStorage(t *testing.T) {
	sd, err := Open(testenv.Golden(t, "eva", "weights.pt"))
	if err != nil {
		t.Fatal(err)
	}
	ref := sd.Tensors["visual.rope.freqs_cos"]
	blk := sd.Tensors["visual.blocks.7.attn.rope.freqs_cos"]
	if ref == nil || blk == nil || !bytes.Equal(ref.Data, blk.Data) {
		t.Fatal("rope tables differ between the shared module and block 7")
	}
	ls := sd.Tensors["logit_scale"]
	if ls == nil || ls.DType != dtype.F16 || len(ls.Shape) != 0 || len(ls.Data) != 2 {
		t.Errorf("logit_scale = %+v, want an F16 scalar", ls)
	}
}

// TestStridedAndWrapped builds a checkpoint whose tensors are a transposed
// view at an offset, a second view of the same storage and a scalar, inside
// {"state_dict": {"module.<name>": ...}, "epoch": 3}, and checks the
// contiguous results element by element.
func TestStridedAndWrapped(t *testing.T) {
	// storage: 0 1 2 3 4 5 6 7
	store := f32bytes(0, 1, 2, 3, 4, 5, 6, 7)
	p := newPickle().op('}').str("epoch").int(3).op('s').str("state_dict")
	p.global("collections", "OrderedDict").op(')', 'R', '(')
	// a = storage[1:7] viewed as (2,3) with stride (1,2): a[i][j] = s[1 + i + 2j]
	p.str("module.a").tensor("FloatStorage", "0", 8, 1, []int{2, 3}, []int{1, 2})
	// b = storage[4:8] as a contiguous (2,2)
	p.str("module.b").tensor("FloatStorage", "0", 8, 4, []int{2, 2}, []int{2, 1})
	// c = scalar storage[7]
	p.str("module.c").tensor("FloatStorage", "0", 8, 7, nil, nil)
	// d: a broadcast (stride 0) view of element 2
	p.str("module.d").tensor("FloatStorage", "0", 8, 2, []int{3}, []int{0})
	p.op('u', 's')
	sd, err := Parse(zipCheckpoint(t, p.stop(), map[string][]byte{"0": store}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sd.Names, []string{"a", "b", "c", "d"}) {
		t.Fatalf("names %v", sd.Names)
	}
	want := map[string][]float32{"a": {1, 3, 5, 2, 4, 6}, "b": {4, 5, 6, 7}, "c": {7}, "d": {2, 2, 2}}
	shapes := map[string][]int{"a": {2, 3}, "b": {2, 2}, "c": {}, "d": {3}}
	for name, w := range want {
		got := sd.Tensors[name]
		if !reflect.DeepEqual(got.F32(), w) || !reflect.DeepEqual(got.Shape, shapes[name]) {
			t.Errorf("%s = %v %v, want %v %v", name, got.Shape, got.F32(), shapes[name], w)
		}
	}
}

// legacyCheckpoint lays out a pre-1.6 torch.save stream around an object
// pickle whose persistent ids carry view metadata.
func legacyCheckpoint(obj []byte, keys []string, storages ...[]byte) []byte {
	magic := []byte{0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'}
	proto := []byte{0x80, 2, 'M', 0xe9, 0x03, '.'}
	sys := newPickle().op('}').str("little_endian").op(0x88, 's').stop()
	kl := newPickle().op(']', '(')
	for _, k := range keys {
		kl.str(k)
	}
	var b []byte
	for _, part := range [][]byte{magic, proto, sys, obj, kl.op('e').stop()} {
		b = append(b, part...)
	}
	for _, s := range storages {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(s)/4))
		b = append(b, s...)
	}
	return b
}

func TestLegacyViews(t *testing.T) {
	// one root storage "r" of 6 floats; tensor x views elements [2, 5) of it
	// through the legacy view metadata ("v", 2, 3); y is the whole root.
	p := newPickle().op('}', '(')
	p.str("x").global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", "FloatStorage").str("r").str("cuda:0").int(6)
	p.str("v").int(2).int(3).op(0x87, 't', 'Q')
	p.int(0).ints(3).ints(1).op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	p.str("y").global("torch._utils", "_rebuild_tensor").op('(')
	p.op('(').str("storage").global("torch", "FloatStorage").str("r").str("cpu").int(6).op('N', 't', 'Q')
	p.int(0).ints(6).ints(1).op('t', 'R', 'u')
	file := legacyCheckpoint(p.stop(), []string{"r"}, f32bytes(10, 11, 12, 13, 14, 15))
	sd, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Tensors["x"].F32(); !reflect.DeepEqual(got, []float32{12, 13, 14}) {
		t.Errorf("x = %v", got)
	}
	if got := sd.Tensors["y"].F32(); !reflect.DeepEqual(got, []float32{10, 11, 12, 13, 14, 15}) {
		t.Errorf("y = %v", got)
	}
	// The element count written before the bytes must match the pickle.
	bad := bytes.Clone(file)
	binary.LittleEndian.PutUint64(bad[len(bad)-24-8:], 5)
	if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "file holds 5 elements, the pickle says 6") {
		t.Errorf("wrong element count: %v", err)
	}
}

// TestRefused: pickles that name or call anything outside the allow-list
// fail with an error naming it, inside either container.
func TestRefused(t *testing.T) {
	osSystem := newPickle().global("os", "system").str("echo pwned").op(0x85, 'R').stop()
	stackGlobal := append([]byte{0x80, 4}, newPickle().str("builtins").str("eval").op(0x93).str("1").op(0x85, 'R').stop()[2:]...)
	callStorage := newPickle().global("torch", "FloatStorage").int(3).op(0x85, 'R').stop()
	subprocess := newPickle().op('}').str("w").global("subprocess", "Popen").op('s').stop()
	inst := newPickle().op('(').op('i').op([]byte("os\nsystem\n")...).stop()
	ext := newPickle().op(0x82, 1).stop()
	buildOnStorage := newPickle().op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(1).op('t', 'Q', '}', 'b').stop()
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"os.system zip", zipCheckpoint(t, osSystem, nil), "global os.system"},
		{"builtins.eval stack global", zipCheckpoint(t, stackGlobal, nil), "global builtins.eval"},
		{"calling a storage class", zipCheckpoint(t, callStorage, nil), "calling torch.FloatStorage"},
		{"global as a value", zipCheckpoint(t, subprocess, nil), "global subprocess.Popen"},
		{"INST", zipCheckpoint(t, inst, nil), "INST/OBJ"},
		{"EXT1", zipCheckpoint(t, ext, nil), "EXT1"},
		{"os.system legacy", legacyCheckpoint(osSystem, nil), "global os.system"},
		{"BUILD on a storage", zipCheckpoint(t, buildOnStorage, map[string][]byte{"0": f32bytes(1)}), "BUILD on a storage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
			if tt.name != "BUILD on a storage" && !errors.Is(err, ErrForbidden) {
				t.Errorf("error %q is not ErrForbidden", err)
			}
		})
	}
}

// TestInvalid: corrupt checkpoints give errors naming the problem.
func TestInvalid(t *testing.T) {
	one := func(numel, offset int, size, stride []int) []byte {
		return newPickle().op('}').str("w").tensor("FloatStorage", "0", numel, offset, size, stride).op('s').stop()
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	zw.Create("archive/version")
	zw.Close()
	noPickle := zb.Bytes()
	good := zipCheckpoint(t, one(2, 0, []int{2}, []int{1}), map[string][]byte{"0": f32bytes(1, 2)})
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a PyTorch checkpoint"},
		{"text", []byte("hello"), "not a PyTorch checkpoint"},
		{"truncated zip", good[:len(good)-30], "zip"},
		{"no data.pkl", noPickle, "without a <dir>/data.pkl"},
		{"missing storage", zipCheckpoint(t, one(2, 0, []int{2}, []int{1}), nil), `no entry archive/data/0`},
		{"storage size", zipCheckpoint(t, one(3, 0, []int{2}, []int{1}), map[string][]byte{"0": f32bytes(1, 2)}),
			"has 8 bytes, F32[3] needs 12"},
		{"view past the end", zipCheckpoint(t, one(2, 1, []int{2}, []int{1}), map[string][]byte{"0": f32bytes(1, 2)}),
			"reaches past the end"},
		{"offset past the end", zipCheckpoint(t, one(2, 2, nil, nil), map[string][]byte{"0": f32bytes(1, 2)}),
			"offset 2 is past the end"},
		{"rank mismatch", zipCheckpoint(t, one(2, 0, []int{2}, []int{1, 1}), map[string][]byte{"0": f32bytes(1, 2)}),
			"differ in rank"},
		{"negative size", zipCheckpoint(t, one(2, 0, []int{-2}, []int{1}), map[string][]byte{"0": f32bytes(1, 2)}),
			"not a non-negative integer"},
		{"not a dict", zipCheckpoint(t, newPickle().op(']').stop(), nil), "holds a list"},
		{"int key", zipCheckpoint(t, newPickle().op('}').int(1).int(2).op('s').stop(), nil), "key 0 is not a string"},
		{"no stop", zipCheckpoint(t, newPickle().op('}').b, nil), "without STOP"},
		{"stack underflow", zipCheckpoint(t, newPickle().op('s').stop(), nil), "stack underflow"},
		{"memo miss", zipCheckpoint(t, newPickle().op('h', 9).stop(), nil), "memo key 9"},
		{"long string", zipCheckpoint(t, append(newPickle().op('X').b, 0xff, 0xff, 0xff, 0x7f), nil), "runs past the end"},
		{"bad magic", append([]byte{0x80, 2, 'K', 1, '.'}, 0), "magic number"},
		{"unknown storage type", zipCheckpoint(t, newPickle().global("torch", "ComplexFloatStorage").stop(), nil),
			"global torch.ComplexFloatStorage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file)
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	if sd, err := Parse(good); err != nil || !reflect.DeepEqual(sd.Tensors["w"].F32(), []float32{1, 2}) {
		t.Errorf("the valid baseline fails: %v", err)
	}
}

// BenchmarkOpen times reading the golden EVA checkpoint (zip, 580 tensors).
func BenchmarkOpen(b *testing.B) {
	path := testenv.Golden(b, "eva", "weights.pt")
	for b.Loop() {
		if _, err := Open(path); err != nil {
			b.Fatal(err)
		}
	}
}
