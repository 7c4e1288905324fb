package vulkan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/fluxpulid/fluxpulid/backend/vulkan/vk"
	"github.com/fluxpulid/fluxpulid/shaders"
)

// device is an opened logical device with its queue, memory pools,
// pipelines and the command buffer being recorded. Every method expects
// mu to be held.
type device struct {
	mu    sync.Mutex
	phys  physical
	dev   vk.Device
	queue vk.Queue

	memType     uint32 // memory type of tensors
	hostVisible bool   // tensors are mappable (UMA, lavapipe, resizable BAR)
	coherent    bool
	stagingType uint32 // host-visible coherent type for transfers
	chunkShift  uint   // log2 of the chunk size in bytes

	allocated    uint64 // bytes of live chunks
	blocks       []*memBlock
	blockSize    uint64 // size of the shared blocks; chunks up to a quarter of it share them
	free         map[uint64][]*chunk
	freeBytes    uint64
	retired      []*chunk // unreferenced, possibly still read by recorded commands
	retiredBytes uint64

	collectedMu sync.Mutex
	collected   []*handle // storages of tensors found unreachable

	cache   vk.PipelineCache
	modules map[string]vk.ShaderModule
	layouts map[int]*pipeLayout
	pipes   map[pipeKey]vk.Pipeline

	cmdPool   vk.CommandPool
	cmd       vk.CommandBuffer
	fence     vk.Fence
	recording bool
	pools     []vk.DescriptorPool
	pool      int                 // index of the pool sets come from
	dirty     map[*chunk]struct{} // written since the last barrier
	queued    int                 // dispatches recorded since the last sync

	// flushBytes bounds retiredBytes: past it the recorded work is
	// submitted so that memory can be reused.
	flushBytes uint64
}

// Options tune a device for tests; the zero value is the default.
type Options struct {
	// ChunkBytes, when non-zero, caps the chunk size (a power of two ≥
	// 256), so that small tensors exercise the multi-buffer paths.
	ChunkBytes uint64
	// Staging forces transfers through staging buffers even when the
	// tensor memory is host-visible, to test the discrete-GPU path.
	Staging bool
}

func openDevice(spec string, opt Options) (*device, error) {
	p, err := selectDevice(spec)
	if err != nil {
		return nil, err
	}
	prio := float32(1)
	qinfo := vk.DeviceQueueCreateInfo{
		SType: vk.StructureTypeDeviceQueueCreateInfo, QueueFamilyIndex: p.family, QueueCount: 1, PQueuePriorities: &prio,
	}
	dev, err := p.pd.CreateDevice(&vk.DeviceCreateInfo{
		SType: vk.StructureTypeDeviceCreateInfo, QueueCreateInfoCount: 1, PQueueCreateInfos: &qinfo,
	})
	if err != nil {
		return nil, fmt.Errorf("vulkan: open %s: %w", p.info.Name, err)
	}
	d := &device{
		phys: p, dev: dev, queue: dev.Queue(p.family, 0),
		free: map[uint64][]*chunk{}, modules: map[string]vk.ShaderModule{},
		layouts: map[int]*pipeLayout{}, pipes: map[pipeKey]vk.Pipeline{},
		dirty: map[*chunk]struct{}{}, flushBytes: 1 << 30,
	}
	if err := d.init(opt); err != nil {
		d.destroy()
		return nil, fmt.Errorf("vulkan: open %s: %w", p.info.Name, err)
	}
	return d, nil
}

