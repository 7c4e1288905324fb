package backend

import (
	"fmt"
	"strings"
	"testing"
)

// TestRules checks each operand rule's output geometry on fitting shapes
// (hand-derived) and its error on shapes that do not fit.
func TestRules(t *testing.T) {
	conv := ConvOptions{Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}.Normalized()
	cases := []struct {
		name string
		run  func() any
		want string // the result printed with %v, or the error's text
	}{
		{"rows", func() any { r, n := Rows([]int{2, 3, 4}); return []int{r, n} }, "[6 4]"},
		{"rows/scalar", func() any { r, n := Rows(nil); return []int{r, n} }, "[1 1]"},
		{"matmul", func() any {
			batch, m, k, n := MatMulShape("matmul", []int{2, 1, 3, 4}, []int{5, 5, 4})
			return []any{batch, m, k, n}
		}, "[[2 5] 3 4 5]"},
		{"matmul/rank", func() any { MatMulShape("matmul", []int{4}, []int{5, 4}); return nil }, "matmul: operands need rank ≥ 2"},
		{"matmul/inner", func() any { MatMulShape("matmul", []int{3, 4}, []int{5, 3}); return nil }, "matmul: inner dims differ"},
		{"matmul/batch", func() any { MatMulShape("matmul", []int{2, 3, 4}, []int{3, 5, 4}); return nil }, "matmul: batch dims"},
		{"linear", func() any { n, k := LinearShape("linear", []int{2, 7, 4}, []int{3, 4}); return []int{n, k} }, "[3 4]"},
		{"linear/misfit", func() any { LinearShape("linear", []int{2, 5}, []int{3, 4}); return nil }, "linear: x [2 5] does not fit weight [3 4]"},
		{"concat", func() any {
			axis, s := ConcatShape("concat", -1, []int{2, 3}, []int{2, 5})
			return []any{axis, s}
		}, "[1 [2 8]]"},
		{"concat/none", func() any { ConcatShape("concat", 0); return nil }, "concat: no operands"},
		{"concat/rank", func() any { ConcatShape("concat", 0, []int{2, 3}, []int{2}); return nil }, "concat: ranks differ"},
		{"concat/off-axis", func() any { ConcatShape("concat", 1, []int{2, 3}, []int{4, 3}); return nil }, "concat: shapes [2 3] and [4 3] differ off axis 1"},
		{"slice", func() any { axis, s := SliceShape("slice", []int{4, 10}, 1, 1, 8, 3); return []any{axis, s} }, "[1 [4 3]]"},
		{"slice/range", func() any { SliceShape("slice", []int{4, 10}, 1, 2, 11, 1); return nil }, "slice: range [2:11:1] out of bounds"},
		{"slice/step", func() any { SliceShape("slice", []int{4, 10}, 0, 0, 4, 0); return nil }, "slice: range [0:4:0]"},
		{"pad", func() any { return PadShape("pad", []int{3, 4}, []int{1, -1}, []int{0, 2}) }, "[4 5]"},
		{"pad/rank", func() any { return PadShape("pad", []int{3, 4}, []int{1}, []int{0, 2}) }, "pad: pads [1]/[0 2] for rank 2"},
		{"pad/crop", func() any { return PadShape("pad", []int{3, 4}, []int{-2, 0}, []int{-2, 0}) }, "pad: pads [-2 0]/[-2 0] crop [3 4] below zero"},
		{"conv2d", func() any {
			oh, ow := Conv2DShape("conv2d", []int{1, 3, 7, 8}, []int{6, 3, 3, 3}, conv)
			return []int{oh, ow}
		}, "[4 4]"},
		{"conv2d/channels", func() any { Conv2DShape("conv2d", []int{1, 4, 7, 8}, []int{6, 3, 3, 3}, conv); return nil }, "conv2d: x [1 4 7 8], w [6 3 3 3]"},
		{"conv2d/groups", func() any {
			g := conv
			g.Groups = 4
			Conv2DShape("conv2d", []int{1, 12, 7, 8}, []int{6, 3, 3, 3}, g)
			return nil
		}, "conv2d: x [1 12 7 8]"},
		{"rope", func() any { return RoPEShape("rope", []int{2, 3, 5, 8}, []int{5, 4}, []int{5, 4}) }, "false"},
		{"rope/batched", func() any { return RoPEShape("rope", []int{2, 3, 5, 8}, []int{2, 5, 4}, []int{2, 5, 4}) }, "true"},
		{"rope/odd", func() any { return RoPEShape("rope", []int{2, 3, 5, 7}, []int{5, 3}, []int{5, 3}) }, "rope: x [2 3 5 7] must be [B, H, L, D] with even D"},
		{"rope/tables", func() any { return RoPEShape("rope", []int{2, 3, 5, 8}, []int{5, 4}, []int{4, 4}) }, "rope: cos/sin [5 4], [4 4] for x [2 3 5 8]: want [5 4]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			got := func() (v any) {
				defer Catch(&err)
				return tc.run()
			}()
			if err != nil {
				if !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("error %q, want it to begin %q", err, tc.want)
				}
				return
			}
			if s := fmt.Sprint(got); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}
