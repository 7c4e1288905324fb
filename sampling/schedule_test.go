package sampling

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestScheduleGolden(t *testing.T) {
	for _, f := range goldenCases(t, "sampling/schedule") {
		atol, rtol := metaFloat(t, f, "atol"), metaFloat(t, f, "rtol")
		p := params(t, f)
		steps, err := p["num_steps"].(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		seqLen, err := p["image_seq_len"].(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.Metadata["params"], func(t *testing.T) {
			// The python double mu is recorded exactly (repr round-trips).
			wantMu, err := strconv.ParseFloat(f.Metadata["mu_float64"], 64)
			if err != nil {
				t.Fatal(err)
			}
			mu := Mu(int(seqLen), BaseShift, MaxShift)
			if mu != wantMu {
				t.Errorf("mu = %v, want %v", mu, wantMu)
			}
			muF32, _ := tensor(t, f, "out.mu")
			allClose(t, "out.mu", []float32{float32(mu)}, muF32, atol, rtol)

			for _, c := range []struct {
				out string
				opt ScheduleOptions
			}{
				{"out.timesteps", DefaultSchedule},
				{"out.timesteps_noshift", ScheduleOptions{NoShift: true}},
			} {
				want, shape := tensor(t, f, c.out)
				got, err := Schedule(int(steps), int(seqLen), c.opt)
				if err != nil {
					t.Fatal(err)
				}
				if !sameShape(shape, len(got)) {
					t.Fatalf("%s: %d values, want shape %v", c.out, len(got), shape)
				}
				allClose(t, c.out, got, want, atol, rtol)
				if got[0] != 1 || got[len(got)-1] != 0 {
					t.Errorf("%s: runs from %v to %v, want exactly 1 to 0", c.out, got[0], got[len(got)-1])
				}
				logExact(t, c.out, got, want)
			}
		})
	}
}

func TestTimeShiftGolden(t *testing.T) {
	for _, f := range goldenCases(t, "sampling/time_shift") {
		atol, rtol := metaFloat(t, f, "atol"), metaFloat(t, f, "rtol")
		in, _ := tensor(t, f, "in.t")
		variants, ok := params(t, f)["variants"].(map[string]any)
		if !ok || len(variants) == 0 {
			t.Fatalf("%s: params has no variants", f.Path)
		}
		for name, v := range variants {
			args, ok := v.([]any)
			if !ok || len(args) != 2 {
				t.Fatalf("variant %s: want [mu, sigma], got %v", name, v)
			}
			mu, err1 := args[0].(json.Number).Float64()
			sigma, err2 := args[1].(json.Number).Float64()
			if err1 != nil || err2 != nil {
				t.Fatalf("variant %s: %v %v", name, err1, err2)
			}
			want, _ := tensor(t, f, "out."+name)
			got := TimeShift(mu, sigma, in)
			allClose(t, name, got, want, atol, rtol)
			logExact(t, name, got, want)
		}
	}
}

func logExact(t *testing.T, what string, got, want []float32) {
	t.Helper()
	n := 0
	for i := range got {
		if math.Float32bits(got[i]) == math.Float32bits(want[i]) {
			n++
		}
	}
	t.Logf("%s: %d of %d bit-identical", what, n, len(got))
}

func TestLinFunction(t *testing.T) {
	// Hand-derived: the line through (256, 0.5) and (4096, 1.15).
	tests := []struct {
		x, want float64
	}{
		{256, 0.5},
		{4096, 1.15},
		{2176, 0.825}, // midpoint
		{1024, 0.63},
	}
	f := LinFunction(256, 0.5, 4096, 1.15)
	for _, tc := range tests {
		if got := f(tc.x); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("f(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
}

func TestLinspaceF32(t *testing.T) {
	tests := []struct {
		start, end float32
		steps      int
		want       []float32
	}{
		{0, 1, 0, []float32{}},
		{3, 7, 1, []float32{3}},
		{1, 0, 2, []float32{1, 0}},
		{0, 4, 5, []float32{0, 1, 2, 3, 4}},
		// 17 values: a vectorised run of 16, then one scalar; exact steps.
		{0, 16, 17, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		{-1, 1, 5, []float32{-1, -0.5, 0, 0.5, 1}},
	}
	for _, tc := range tests {
		got, err := LinspaceF32(tc.start, tc.end, tc.steps)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("linspace(%v, %v, %d) has %d values", tc.start, tc.end, tc.steps, len(got))
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("linspace(%v, %v, %d)[%d] = %v, want %v", tc.start, tc.end, tc.steps, i, got[i], tc.want[i])
			}
		}
	}
	if _, err := LinspaceF32(0, 1, -1); err == nil {
		t.Error("negative steps accepted")
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ steps, seq int }{{0, 16}, {-3, 16}, {4, 0}} {
		if _, err := Schedule(tc.steps, tc.seq, DefaultSchedule); err == nil {
			t.Errorf("Schedule(%d, %d) accepted", tc.steps, tc.seq)
		}
	}
}

func TestTimeShiftEnds(t *testing.T) {
	// time_shift maps 0 to 0 (1/0 = inf) and is monotone; sigma = 1 with
	// mu = 0 is the identity up to float32 rounding: 1/(1 + 1/t - 1) = t.
	got := TimeShift(0, 1, []float32{0, 0.25, 0.5, 1})
	want := []float32{0, 0.25, 0.5, 1}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("TimeShift(0, 1, %v) = %v, want %v", want[i], got[i], want[i])
		}
	}
}