func (d *device) init(opt Options) error {
	mem := d.phys.mem
	find := func(want vk.MemoryPropertyFlags) int {
		for i := uint32(0); i < mem.MemoryTypeCount; i++ {
			if mem.MemoryTypes[i].PropertyFlags&want == want {
				return int(i)
			}
		}
		return -1
	}
	st := find(vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit)
	if st < 0 {
		return errors.New("no host-visible coherent memory type")
	}
	d.stagingType = uint32(st)
	mt := find(vk.MemoryPropertyDeviceLocalBit)
	if mt < 0 {
		mt = st
	}
	d.memType = uint32(mt)
	flags := mem.MemoryTypes[mt].PropertyFlags
	d.hostVisible = flags&vk.MemoryPropertyHostVisibleBit != 0 && !opt.Staging
	d.coherent = flags&vk.MemoryPropertyHostCoherentBit != 0
	d.blockSize = 64 << 20
	if h := mem.MemoryHeaps[mem.MemoryTypes[mt].HeapIndex].Size; h >= 8<<30 {
		d.blockSize = 256 << 20
	}

	// A chunk must fit one descriptor's range and one allocation; 1 GiB
	// keeps single allocations modest on large GPUs.
	limit := min(d.phys.info.MaxStorageBufferRange, uint64(1)<<30)
	if d.phys.maxAloc > 0 {
		limit = min(limit, d.phys.maxAloc)
	}
	if opt.ChunkBytes != 0 {
		if opt.ChunkBytes < 256 || opt.ChunkBytes&(opt.ChunkBytes-1) != 0 {
			return fmt.Errorf("chunk size %d is not a power of two ≥ 256", opt.ChunkBytes)
		}
		limit = min(limit, opt.ChunkBytes)
	}
	d.chunkShift = uint(bits.Len64(limit) - 1)

	var err error
	if d.cache, err = d.dev.CreatePipelineCache(&vk.PipelineCacheCreateInfo{SType: vk.StructureTypePipelineCacheCreateInfo}); err != nil {
		return err
	}
	if d.cmdPool, err = d.dev.CreateCommandPool(&vk.CommandPoolCreateInfo{
		SType: vk.StructureTypeCommandPoolCreateInfo, Flags: vk.CommandPoolCreateResetCommandBufferBit,
		QueueFamilyIndex: d.phys.family,
	}); err != nil {
		return err
	}
	cbs, err := d.dev.AllocateCommandBuffers(&vk.CommandBufferAllocateInfo{
		SType: vk.StructureTypeCommandBufferAllocateInfo, CommandPool: d.cmdPool,
		Level: vk.CommandBufferLevelPrimary, CommandBufferCount: 1,
	})
	if err != nil {
		return err
	}
	d.cmd = cbs[0]
	d.fence, err = d.dev.CreateFence(&vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo})
	return err
}

func (d *device) destroy() {
	if d.dev == 0 {
		return
	}
	d.dev.WaitIdle()
	d.releaseChunks(d.retired)
	d.retired = nil
	d.trimFree(0)
	for len(d.blocks) > 0 {
		d.freeBlock(d.blocks[0])
	}
	for _, p := range d.pipes {
		d.dev.DestroyPipeline(p)
	}
	for _, l := range d.layouts {
		d.dev.DestroyPipelineLayout(l.layout)
		d.dev.DestroyDescriptorSetLayout(l.set)
	}
	for _, m := range d.modules {
		d.dev.DestroyShaderModule(m)
	}
	for _, p := range d.pools {
		d.dev.DestroyDescriptorPool(p)
	}
	if d.fence != 0 {
		d.dev.DestroyFence(d.fence)
	}
	if d.cmdPool != 0 {
		d.dev.DestroyCommandPool(d.cmdPool)
	}
	if d.cache != 0 {
		d.dev.DestroyPipelineCache(d.cache)
	}
	d.dev.Destroy()
	d.dev = 0
}

// ---- pipelines ----

// pipeLayout is the descriptor-set and pipeline layout shared by every
// shader with the same number of tensor bindings: binding i is an array of
// maxChunks storage buffers, and all shaders take a 128-byte push-constant
// block.
type pipeLayout struct {
	set    vk.DescriptorSetLayout
	layout vk.PipelineLayout
}

