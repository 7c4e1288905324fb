package vulkan

import (
	"os"
	"testing"
	"time"

	"github.com/fluxpulid/fluxpulid/shaders"
)

// TestCompileTimes reports how long the driver takes to build each
// pipeline (run with MESA_SHADER_CACHE_DISABLE=true for cold numbers).
func TestCompileTimes(t *testing.T) {
	if os.Getenv("FLUXPULID_COMPILE_TIMES") == "" {
		t.Skip("set FLUXPULID_COMPILE_TIMES=1")
	}
	b, err := New("")
	if err != nil {
		t.Skip(err)
	}
	defer b.Close()
	for _, name := range shaders.Names() {
		t0 := time.Now()
		if _, err := b.d.pipeline(pipeKey{shader: name}, 5); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%-16s %v", name, time.Since(t0))
	}
}
