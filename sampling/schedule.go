package sampling

import (
	"fmt"
	"math"
)

// Defaults of flux.sampling.get_schedule: the shift mu grows linearly with
// the number of image tokens from BaseShift at 256 tokens to MaxShift at
// 4096 tokens.
const (
	BaseShift       = 0.5
	MaxShift        = 1.15
	baseShiftSeqLen = 256
	maxShiftSeqLen  = 4096
)

// LinFunction is get_lin_function(x1, y1, x2, y2): the line through
// (x1, y1) and (x2, y2), in python doubles: m = (y2-y1)/(x2-x1),
// b = y1 - m*x1, f(x) = m*x + b (each product rounded on its own).
func LinFunction(x1, y1, x2, y2 float64) func(x float64) float64 {
	m := (y2 - y1) / (x2 - x1)
	b := y1 - float64(m*x1)
	return func(x float64) float64 { return float64(m*x) + b }
}

// Mu is the schedule shift for an image of imageSeqLen tokens:
// get_lin_function(y1=baseShift, y2=maxShift)(imageSeqLen).
func Mu(imageSeqLen int, baseShift, maxShift float64) float64 {
	return LinFunction(baseShiftSeqLen, baseShift, maxShiftSeqLen, maxShift)(float64(imageSeqLen))
}

// LinspaceF32 is torch.linspace(start, end, steps) for a float32 tensor on
// the CPU (torch 1.13 linspace_kernel with 8-lane vectors). The first half
// counts up from start and the second half down from end, with
// step = (end - start)/(steps - 1) in float32. Runs of 16 elements are
// filled as two 8-lane vectors, each lane base + k*step from the base of
// its vector; the rest one at a time. Products that meet a sum are fused,
// as GCC compiles the AVX2 kernel (-mfma, -ffp-contract=fast); the golden
// schedules come out bit-identical with or without that fusion.
func LinspaceF32(start, end float32, steps int) ([]float32, error) {
	if steps < 0 {
		return nil, fmt.Errorf("linspace: number of steps must be non-negative, got %d", steps)
	}
	out := make([]float32, steps)
	if steps == 0 {
		return out, nil
	}
	if steps == 1 {
		out[0] = start
		return out, nil
	}
	step := (end - start) / float32(steps-1)
	half := steps / 2
	at := func(idx int) float32 {
		if idx < half {
			return fma32(step, float32(idx), start)
		}
		return fma32(-step, float32(steps-idx-1), end)
	}
	const lanes = 8
	i := 0
	for ; i+2*lanes <= steps; i += 2 * lanes {
		for _, v := range [2]int{i, i + lanes} {
			base := at(v)
			out[v] = base
			out[v+1] = base + step
			for k := 2; k < lanes; k++ {
				out[v+k] = fma32(float32(k), step, base)
			}
		}
	}
	for ; i < steps; i++ {
		out[i] = at(i)
	}
	return out, nil
}

// TimeShift is flux.sampling.time_shift(mu, sigma, t) on a float32 tensor:
// exp(mu) / (exp(mu) + (1/t - 1)^sigma), evaluated as torch does it op by
// op in float32. exp(mu) is a python double, rounded to float32 where it
// meets the tensor; 1/t is a float32 reciprocal; a python scalar divided
// by a tensor is reciprocal(tensor) * scalar. t = 0 gives exactly 0
// (1/0 = inf), t = 1 gives exp(mu) * (1/exp(mu)).
func TimeShift(mu, sigma float64, t []float32) []float32 {
	e := float32(math.Exp(mu))
	out := make([]float32, len(t))
	for i, v := range t {
		a := 1/v - 1
		d := e + powScalarF32(a, sigma)
		out[i] = (1 / d) * e
	}
	return out
}

// powScalarF32 is torch.pow(float32 tensor, python scalar) for one element,
// with torch's special cases for common exponents.
func powScalarF32(x float32, p float64) float32 {
	switch p {
	case 0:
		return 1
	case 1:
		return x
	case 2:
		return float32(x * x)
	case 3:
		return float32(float32(x*x) * x)
	case 0.5:
		return float32(math.Sqrt(float64(x)))
	case -0.5:
		return 1 / float32(math.Sqrt(float64(x)))
	case -1:
		return 1 / x
	case -2:
		return 1 / float32(x*x)
	}
	return float32(math.Pow(float64(x), float64(float32(p))))
}

// ScheduleOptions are the arguments of get_schedule after num_steps and
// image_seq_len.
type ScheduleOptions struct {
	BaseShift, MaxShift float64
	// NoShift returns the plain linspace(1, 0, num_steps+1) (shift=False).
	NoShift bool
}

// DefaultSchedule is get_schedule's default: shifted, base 0.5, max 1.15.
var DefaultSchedule = ScheduleOptions{BaseShift: BaseShift, MaxShift: MaxShift}

// Schedule is flux.sampling.get_schedule(numSteps, imageSeqLen, ...): the
// numSteps+1 timesteps from exactly 1 down to exactly 0, float32 values as
// the reference returns them (a float32 tensor's .tolist()). imageSeqLen is
// the number of image tokens, (latent_h/2)*(latent_w/2).
func Schedule(numSteps, imageSeqLen int, opt ScheduleOptions) ([]float32, error) {
	if numSteps < 1 {
		return nil, fmt.Errorf("schedule: num_steps must be at least 1, got %d", numSteps)
	}
	if imageSeqLen < 1 {
		return nil, fmt.Errorf("schedule: image_seq_len must be at least 1, got %d", imageSeqLen)
	}
	ts, err := LinspaceF32(1, 0, numSteps+1)
	if err != nil {
		return nil, err
	}
	if opt.NoShift {
		return ts, nil
	}
	return TimeShift(Mu(imageSeqLen, opt.BaseShift, opt.MaxShift), 1, ts), nil
}
