package vk

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/fluxpulid/fluxpulid/shaders"
)

// requireVulkan returns an instance and its physical devices, or skips the
// test when this machine has no Vulkan loader or device — except under
// CI=true, where the device (lavapipe) is part of the test environment and
// its absence is a failure.
func requireVulkan(t *testing.T) (Instance, []PhysicalDevice) {
	t.Helper()
	miss := t.Skipf
	if os.Getenv("CI") == "true" {
		miss = t.Fatalf
	}
	inst, err := NewInstance("vk_test")
	if err != nil {
		miss("no Vulkan here: %v", err)
		return 0, nil
	}
	t.Cleanup(inst.Destroy)
	devs, err := inst.EnumeratePhysicalDevices()
	if err != nil || len(devs) == 0 {
		miss("no Vulkan device here: %v (%d devices)", err, len(devs))
		return 0, nil
	}
	return inst, devs
}

func TestResultError(t *testing.T) {
	tests := []struct {
		r    Result
		want string
	}{
		{Success, "VK_SUCCESS"},
		{ErrorOutOfDeviceMemory, "VK_ERROR_OUT_OF_DEVICE_MEMORY"},
		{ErrorOutOfPoolMemory, "VK_ERROR_OUT_OF_POOL_MEMORY"},
		{Result(-424242), "VkResult(-424242)"},
	}
	for _, tt := range tests {
		if got := tt.r.Error(); got != tt.want {
			t.Errorf("Result(%d).Error() = %q, want %q", int32(tt.r), got, tt.want)
		}
	}
	err := check("vkAllocateMemory", ErrorOutOfDeviceMemory)
	if got, want := err.Error(), "vkAllocateMemory: VK_ERROR_OUT_OF_DEVICE_MEMORY"; got != want {
		t.Errorf("check error = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrorOutOfDeviceMemory) {
		t.Errorf("errors.Is(%v, ErrorOutOfDeviceMemory) = false", err)
	}
	if check("vkCreateBuffer", Success) != nil {
		t.Error("check(Success) != nil")
	}
}

func TestMissingLoader(t *testing.T) {
	t.Setenv(LoaderEnv, filepath.Join(t.TempDir(), "libvulkan-absent.so"))
	_, err := openLoader()
	if !errors.Is(err, ErrNoLoader) {
		t.Fatalf("openLoader with an absent library: err = %v, want ErrNoLoader", err)
	}
}

func TestAPIVersion(t *testing.T) {
	v := MakeAPIVersion(1, 3, 239)
	if ma, mi, pa := APIVersion(v); ma != 1 || mi != 3 || pa != 239 {
		t.Errorf("APIVersion(MakeAPIVersion(1,3,239)) = %d.%d.%d", ma, mi, pa)
	}
	// VK_API_VERSION_1_1 is 0x00401000 in vulkan_core.h.
	if APIVersion1_1 != 0x00401000 {
		t.Errorf("APIVersion1_1 = %#x", APIVersion1_1)
	}
}

func TestPhysicalDeviceQueries(t *testing.T) {
	_, devs := requireVulkan(t)
	for _, pd := range devs {
		props := pd.Properties()
		name := GoString(props.DeviceName[:])
		if name == "" {
			t.Errorf("device with an empty name")
		}
		var sub PhysicalDeviceSubgroupProperties
		sub.SType = StructureTypePhysicalDeviceSubgroupProperties
		var m3 PhysicalDeviceMaintenance3Properties
		m3.SType = StructureTypePhysicalDeviceMaintenance3Properties
		sub.PNext = unsafe.Pointer(&m3)
		p2 := PhysicalDeviceProperties2{PNext: unsafe.Pointer(&sub)}
		if err := pd.Properties2(&p2); err != nil {
			t.Fatal(err)
		}
		if GoString(p2.Properties.DeviceName[:]) != name {
			t.Errorf("Properties2 name %q != Properties name %q", GoString(p2.Properties.DeviceName[:]), name)
		}
		lim := props.Limits
		// Minimums the Vulkan spec requires of every implementation
		// (table "Required Limits"): a wrong struct layout shows up here
		// as garbage.
		if lim.MaxStorageBufferRange < 1<<27 || lim.MaxComputeWorkGroupInvocations < 128 ||
			lim.MaxComputeWorkGroupSize[0] < 128 || lim.MaxComputeSharedMemorySize < 16384 ||
			lim.MaxPushConstantsSize < 128 || lim.MaxBoundDescriptorSets < 4 {
			t.Errorf("%s: limits below the spec minimums: %+v", name, lim)
		}
		if sub.SubgroupSize == 0 || sub.SubgroupSize&(sub.SubgroupSize-1) != 0 {
			t.Errorf("%s: subgroup size %d is not a power of two", name, sub.SubgroupSize)
		}
		if m3.MaxMemoryAllocationSize < 1<<30 {
			t.Errorf("%s: maxMemoryAllocationSize %d below the spec minimum 2^30", name, m3.MaxMemoryAllocationSize)
		}
		mem := pd.MemoryProperties()
		if mem.MemoryTypeCount == 0 || mem.MemoryTypeCount > MaxMemoryTypes ||
			mem.MemoryHeapCount == 0 || mem.MemoryHeapCount > MaxMemoryHeaps {
			t.Errorf("%s: %d memory types, %d heaps", name, mem.MemoryTypeCount, mem.MemoryHeapCount)
		}
		compute := false
		for _, q := range pd.QueueFamilyProperties() {
			compute = compute || q.QueueFlags&QueueComputeBit != 0
		}
		if !compute {
			t.Errorf("%s: no compute queue family", name)
		}
		t.Logf("%s (%s): API %d.%d, subgroup %d, maxStorageBufferRange %d, maxMemoryAllocationSize %d, %d heaps",
			name, props.DeviceType, props.ApiVersion>>22, props.ApiVersion>>12&0x3ff, sub.SubgroupSize,
			lim.MaxStorageBufferRange, m3.MaxMemoryAllocationSize, mem.MemoryHeapCount)
	}
}

// fixture is a device with one compute queue, enough for the dispatch test.
type fixture struct {
	t      *testing.T
	pd     PhysicalDevice
	dev    Device
	queue  Queue
	family uint32
	mem    PhysicalDeviceMemoryProperties
}

func newFixture(t *testing.T) *fixture {
	_, devs := requireVulkan(t)
	pd := devs[0]
	family := QueueFamilyIgnored
	for i, q := range pd.QueueFamilyProperties() {
		if q.QueueFlags&QueueComputeBit != 0 {
			family = uint32(i)
			break
		}
	}
	if family == QueueFamilyIgnored {
		t.Fatal("device 0 has no compute queue")
	}
	prio := float32(1)
	qinfo := DeviceQueueCreateInfo{
		SType:            StructureTypeDeviceQueueCreateInfo,
		QueueFamilyIndex: family,
		QueueCount:       1,
		PQueuePriorities: &prio,
	}
	dev, err := pd.CreateDevice(&DeviceCreateInfo{
		SType:                StructureTypeDeviceCreateInfo,
		QueueCreateInfoCount: 1,
		PQueueCreateInfos:    &qinfo,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Destroy)
	return &fixture{t: t, pd: pd, dev: dev, queue: dev.Queue(family, 0), family: family, mem: pd.MemoryProperties()}
}

// memoryType picks the first memory type allowed by bits that has all of want.
func (f *fixture) memoryType(bits uint32, want MemoryPropertyFlags) uint32 {
	for i := uint32(0); i < f.mem.MemoryTypeCount; i++ {
		if bits&(1<<i) != 0 && f.mem.MemoryTypes[i].PropertyFlags&want == want {
			return i
		}
	}
	f.t.Fatalf("no memory type with flags %#x in mask %#x", want, bits)
	return 0
}

// buffer creates a buffer bound to its own allocation.
func (f *fixture) buffer(size DeviceSize, usage BufferUsageFlags, props MemoryPropertyFlags) (Buffer, DeviceMemory) {
	b, err := f.dev.CreateBuffer(&BufferCreateInfo{
		SType: StructureTypeBufferCreateInfo, Size: size, Usage: usage, SharingMode: SharingModeExclusive,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	req := f.dev.BufferMemoryRequirements(b)
	m, err := f.dev.AllocateMemory(&MemoryAllocateInfo{
		SType: StructureTypeMemoryAllocateInfo, AllocationSize: req.Size,
		MemoryTypeIndex: f.memoryType(req.MemoryTypeBits, props),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.dev.BindBufferMemory(b, m, 0); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { f.dev.DestroyBuffer(b); f.dev.FreeMemory(m) })
	return b, m
}

// TestDispatch runs shaders/selftest.comp (y = a*x + b) on the first device:
// host data goes through a staging buffer into device-local memory, the
// shader reads it through descriptors with push-constant parameters, and
// the result comes back through a second staging copy. n is not a multiple
// of the workgroup size, so the bounds check in the shader is exercised.
func TestDispatch(t *testing.T) {
	f := newFixture(t)
	dev := f.dev
	const n = 1000
	const a, b = float32(0.5), float32(3)
	size := DeviceSize(4 * n)

	hostProps := MemoryPropertyHostVisibleBit | MemoryPropertyHostCoherentBit
	staging, stagingMem := f.buffer(2*size, BufferUsageTransferSrcBit|BufferUsageTransferDstBit, hostProps)
	xBuf, _ := f.buffer(size, BufferUsageStorageBufferBit|BufferUsageTransferDstBit, MemoryPropertyDeviceLocalBit)
	yBuf, _ := f.buffer(size, BufferUsageStorageBufferBit|BufferUsageTransferSrcBit, MemoryPropertyDeviceLocalBit)

	p, err := dev.MapMemory(stagingMem, 0, WholeSize)
	if err != nil {
		t.Fatal(err)
	}
	host := unsafe.Slice((*float32)(p), 2*n)
	for i := range n {
		host[i] = float32(i) - 100 // exact in float32, as is a*x+b below
		host[n+i] = -1
	}

	code, err := shaders.SPIRV("selftest")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := dev.CreateShaderModule(&ShaderModuleCreateInfo{
		SType: StructureTypeShaderModuleCreateInfo, CodeSize: uintptr(4 * len(code)), PCode: &code[0],
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyShaderModule(mod)

	bindings := []DescriptorSetLayoutBinding{
		{Binding: 0, DescriptorType: DescriptorTypeStorageBuffer, DescriptorCount: 1, StageFlags: ShaderStageComputeBit},
		{Binding: 1, DescriptorType: DescriptorTypeStorageBuffer, DescriptorCount: 1, StageFlags: ShaderStageComputeBit},
	}
	dsl, err := dev.CreateDescriptorSetLayout(&DescriptorSetLayoutCreateInfo{
		SType: StructureTypeDescriptorSetLayoutCreateInfo, BindingCount: 2, PBindings: &bindings[0],
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyDescriptorSetLayout(dsl)
	pcRange := PushConstantRange{StageFlags: ShaderStageComputeBit, Size: 12}
	layout, err := dev.CreatePipelineLayout(&PipelineLayoutCreateInfo{
		SType: StructureTypePipelineLayoutCreateInfo, SetLayoutCount: 1, PSetLayouts: &dsl,
		PushConstantRangeCount: 1, PPushConstantRanges: &pcRange,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyPipelineLayout(layout)
	cache, err := dev.CreatePipelineCache(&PipelineCacheCreateInfo{SType: StructureTypePipelineCacheCreateInfo})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyPipelineCache(cache)
	pipes, err := dev.CreateComputePipelines(cache, []ComputePipelineCreateInfo{{
		SType: StructureTypeComputePipelineCreateInfo,
		Stage: PipelineShaderStageCreateInfo{
			SType: StructureTypePipelineShaderStageCreateInfo, Stage: ShaderStageComputeBit,
			Module: mod, PName: CString("main"),
		},
		Layout:            layout,
		BasePipelineIndex: -1,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyPipeline(pipes[0])
	if data, err := dev.PipelineCacheData(cache); err != nil {
		t.Errorf("PipelineCacheData: %v", err)
	} else if len(data) < 16+UUIDSize {
		// The header alone (length, version, vendor, device, UUID) is 32 bytes.
		t.Errorf("pipeline cache data is %d bytes, shorter than its header", len(data))
	}

	poolSize := DescriptorPoolSize{Type: DescriptorTypeStorageBuffer, DescriptorCount: 2}
	pool, err := dev.CreateDescriptorPool(&DescriptorPoolCreateInfo{
		SType: StructureTypeDescriptorPoolCreateInfo, MaxSets: 1, PoolSizeCount: 1, PPoolSizes: &poolSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyDescriptorPool(pool)
	sets, err := dev.AllocateDescriptorSets(&DescriptorSetAllocateInfo{
		SType: StructureTypeDescriptorSetAllocateInfo, DescriptorPool: pool, DescriptorSetCount: 1, PSetLayouts: &dsl,
	})
	if err != nil {
		t.Fatal(err)
	}
	infos := []DescriptorBufferInfo{{Buffer: xBuf, Range: WholeSize}, {Buffer: yBuf, Range: WholeSize}}
	dev.UpdateDescriptorSets([]WriteDescriptorSet{
		{SType: StructureTypeWriteDescriptorSet, DstSet: sets[0], DstBinding: 0, DescriptorCount: 1,
			DescriptorType: DescriptorTypeStorageBuffer, PBufferInfo: &infos[0]},
		{SType: StructureTypeWriteDescriptorSet, DstSet: sets[0], DstBinding: 1, DescriptorCount: 1,
			DescriptorType: DescriptorTypeStorageBuffer, PBufferInfo: &infos[1]},
	})

	cmdPool, err := dev.CreateCommandPool(&CommandPoolCreateInfo{
		SType: StructureTypeCommandPoolCreateInfo, QueueFamilyIndex: f.family,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyCommandPool(cmdPool)
	cbs, err := dev.AllocateCommandBuffers(&CommandBufferAllocateInfo{
		SType: StructureTypeCommandBufferAllocateInfo, CommandPool: cmdPool,
		Level: CommandBufferLevelPrimary, CommandBufferCount: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	cb := cbs[0]
	if err := cb.Begin(&CommandBufferBeginInfo{
		SType: StructureTypeCommandBufferBeginInfo, Flags: CommandBufferUsageOneTimeSubmitBit,
	}); err != nil {
		t.Fatal(err)
	}
	cb.CopyBuffer(staging, xBuf, []BufferCopy{{Size: size}})
	cb.PipelineBarrier(PipelineStageTransferBit, PipelineStageComputeShaderBit, 0,
		[]MemoryBarrier{{SType: StructureTypeMemoryBarrier, SrcAccessMask: AccessTransferWriteBit, DstAccessMask: AccessShaderReadBit}}, nil)
	cb.BindPipeline(PipelineBindPointCompute, pipes[0])
	cb.BindDescriptorSets(PipelineBindPointCompute, layout, 0, sets)
	var pc [12]byte
	binary.LittleEndian.PutUint32(pc[0:], n)
	binary.LittleEndian.PutUint32(pc[4:], math.Float32bits(a))
	binary.LittleEndian.PutUint32(pc[8:], math.Float32bits(b))
	cb.PushConstants(layout, ShaderStageComputeBit, 0, pc[:])
	cb.Dispatch((n+63)/64, 1, 1)
	cb.PipelineBarrier(PipelineStageComputeShaderBit, PipelineStageTransferBit, 0, nil,
		[]BufferMemoryBarrier{{
			SType: StructureTypeBufferMemoryBarrier, SrcAccessMask: AccessShaderWriteBit, DstAccessMask: AccessTransferReadBit,
			SrcQueueFamilyIndex: QueueFamilyIgnored, DstQueueFamilyIndex: QueueFamilyIgnored, Buffer: yBuf, Size: WholeSize,
		}})
	cb.CopyBuffer(yBuf, staging, []BufferCopy{{DstOffset: size, Size: size}})
	cb.PipelineBarrier(PipelineStageTransferBit, PipelineStageHostBit, 0,
		[]MemoryBarrier{{SType: StructureTypeMemoryBarrier, SrcAccessMask: AccessTransferWriteBit, DstAccessMask: AccessHostReadBit}}, nil)
	if err := cb.End(); err != nil {
		t.Fatal(err)
	}

	fence, err := dev.CreateFence(&FenceCreateInfo{SType: StructureTypeFenceCreateInfo})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyFence(fence)
	if err := f.queue.Submit([]SubmitInfo{{
		SType: StructureTypeSubmitInfo, CommandBufferCount: 1, PCommandBuffers: &cbs[0],
	}}, fence); err != nil {
		t.Fatal(err)
	}
	if err := dev.WaitForFences([]Fence{fence}, true, 10e9); err != nil {
		t.Fatal(err)
	}
	if done, err := dev.FenceStatus(fence); !done || err != nil {
		t.Errorf("FenceStatus after wait = %v, %v", done, err)
	}
	bad := 0
	for i := range n {
		want := a*(float32(i)-100) + b
		if got := host[n+i]; got != want {
			if bad++; bad <= 5 {
				t.Errorf("y[%d] = %v, want %v", i, got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d outputs wrong", bad, n)
	}
	dev.UnmapMemory(stagingMem)
	if err := dev.WaitIdle(); err != nil {
		t.Fatal(err)
	}
}

// TestFillCopyTimestamps covers the transfer commands and timestamp
// queries: FillBuffer writes a pattern, CopyBuffer moves part of it, and
// two timestamps bracket the work.
func TestFillCopyTimestamps(t *testing.T) {
	f := newFixture(t)
	dev := f.dev
	exts, err := f.pd.EnumerateDeviceExtensionProperties()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d device extensions", len(exts))
	if _, err := EnumerateInstanceExtensionProperties(""); err != nil {
		t.Fatal(err)
	}
	const n = 256
	props := MemoryPropertyHostVisibleBit | MemoryPropertyHostCoherentBit
	src, _ := f.buffer(4*n, BufferUsageTransferSrcBit|BufferUsageTransferDstBit, props)
	dst, dstMem := f.buffer(4*n, BufferUsageTransferSrcBit|BufferUsageTransferDstBit, props)

	qp, err := dev.CreateQueryPool(&QueryPoolCreateInfo{SType: StructureTypeQueryPoolCreateInfo, QueryType: QueryTypeTimestamp, QueryCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyQueryPool(qp)
	pool, err := dev.CreateCommandPool(&CommandPoolCreateInfo{SType: StructureTypeCommandPoolCreateInfo, QueueFamilyIndex: f.family})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.DestroyCommandPool(pool)
	cbs, err := dev.AllocateCommandBuffers(&CommandBufferAllocateInfo{
		SType: StructureTypeCommandBufferAllocateInfo, CommandPool: pool, CommandBufferCount: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	cb := cbs[0]
	if err := cb.Begin(&CommandBufferBeginInfo{SType: StructureTypeCommandBufferBeginInfo}); err != nil {
		t.Fatal(err)
	}
	cb.ResetQueryPool(qp, 0, 2)
	cb.WriteTimestamp(PipelineStageTopOfPipeBit, qp, 0)
	cb.FillBuffer(dst, 0, WholeSize, 0)
	cb.FillBuffer(src, 0, WholeSize, 0x3f800000) // 1.0f
	cb.PipelineBarrier(PipelineStageTransferBit, PipelineStageTransferBit, 0,
		[]MemoryBarrier{{SType: StructureTypeMemoryBarrier, SrcAccessMask: AccessTransferWriteBit, DstAccessMask: AccessTransferReadBit | AccessTransferWriteBit}}, nil)
	cb.CopyBuffer(src, dst, []BufferCopy{{SrcOffset: 0, DstOffset: 4 * 10, Size: 4 * 20}})
	cb.PipelineBarrier(PipelineStageTransferBit, PipelineStageHostBit, 0,
		[]MemoryBarrier{{SType: StructureTypeMemoryBarrier, SrcAccessMask: AccessTransferWriteBit, DstAccessMask: AccessHostReadBit}}, nil)
	cb.WriteTimestamp(PipelineStageBottomOfPipeBit, qp, 1)
	if err := cb.End(); err != nil {
		t.Fatal(err)
	}
	if err := f.queue.Submit([]SubmitInfo{{SType: StructureTypeSubmitInfo, CommandBufferCount: 1, PCommandBuffers: &cbs[0]}}, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.queue.WaitIdle(); err != nil {
		t.Fatal(err)
	}
	p, err := dev.MapMemory(dstMem, 0, WholeSize)
	if err != nil {
		t.Fatal(err)
	}
	got := unsafe.Slice((*float32)(p), n)
	for i, v := range got {
		want := float32(0)
		if i >= 10 && i < 30 {
			want = 1
		}
		if v != want {
			t.Fatalf("dst[%d] = %v, want %v", i, v, want)
		}
	}
	dev.UnmapMemory(dstMem)
	ts := make([]uint64, 2)
	if err := dev.QueryPoolResults64(qp, 0, ts, QueryResultWaitBit); err != nil {
		t.Fatal(err)
	}
	if ts[1] < ts[0] {
		t.Errorf("timestamps %v go backwards", ts)
	}
}
