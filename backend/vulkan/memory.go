package vulkan

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"unsafe"

	"github.com/fluxpulid/fluxpulid/backend/vulkan/vk"
)

// maxChunks is the number of storage-buffer descriptors every tensor
// binding of the shaders has (NCHUNK in shaders/common.glsl). A tensor
// larger than one chunk spans up to maxChunks buffers; the shaders pick
// the buffer from the high bits of the element index.
const maxChunks = 4

// chunk is one VkBuffer, bound either to its own allocation (blk nil) or
// at an offset of a shared memory block.
type chunk struct {
	buf    vk.Buffer
	mem    vk.DeviceMemory // the allocation the buffer is bound to
	blk    *memBlock
	off    uint64         // offset in blk
	resv   uint64         // bytes reserved in blk
	size   uint64         // bytes of the buffer
	mapped unsafe.Pointer // persistent mapping when the memory is host-visible
}

// memBlock is a large allocation of the tensor memory type that small
// chunks share (see spans).
type memBlock struct {
	mem    vk.DeviceMemory
	spans  *spans
	mapped unsafe.Pointer
}

func (c *chunk) bytes() []byte { return unsafe.Slice((*byte)(c.mapped), c.size) }

// storage is the device memory of a tensor; reshaped views share it.
type storage struct {
	chunks []*chunk
	bytes  uint64 // payload bytes
	refs   int    // live tensors referring to it
}

// sizeClass rounds an allocation up so that buffers of nearly equal size
// are interchangeable in the free lists: to 256 bytes below 64 KiB, then
// to 1/16 of the next power of two.
func sizeClass(n uint64) uint64 {
	if n < 1<<16 {
		return max((n+255)&^255, 256)
	}
	step := uint64(1) << (bits.Len64(n-1) - 4)
	return (n + step - 1) &^ (step - 1)
}

// chunkBytes is the byte size of each full chunk.
func (d *device) chunkBytes() uint64 { return uint64(1) << d.chunkShift }

// newStorage allocates device memory for n payload bytes, split into
// chunks of chunkBytes.
func (d *device) newStorage(n uint64) (*storage, error) {
	cb := d.chunkBytes()
	nch := max(int((n+cb-1)/cb), 1)
	if nch > maxChunks {
		return nil, fmt.Errorf("tensor of %d bytes exceeds %d chunks of %d bytes (the storage-buffer range of %s)",
			n, maxChunks, cb, d.phys.info.Name)
	}
	if d.retiredBytes > d.flushBytes {
		// Much memory waits for recorded work to finish: run it now so
		// that the memory can be reused.
		if err := d.syncLocked(); err != nil {
			return nil, err
		}
	}
	st := &storage{bytes: n, refs: 1}
	for i := range nch {
		size := cb
		if i == nch-1 {
			size = n - uint64(i)*cb
		}
		c, err := d.allocChunk(sizeClass(max(size, 4)))
		if err != nil {
			d.releaseChunks(st.chunks)
			return nil, err
		}
		st.chunks = append(st.chunks, c)
	}
	return st, nil
}

// allocChunk returns a buffer of size bytes, reusing a freed one of the
// same size class when there is one. When the device runs out of memory it
// synchronises, drops the free lists and tries once more (after a garbage
// collection, whose cleanups release unreachable tensors at the next op).
func (d *device) allocChunk(size uint64) (*chunk, error) {
	if l := d.free[size]; len(l) > 0 {
		c := l[len(l)-1]
		d.free[size] = l[:len(l)-1]
		d.freeBytes -= size
		return c, nil
	}
	c, err := d.createChunk(size, d.memType, d.hostVisible)
	if errors.Is(err, vk.ErrorOutOfDeviceMemory) || errors.Is(err, vk.ErrorOutOfHostMemory) {
		runtime.GC() // cleanups of unreachable tensors only queue their storage
		if err := d.syncLocked(); err != nil {
			return nil, err
		}
		d.trimFree(0)
		c, err = d.createChunk(size, d.memType, d.hostVisible)
	}
	return c, err
}

