package vulkan

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/optest"
)

// TestOpSuite runs the project's op suite (every op against the CPU
// reference, with output poisoning) on the device, once with default
// chunks and once with 128 KiB chunks, so that the suite's larger operands
// span several buffers.
func TestOpSuite(t *testing.T) {
	bs := testBackends(t)
	for _, name := range []string{"default", "suite-chunked"} {
		t.Run(name, func(t *testing.T) { optest.Run(t, bs[name]) })
	}
}

func BenchmarkOps(b *testing.B) {
	bk, err := New("")
	if err != nil {
		b.Skip(err)
	}
	defer bk.Close()
	optest.Bench(b, bk)
}
