package torchpickle

import (
	"testing"
)

// checkStateDict asserts what every successful parse guarantees: each
// tensor holds exactly the bytes its dtype and shape need.
func checkStateDict(t *testing.T, sd *StateDict) {
	if len(sd.Names) != len(sd.Tensors) {
		t.Fatalf("%d names for %d tensors", len(sd.Names), len(sd.Tensors))
	}
	for _, name := range sd.Names {
		x := sd.Tensors[name]
		if want := x.NumElements() * x.DType.Size(); len(x.Data) != want {
			t.Fatalf("tensor %q: %d bytes for %v %v, want %d", name, len(x.Data), x.DType, x.Shape, want)
		}
	}
}

func seedPickles() [][]byte {
	strided := newPickle().op('}').str("state_dict").op('}', '(')
	strided.str("module.a").tensor("FloatStorage", "0", 8, 1, []int{2, 3}, []int{1, 2})
	strided.str("module.b").tensor("HalfStorage", "1", 4, 0, []int{2, 2}, []int{2, 1})
	strided.op('u', 's')
	legacyObj := newPickle().op('}', '(').str("x").global("torch._utils", "_rebuild_tensor_v2").op('(')
	legacyObj.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(8)
	legacyObj.str("v").int(2).int(3).op(0x87, 't', 'Q')
	legacyObj.int(0).ints(3).ints(1).op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R', 'u')
	return [][]byte{strided.stop(), legacyObj.stop()}
}

// FuzzParse feeds arbitrary files to the checkpoint reader: an error or a
// consistent state dict, never a panic, hang or outsized allocation.
func FuzzParse(f *testing.F) {
	seeds := seedPickles()
	store := map[string][]byte{"0": f32bytes(0, 1, 2, 3, 4, 5, 6, 7), "1": f32bytes(1, 2)}
	f.Add(zipCheckpoint(f, seeds[0], store))
	f.Add(legacyCheckpoint(seeds[1], []string{"0"}, f32bytes(0, 1, 2, 3, 4, 5, 6, 7)))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err == nil {
			checkStateDict(t, sd)
		}
	})
}

// FuzzPickle fuzzes the unpickler behind a valid zip container (whose CRCs
// would otherwise stop most mutations early): the program runs against two
// storages "0" (8 floats) and "1" (4 halves).
func FuzzPickle(f *testing.F) {
	for _, s := range seedPickles() {
		f.Add(s)
	}
	f.Add(newPickle().global("os", "system").str("true").op(0x85, 'R').stop())
	store := map[string][]byte{"0": f32bytes(0, 1, 2, 3, 4, 5, 6, 7), "1": f32bytes(1, 2)}
	f.Fuzz(func(t *testing.T, pkl []byte) {
		sd, err := Parse(zipCheckpoint(t, pkl, store))
		if err == nil {
			checkStateDict(t, sd)
		}
	})
}