// createChunk creates a buffer bound to a new allocation of memory type mt.
func (d *device) createChunk(size uint64, mt uint32, mapIt bool) (*chunk, error) {
	usage := vk.BufferUsageStorageBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit
	b, err := d.dev.CreateBuffer(&vk.BufferCreateInfo{
		SType: vk.StructureTypeBufferCreateInfo, Size: size, Usage: usage, SharingMode: vk.SharingModeExclusive,
	})
	if err != nil {
		return nil, err
	}
	req := d.dev.BufferMemoryRequirements(b)
	if req.MemoryTypeBits&(1<<mt) == 0 {
		d.dev.DestroyBuffer(b)
		return nil, fmt.Errorf("vulkan: buffer cannot live in memory type %d (allowed %#x)", mt, req.MemoryTypeBits)
	}
	if mt == d.memType && mapIt == d.hostVisible && req.Size <= d.blockSize/4 {
		blk, off, err := d.subAlloc(req)
		if err != nil {
			d.dev.DestroyBuffer(b)
			return nil, err
		}
		c := &chunk{buf: b, mem: blk.mem, blk: blk, off: off, resv: req.Size, size: size}
		if err := d.dev.BindBufferMemory(b, blk.mem, off); err != nil {
			d.destroyChunk(c)
			return nil, err
		}
		if blk.mapped != nil {
			c.mapped = unsafe.Add(blk.mapped, off)
		}
		d.allocated += size
		return c, nil
	}
	m, err := d.dev.AllocateMemory(&vk.MemoryAllocateInfo{
		SType: vk.StructureTypeMemoryAllocateInfo, AllocationSize: req.Size, MemoryTypeIndex: mt,
	})
	if err != nil {
		d.dev.DestroyBuffer(b)
		return nil, err
	}
	c := &chunk{buf: b, mem: m, size: size}
	if err := d.dev.BindBufferMemory(b, m, 0); err != nil {
		d.destroyChunk(c)
		return nil, err
	}
	if mapIt {
		if c.mapped, err = d.dev.MapMemory(m, 0, vk.WholeSize); err != nil {
			d.destroyChunk(c)
			return nil, err
		}
	}
	d.allocated += size
	return c, nil
}

// subAlloc reserves req in a shared block, creating a block when none has
// room.
func (d *device) subAlloc(req vk.MemoryRequirements) (*memBlock, uint64, error) {
	for _, blk := range d.blocks {
		if off, ok := blk.spans.alloc(req.Size, max(req.Alignment, 1)); ok {
			return blk, off, nil
		}
	}
	m, err := d.dev.AllocateMemory(&vk.MemoryAllocateInfo{
		SType: vk.StructureTypeMemoryAllocateInfo, AllocationSize: d.blockSize, MemoryTypeIndex: d.memType,
	})
	if err != nil {
		return nil, 0, err
	}
	blk := &memBlock{mem: m, spans: newSpans(d.blockSize)}
	if d.hostVisible {
		if blk.mapped, err = d.dev.MapMemory(m, 0, vk.WholeSize); err != nil {
			d.dev.FreeMemory(m)
			return nil, 0, err
		}
	}
	d.blocks = append(d.blocks, blk)
	off, _ := blk.spans.alloc(req.Size, max(req.Alignment, 1))
	return blk, off, nil
}

func (d *device) destroyChunk(c *chunk) {
	d.dev.DestroyBuffer(c.buf)
	if c.blk != nil {
		c.blk.spans.release(c.off, c.resv)
		if c.blk.spans.empty() && len(d.blocks) > 1 {
			d.freeBlock(c.blk)
		}
	} else {
		if c.mapped != nil {
			d.dev.UnmapMemory(c.mem)
		}
		d.dev.FreeMemory(c.mem)
	}
	if d.allocated >= c.size {
		d.allocated -= c.size
	}
}

