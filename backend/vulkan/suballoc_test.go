package vulkan

import (
	"math/rand/v2"
	"testing"
)

// TestSpans allocates and frees random ranges and checks that live ranges
// never overlap, alignment holds, and everything coalesces back into one
// free span.
func TestSpans(t *testing.T) {
	const size = 1 << 20
	s := newSpans(size)
	r := rand.New(rand.NewPCG(1, 2))
	type live struct{ off, size uint64 }
	var ls []live
	for step := range 5000 {
		if len(ls) > 0 && (r.IntN(2) == 0 || step > 4000) {
			i := r.IntN(len(ls))
			s.release(ls[i].off, ls[i].size)
			ls = append(ls[:i], ls[i+1:]...)
			continue
		}
		n := uint64(1 + r.IntN(40000))
		align := uint64(1) << r.IntN(9)
		off, ok := s.alloc(n, align)
		if !ok {
			continue
		}
		if off%align != 0 || off+n > size {
			t.Fatalf("alloc(%d, %d) = %d", n, align, off)
		}
		for _, l := range ls {
			if off < l.off+l.size && l.off < off+n {
				t.Fatalf("[%d,%d) overlaps live [%d,%d)", off, off+n, l.off, l.off+l.size)
			}
		}
		ls = append(ls, live{off, n})
	}
	for _, l := range ls {
		s.release(l.off, l.size)
	}
	if !s.empty() || len(s.free) != 1 || s.free[0] != (span{0, size}) {
		t.Fatalf("after freeing everything: used %d, free %v", s.used, s.free)
	}
	if _, ok := s.alloc(size+1, 1); ok {
		t.Error("allocated more than the block")
	}
}