// Specialisation constant ids shared with shaders/common.glsl: 0 is the
// chunk size (log2 of 32-bit words), 1+i tells binding i that its tensor
// spans several chunks, and specUser+j are the shader's own constants.
const (
	specChunkShift = 0
	specUser       = 16
	maxUserSpecs   = 4
)

type pipeKey struct {
	shader string
	multi  uint32 // bit i: binding i spans several chunks
	spec   [maxUserSpecs]uint32
}

func (d *device) layoutFor(n int) (*pipeLayout, error) {
	if l, ok := d.layouts[n]; ok {
		return l, nil
	}
	bs := make([]vk.DescriptorSetLayoutBinding, n)
	for i := range bs {
		bs[i] = vk.DescriptorSetLayoutBinding{
			Binding: uint32(i), DescriptorType: vk.DescriptorTypeStorageBuffer,
			DescriptorCount: maxChunks, StageFlags: vk.ShaderStageComputeBit,
		}
	}
	set, err := d.dev.CreateDescriptorSetLayout(&vk.DescriptorSetLayoutCreateInfo{
		SType: vk.StructureTypeDescriptorSetLayoutCreateInfo, BindingCount: uint32(n), PBindings: &bs[0],
	})
	if err != nil {
		return nil, err
	}
	pc := vk.PushConstantRange{StageFlags: vk.ShaderStageComputeBit, Size: minPushConstants}
	layout, err := d.dev.CreatePipelineLayout(&vk.PipelineLayoutCreateInfo{
		SType: vk.StructureTypePipelineLayoutCreateInfo, SetLayoutCount: 1, PSetLayouts: &set,
		PushConstantRangeCount: 1, PPushConstantRanges: &pc,
	})
	if err != nil {
		d.dev.DestroyDescriptorSetLayout(set)
		return nil, err
	}
	l := &pipeLayout{set: set, layout: layout}
	d.layouts[n] = l
	return l, nil
}

func (d *device) pipeline(k pipeKey, nbind int) (vk.Pipeline, error) {
	if p, ok := d.pipes[k]; ok {
		return p, nil
	}
	mod, ok := d.modules[k.shader]
	if !ok {
		code, err := shaders.SPIRV(k.shader)
		if err != nil {
			return 0, err
		}
		mod, err = d.dev.CreateShaderModule(&vk.ShaderModuleCreateInfo{
			SType: vk.StructureTypeShaderModuleCreateInfo, CodeSize: uintptr(4 * len(code)), PCode: &code[0],
		})
		if err != nil {
			return 0, fmt.Errorf("shader %s: %w", k.shader, err)
		}
		d.modules[k.shader] = mod
	}
	l, err := d.layoutFor(nbind)
	if err != nil {
		return 0, err
	}
	// Every constant is 4 bytes (uint32 or a 32-bit bool); shaders that do
	// not declare an id ignore its entry.
	var data []uint32
	var entries []vk.SpecializationMapEntry
	add := func(id, v uint32) {
		entries = append(entries, vk.SpecializationMapEntry{ConstantID: id, Offset: uint32(4 * len(data)), Size: 4})
		data = append(data, v)
	}
	add(specChunkShift, uint32(d.chunkShift-2))
	for i := range nbind {
		add(uint32(1+i), k.multi>>i&1)
	}
	for j, v := range k.spec {
		add(uint32(specUser+j), v)
	}
	spec := vk.SpecializationInfo{
		MapEntryCount: uint32(len(entries)), PMapEntries: &entries[0],
		DataSize: uintptr(4 * len(data)), PData: unsafe.Pointer(&data[0]),
	}
	ps, err := d.dev.CreateComputePipelines(d.cache, []vk.ComputePipelineCreateInfo{{
		SType: vk.StructureTypeComputePipelineCreateInfo,
		Stage: vk.PipelineShaderStageCreateInfo{
			SType: vk.StructureTypePipelineShaderStageCreateInfo, Stage: vk.ShaderStageComputeBit,
			Module: mod, PName: vk.CString("main"), PSpecializationInfo: &spec,
		},
		Layout:            l.layout,
		BasePipelineIndex: -1,
	}})
	if err != nil {
		return 0, fmt.Errorf("pipeline %s: %w", k.shader, err)
	}
	d.pipes[k] = ps[0]
	return ps[0], nil
}

