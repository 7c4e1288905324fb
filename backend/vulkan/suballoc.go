package vulkan

import "sort"

// spans is a first-fit allocator of byte ranges within one block of device
// memory. Drivers cap the number of live VkDeviceMemory allocations
// (maxMemoryAllocationCount is 4096 on some), and a full FLUX + PuLID model
// set has about 4000 weight tensors, so tensors share large allocations
// instead of owning one each; every tensor chunk still has its own
// VkBuffer, bound at its offset.
type spans struct {
	size uint64
	free []span // sorted by offset, never adjacent (coalesced)
	used uint64
}

type span struct{ off, size uint64 }

func newSpans(size uint64) *spans {
	return &spans{size: size, free: []span{{0, size}}}
}

// alloc returns the offset of size bytes aligned to align (a power of
// two), or false when no free span fits.
func (s *spans) alloc(size, align uint64) (uint64, bool) {
	for i, f := range s.free {
		off := (f.off + align - 1) &^ (align - 1)
		if off+size > f.off+f.size {
			continue
		}
		// Split f into the padding before off, the allocation, and the rest.
		var repl []span
		if off > f.off {
			repl = append(repl, span{f.off, off - f.off})
		}
		if end := off + size; end < f.off+f.size {
			repl = append(repl, span{end, f.off + f.size - end})
		}
		s.free = append(s.free[:i], append(repl, s.free[i+1:]...)...)
		s.used += size
		return off, true
	}
	return 0, false
}

// release returns [off, off+size) and merges it with free neighbours.
func (s *spans) release(off, size uint64) {
	i := sort.Search(len(s.free), func(i int) bool { return s.free[i].off > off })
	n := span{off, size}
	if i > 0 && s.free[i-1].off+s.free[i-1].size == off {
		i--
		n = span{s.free[i].off, s.free[i].size + size}
		s.free = append(s.free[:i], s.free[i+1:]...)
	}
	if i < len(s.free) && n.off+n.size == s.free[i].off {
		n.size += s.free[i].size
		s.free = append(s.free[:i], s.free[i+1:]...)
	}
	s.free = append(s.free[:i], append([]span{n}, s.free[i:]...)...)
	s.used -= size
}

// empty reports whether nothing is allocated.
func (s *spans) empty() bool { return s.used == 0 }