func (d *device) freeBlock(blk *memBlock) {
	for i, b := range d.blocks {
		if b == blk {
			d.blocks = append(d.blocks[:i], d.blocks[i+1:]...)
			break
		}
	}
	if blk.mapped != nil {
		d.dev.UnmapMemory(blk.mem)
	}
	d.dev.FreeMemory(blk.mem)
}

// releaseChunks returns chunks that no queued command uses to the free lists.
func (d *device) releaseChunks(cs []*chunk) {
	for _, c := range cs {
		d.free[c.size] = append(d.free[c.size], c)
		d.freeBytes += c.size
	}
}

// trimFree destroys free buffers until at most keep bytes remain.
func (d *device) trimFree(keep uint64) {
	for size, l := range d.free {
		for len(l) > 0 && d.freeBytes > keep {
			d.destroyChunk(l[len(l)-1])
			l = l[:len(l)-1]
			d.freeBytes -= size
		}
		d.free[size] = l
	}
}

// retain and release count the tensors that share a storage. The chunks of
// an unreferenced storage may still be read by recorded commands, so they
// wait in retired until the next synchronisation.
func (d *device) release(st *storage) {
	st.refs--
	if st.refs > 0 || st.chunks == nil {
		return
	}
	for _, c := range st.chunks {
		d.retired = append(d.retired, c)
		d.retiredBytes += c.size
	}
	st.chunks = nil
}

// drainCollected releases the storages of tensors the garbage collector
// found unreachable (queued by their cleanups, which may run on any
// goroutine).
func (d *device) drainCollected() {
	d.collectedMu.Lock()
	l := d.collected
	d.collected = nil
	d.collectedMu.Unlock()
	for _, h := range l {
		if !h.freed {
			h.freed = true
			d.release(h.st)
		}
	}
}

// upload copies host bytes into st. With host-visible device memory this
// is a plain copy; otherwise the bytes go through staging buffers and a
// one-off submission (the storage is new, so no queued work depends on it).
func (d *device) upload(st *storage, src []byte) error {
	cb := d.chunkBytes()
	if d.hostVisible {
		for i, c := range st.chunks {
			lo := uint64(i) * cb
			copy(c.bytes(), src[lo:min(lo+cb, uint64(len(src)))])
		}
		return d.flush(st.chunks)
	}
	for i, c := range st.chunks {
		lo := uint64(i) * cb
		part := src[lo:min(lo+cb, uint64(len(src)))]
		if len(part) == 0 {
			continue
		}
		stg, err := d.createChunk(sizeClass(uint64(len(part))), d.stagingType, true)
		if err != nil {
			return err
		}
		copy(stg.bytes(), part)
		err = d.flush([]*chunk{stg})
		if err == nil {
			err = d.oneShot(func(cmd vk.CommandBuffer) {
				cmd.CopyBuffer(stg.buf, c.buf, []vk.BufferCopy{{Size: uint64(len(part))}})
			})
		}
		d.destroyChunk(stg)
		if err != nil {
			return err
		}
	}
	return nil
}

// flush makes host writes to non-coherent mapped memory visible.
func (d *device) flush(cs []*chunk) error {
	if d.coherent {
		return nil
	}
	r := make([]vk.MappedMemoryRange, len(cs))
	for i, c := range cs {
		r[i] = vk.MappedMemoryRange{SType: vk.StructureTypeMappedMemoryRange, Memory: c.mem, Size: vk.WholeSize}
	}
	return d.dev.FlushMappedMemoryRanges(r)
}

// invalidate makes device writes to non-coherent mapped memory visible to
// the host.
func (d *device) invalidate(cs []*chunk) error {
	if d.coherent {
		return nil
	}
	r := make([]vk.MappedMemoryRange, len(cs))
	for i, c := range cs {
		r[i] = vk.MappedMemoryRange{SType: vk.StructureTypeMappedMemoryRange, Memory: c.mem, Size: vk.WholeSize}
	}
	return d.dev.InvalidateMappedMemoryRanges(r)
}