// ---- recording ----

// begin opens the command buffer if it is not recording yet.
func (d *device) begin() error {
	if d.recording {
		return nil
	}
	if err := d.cmd.Begin(&vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo, Flags: vk.CommandBufferUsageOneTimeSubmitBit,
	}); err != nil {
		return err
	}
	d.recording = true
	return nil
}

// descriptorSet allocates a set of layout l, growing the pool chain as
// needed. Pools are reset at every synchronisation.
func (d *device) descriptorSet(l *pipeLayout) (vk.DescriptorSet, error) {
	for {
		if d.pool == len(d.pools) {
			const sets = 256
			size := vk.DescriptorPoolSize{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: sets * 8 * maxChunks}
			p, err := d.dev.CreateDescriptorPool(&vk.DescriptorPoolCreateInfo{
				SType: vk.StructureTypeDescriptorPoolCreateInfo, MaxSets: sets, PoolSizeCount: 1, PPoolSizes: &size,
			})
			if err != nil {
				return 0, err
			}
			d.pools = append(d.pools, p)
		}
		sets, err := d.dev.AllocateDescriptorSets(&vk.DescriptorSetAllocateInfo{
			SType: vk.StructureTypeDescriptorSetAllocateInfo, DescriptorPool: d.pools[d.pool],
			DescriptorSetCount: 1, PSetLayouts: &l.set,
		})
		if err == nil {
			return sets[0], nil
		}
		if !errors.Is(err, vk.ErrorOutOfPoolMemory) && !errors.Is(err, vk.ErrorFragmentedPool) {
			return 0, err
		}
		d.pool++
	}
}

// arg is one tensor binding of a dispatch.
type arg struct {
	st    *storage
	write bool
}

func in(st *storage) arg  { return arg{st: st} }
func out(st *storage) arg { return arg{st: st, write: true} }

// dispatch records one compute dispatch of shader over the bindings args
// (binding i is args[i]), with push constants and user specialisation
// constants. A barrier precedes it when it touches a buffer written since
// the last barrier.
func (d *device) dispatch(shader string, args []arg, push []byte, spec []uint32, gx, gy, gz uint32) error {
	if gx == 0 || gy == 0 || gz == 0 {
		return nil
	}
	lim := d.phys.info.MaxWorkGroupCount
	if gx > lim[0] || gy > lim[1] || gz > lim[2] {
		return fmt.Errorf("%s: %d×%d×%d workgroups exceed the device's %v", shader, gx, gy, gz, lim)
	}
	if len(push) > minPushConstants {
		return fmt.Errorf("%s: %d bytes of push constants", shader, len(push))
	}
	k := pipeKey{shader: shader}
	copy(k.spec[:], spec)
	for i, a := range args {
		if len(a.st.chunks) > 1 {
			k.multi |= 1 << i
		}
	}
	pipe, err := d.pipeline(k, len(args))
	if err != nil {
		return err
	}
	l := d.layouts[len(args)]
	set, err := d.descriptorSet(l)
	if err != nil {
		return err
	}
	infos := make([]vk.DescriptorBufferInfo, len(args)*maxChunks)
	writes := make([]vk.WriteDescriptorSet, len(args))
	barrier := false
	for i, a := range args {
		if len(a.st.chunks) == 0 {
			return fmt.Errorf("%s: binding %d uses a freed tensor", shader, i)
		}
		for j := range maxChunks {
			c := a.st.chunks[0]
			if j < len(a.st.chunks) {
				c = a.st.chunks[j]
				if _, ok := d.dirty[c]; ok {
					barrier = true
				}
			}
			infos[i*maxChunks+j] = vk.DescriptorBufferInfo{Buffer: c.buf, Range: vk.WholeSize}
		}
		writes[i] = vk.WriteDescriptorSet{
			SType: vk.StructureTypeWriteDescriptorSet, DstSet: set, DstBinding: uint32(i),
			DescriptorCount: maxChunks, DescriptorType: vk.DescriptorTypeStorageBuffer,
			PBufferInfo: &infos[i*maxChunks],
		}
	}
	d.dev.UpdateDescriptorSets(writes)
	if err := d.begin(); err != nil {
		return err
	}
	if barrier {
		d.cmd.PipelineBarrier(vk.PipelineStageComputeShaderBit, vk.PipelineStageComputeShaderBit, 0,
			[]vk.MemoryBarrier{{
				SType:         vk.StructureTypeMemoryBarrier,
				SrcAccessMask: vk.AccessShaderWriteBit,
				DstAccessMask: vk.AccessShaderReadBit | vk.AccessShaderWriteBit,
			}}, nil)
		clear(d.dirty)
	}
	d.cmd.BindPipeline(vk.PipelineBindPointCompute, pipe)
	d.cmd.BindDescriptorSets(vk.PipelineBindPointCompute, l.layout, 0, []vk.DescriptorSet{set})
	if len(push) > 0 {
		d.cmd.PushConstants(l.layout, vk.ShaderStageComputeBit, 0, push)
	}
	d.cmd.Dispatch(gx, gy, gz)
	for _, a := range args {
		if a.write {
			for _, c := range a.st.chunks {
				d.dirty[c] = struct{}{}
			}
		}
	}
	d.queued++
	return nil
}

