package conformance_test

import (
	"os"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	_ "github.com/fluxpulid/fluxpulid/backend/cpu"
	_ "github.com/fluxpulid/fluxpulid/backend/vulkan"
	"github.com/fluxpulid/fluxpulid/conformance"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
)

// testBackends are the backends every case runs on: the CPU always, and
// each device backend that opens here (required under CI=true).
func testBackends(t *testing.T) []backend.Backend {
	var bs []backend.Backend
	for _, name := range backend.Registered() {
		if name == "cpu-reference" {
			continue // the op suite covers it; models run too slowly on it
		}
		b, err := backend.Open(name)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("backend %s: %v", name, err)
			}
			t.Logf("SKIPPING backend %s: %v", name, err)
			continue
		}
		bs = append(bs, b)
	}
	return bs
}

func TestGolden(t *testing.T) {
	dir := testenv.Golden(t)
	paths, err := conformance.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no case_*.safetensors under %s", dir)
	}
	bs := testBackends(t)
	for _, p := range paths {
		c, err := conformance.Open(p, dir)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for _, b := range bs {
			t.Run(c.Name+"/"+b.Name(), func(t *testing.T) {
				r := conformance.Run(c, b)
				switch {
				case r.Status == conformance.NotImplemented:
					t.Fatalf("NOT IMPLEMENTED: %v", r.Err)
				case r.Status == conformance.Unsupported && b.Name() != "cpu":
					t.Skipf("UNSUPPORTED on %s: %v", b.Name(), r.Err)
				case r.Status == conformance.Error:
					t.Fatalf("error: %v", r.Err)
				}
				for _, tr := range r.Tensors {
					if !tr.Pass {
						t.Errorf("%s: %d/%d elements outside atol %g rtol %g (max abs %.3g, max rel %.3g) %s",
							tr.Name, tr.Bad, tr.Compared, tr.Atol, tr.Rtol, tr.MaxAbs, tr.MaxRel, tr.Note)
					} else {
						t.Logf("%s: max abs %.3g, max rel %.3g (atol %g, rtol %g)", tr.Name, tr.MaxAbs, tr.MaxRel, tr.Atol, tr.Rtol)
					}
				}
			})
		}
		c.Close()
	}
}
