package cpu_test

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/backend/optest"
)

// TestOps runs the op suite on the fast CPU backend.
func TestOps(t *testing.T) { optest.Run(t, cpu.New()) }

// BenchmarkOps measures the op suite on the fast CPU backend:
// go test ./backend/cpu -run '^$' -bench 'Ops/matmul'.
func BenchmarkOps(b *testing.B) { optest.Bench(b, cpu.New()) }