// groups1D spreads n items over workgroups of wg invocations in a 2-D grid
// (x ≤ 65535, the minimum maxComputeWorkGroupCount); shaders rebuild the
// linear index as (y·numX + x)·wg + local.
func groups1D(n, wg int) (uint32, uint32) {
	g := (n + wg - 1) / wg
	if g <= 65535 {
		return uint32(g), 1
	}
	return 65535, uint32((g + 65534) / 65535)
}

// syncLocked submits the recorded commands and waits for them; afterwards
// retired buffers are free for reuse. readback, if not nil, records
// transfers before the submission (used by staged reads).
func (d *device) syncLocked() error { return d.submit(nil) }

func (d *device) submit(extra func(vk.CommandBuffer)) error {
	if !d.recording && extra == nil {
		d.recycle()
		return nil
	}
	if err := d.begin(); err != nil {
		return err
	}
	if extra != nil {
		d.cmd.PipelineBarrier(vk.PipelineStageComputeShaderBit, vk.PipelineStageTransferBit, 0,
			[]vk.MemoryBarrier{{SType: vk.StructureTypeMemoryBarrier, SrcAccessMask: vk.AccessShaderWriteBit, DstAccessMask: vk.AccessTransferReadBit}}, nil)
		extra(d.cmd)
	}
	// Device writes become visible to host reads of mapped memory only
	// through a barrier to the host stage before the fence.
	d.cmd.PipelineBarrier(vk.PipelineStageComputeShaderBit|vk.PipelineStageTransferBit, vk.PipelineStageHostBit, 0,
		[]vk.MemoryBarrier{{
			SType: vk.StructureTypeMemoryBarrier, SrcAccessMask: vk.AccessShaderWriteBit | vk.AccessTransferWriteBit,
			DstAccessMask: vk.AccessHostReadBit,
		}}, nil)
	d.recording = false
	if err := d.cmd.End(); err != nil {
		return err
	}
	if err := d.queue.Submit([]vk.SubmitInfo{{
		SType: vk.StructureTypeSubmitInfo, CommandBufferCount: 1, PCommandBuffers: &d.cmd,
	}}, d.fence); err != nil {
		return err
	}
	if err := d.dev.WaitForFences([]vk.Fence{d.fence}, true, math.MaxUint64); err != nil {
		return err
	}
	if err := d.dev.ResetFences([]vk.Fence{d.fence}); err != nil {
		return err
	}
	if err := d.cmd.Reset(0); err != nil {
		return err
	}
	d.recycle()
	return nil
}

