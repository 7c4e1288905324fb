// Package randweights builds stand-in checkpoints of a model's real size
// from its list of tensor shapes, for benchmarks and shape tests that must
// not download the real files: seeded uniform values scaled by
// 1/√fan_in, positive BatchNorm variances, zero step counters.
package randweights

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Map returns tensors of the given shapes stored as dt (F32, F16 or BF16).
func Map(shapes map[string][]int, dt dtype.DType, seed uint64) weights.Map {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	if dt != dtype.F16 && dt != dtype.BF16 {
		dt = dtype.F32
	}
	r := rand.New(rand.NewPCG(seed, 0))
	m := weights.Map{}
	for _, name := range names {
		shape := shapes[name]
		n := 1
		for _, d := range shape {
			n *= d
		}
		if strings.HasSuffix(name, "num_batches_tracked") {
			m[name] = weights.Tensor{Info: weights.Info{DType: dtype.I64, Shape: shape}, Data: make([]byte, 8*n)}
			continue
		}
		fanIn := 1
		for _, d := range shape[min(1, len(shape)):] {
			fanIn *= d
		}
		scale := 1 / math.Sqrt(float64(fanIn))
		data := make([]byte, n*dt.Size())
		for i := range n {
			v := float32((2*r.Float64() - 1) * scale)
			switch {
			case strings.HasSuffix(name, "running_var"):
				v = 0.5 + float32(r.Float64())
			case len(shape) == 1 && strings.HasSuffix(name, ".weight"):
				v = 1 + v/10 // a norm's scale
			}
			switch dt {
			case dtype.F16:
				binary.LittleEndian.PutUint16(data[2*i:], dtype.F32ToF16(v))
			case dtype.BF16:
				binary.LittleEndian.PutUint16(data[2*i:], dtype.F32ToBF16(v))
			default:
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
			}
		}
		m[name] = weights.Tensor{Info: weights.Info{DType: dt, Shape: shape}, Data: data}
	}
	return m
}