// recycle runs after the queue is idle: descriptor pools, retired buffers
// and the barrier tracking start afresh.
func (d *device) recycle() {
	for i := 0; i <= d.pool && i < len(d.pools); i++ {
		d.dev.ResetDescriptorPool(d.pools[i])
	}
	d.pool = 0
	clear(d.dirty)
	d.queued = 0
	d.releaseChunks(d.retired)
	d.retired = d.retired[:0]
	d.retiredBytes = 0
	// Keep at most as much free memory as is in use, so that a model's
	// recurring activation sizes are reused without hoarding.
	if d.freeBytes > d.allocated-d.freeBytes {
		d.trimFree(d.allocated - d.freeBytes)
	}
}

// oneShot records fn into a temporary command buffer, submits it and
// waits. It is used for uploads through staging buffers, which must not
// wait for the main command buffer.
func (d *device) oneShot(fn func(vk.CommandBuffer)) error {
	cbs, err := d.dev.AllocateCommandBuffers(&vk.CommandBufferAllocateInfo{
		SType: vk.StructureTypeCommandBufferAllocateInfo, CommandPool: d.cmdPool,
		Level: vk.CommandBufferLevelPrimary, CommandBufferCount: 1,
	})
	if err != nil {
		return err
	}
	defer d.dev.FreeCommandBuffers(d.cmdPool, cbs)
	cb := cbs[0]
	if err := cb.Begin(&vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo, Flags: vk.CommandBufferUsageOneTimeSubmitBit,
	}); err != nil {
		return err
	}
	fn(cb)
	if err := cb.End(); err != nil {
		return err
	}
	f, err := d.dev.CreateFence(&vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo})
	if err != nil {
		return err
	}
	defer d.dev.DestroyFence(f)
	if err := d.queue.Submit([]vk.SubmitInfo{{
		SType: vk.StructureTypeSubmitInfo, CommandBufferCount: 1, PCommandBuffers: &cb,
	}}, f); err != nil {
		return err
	}
	return d.dev.WaitForFences([]vk.Fence{f}, true, math.MaxUint64)
}

// read synchronises and returns the payload bytes of st.
func (d *device) read(st *storage) ([]byte, error) {
	out := make([]byte, st.bytes)
	cb := d.chunkBytes()
	if d.hostVisible {
		if err := d.syncLocked(); err != nil {
			return nil, err
		}
		if err := d.invalidate(st.chunks); err != nil {
			return nil, err
		}
		for i, c := range st.chunks {
			lo := uint64(i) * cb
			copy(out[lo:min(lo+cb, st.bytes)], c.bytes())
		}
		return out, nil
	}
	stg := make([]*chunk, len(st.chunks))
	defer func() {
		for _, c := range stg {
			if c != nil {
				d.destroyChunk(c)
			}
		}
	}()
	for i, c := range st.chunks {
		var err error
		if stg[i], err = d.createChunk(c.size, d.stagingType, true); err != nil {
			return nil, err
		}
	}
	err := d.submit(func(cmd vk.CommandBuffer) {
		for i, c := range st.chunks {
			cmd.CopyBuffer(c.buf, stg[i].buf, []vk.BufferCopy{{Size: c.size}})
		}
	})
	if err != nil {
		return nil, err
	}
	for i, c := range stg {
		lo := uint64(i) * cb
		copy(out[lo:min(lo+cb, st.bytes)], c.bytes())
	}
	return out, nil
}

// push builds a push-constant block of 32-bit values.
type push []byte

func (p push) u(vs ...int) push {
	for _, v := range vs {
		p = binary.LittleEndian.AppendUint32(p, uint32(v))
	}
	return p
}

func (p push) f(vs ...float32) push {
	for _, v := range vs {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(v))
	}
	return p
}
