package vk

import (
	"unsafe"
)

// The wrappers below keep the C signatures' order with the handle as the
// receiver, pass NULL for every VkAllocationCallbacks, return created
// handles as results, and turn failing VkResults into *CallError. Every
// pointer argument is written as uintptr(unsafe.Pointer(x)) directly in the
// call's argument list so that call's go:uintptrescapes keeps x alive.

// slicePtr returns the address of s's first element, or 0 for an empty slice.
func slicePtr[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

func boolArg(b bool) uintptr {
	if b {
		return 1
	}
	return 0
}

func result(r uintptr) Result { return Result(int32(r)) }

// CString returns a NUL-terminated copy of s for a const char* field.
func CString(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

// CStrings returns a const char* const* array of NUL-terminated copies.
func CStrings(ss []string) **byte {
	if len(ss) == 0 {
		return nil
	}
	a := make([]*byte, len(ss))
	for i, s := range ss {
		a[i] = CString(s)
	}
	return &a[0]
}

// GoString converts a fixed-size NUL-terminated char array to a string.
func GoString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// ---- Global commands ----

// EnumerateInstanceVersion returns the loader's instance-level API version
// (1.0 when the loader predates the command).
func EnumerateInstanceVersion() (uint32, error) {
	if err := Load(); err != nil {
		return 0, err
	}
	if procs.enumerateInstanceVersion == 0 {
		return APIVersion1_0, nil
	}
	var v uint32
	r := result(call(procs.enumerateInstanceVersion, uintptr(unsafe.Pointer(&v))))
	return v, check("vkEnumerateInstanceVersion", r)
}

// EnumerateInstanceLayerProperties lists the installed instance layers.
func EnumerateInstanceLayerProperties() ([]LayerProperties, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	for {
		var n uint32
		r := result(call(procs.enumerateInstanceLayerProperties, uintptr(unsafe.Pointer(&n)), 0))
		if err := check("vkEnumerateInstanceLayerProperties", r); err != nil || n == 0 {
			return nil, err
		}
		out := make([]LayerProperties, n)
		r = result(call(procs.enumerateInstanceLayerProperties, uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&out[0]))))
		if r == Incomplete {
			continue
		}
		return out[:n], check("vkEnumerateInstanceLayerProperties", r)
	}
}

// EnumerateInstanceExtensionProperties lists the instance extensions of the
// implementation (layer "") or of one layer.
func EnumerateInstanceExtensionProperties(layer string) ([]ExtensionProperties, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	var name *byte
	if layer != "" {
		name = CString(layer)
	}
	for {
		var n uint32
		r := result(call(procs.enumerateInstanceExtensionProperties, uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&n)), 0))
		if err := check("vkEnumerateInstanceExtensionProperties", r); err != nil || n == 0 {
			return nil, err
		}
		out := make([]ExtensionProperties, n)
		r = result(call(procs.enumerateInstanceExtensionProperties, uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&out[0]))))
		if r == Incomplete {
			continue
		}
		return out[:n], check("vkEnumerateInstanceExtensionProperties", r)
	}
}

// CreateInstance is vkCreateInstance.
func CreateInstance(info *InstanceCreateInfo) (Instance, error) {
	if err := Load(); err != nil {
		return 0, err
	}
	var h Instance
	r := result(call(procs.createInstance, uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateInstance", r)
}

// ---- Instance and physical device ----

// Destroy is vkDestroyInstance.
func (i Instance) Destroy() { call(procs.destroyInstance, uintptr(i), 0) }

// EnumeratePhysicalDevices is vkEnumeratePhysicalDevices.
func (i Instance) EnumeratePhysicalDevices() ([]PhysicalDevice, error) {
	for {
		var n uint32
		r := result(call(procs.enumeratePhysicalDevices, uintptr(i), uintptr(unsafe.Pointer(&n)), 0))
		if err := check("vkEnumeratePhysicalDevices", r); err != nil || n == 0 {
			return nil, err
		}
		out := make([]PhysicalDevice, n)
		r = result(call(procs.enumeratePhysicalDevices, uintptr(i), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&out[0]))))
		if r == Incomplete {
			continue
		}
		return out[:n], check("vkEnumeratePhysicalDevices", r)
	}
}

// Properties is vkGetPhysicalDeviceProperties.
func (p PhysicalDevice) Properties() PhysicalDeviceProperties {
	var out PhysicalDeviceProperties
	call(procs.getPhysicalDeviceProperties, uintptr(p), uintptr(unsafe.Pointer(&out)))
	return out
}

// Properties2 is vkGetPhysicalDeviceProperties2 (Vulkan 1.1): out.PNext may
// chain extension structs (subgroup, maintenance3, driver properties) that
// the driver fills in.
func (p PhysicalDevice) Properties2(out *PhysicalDeviceProperties2) error {
	if err := need(procs.getPhysicalDeviceProperties2, "vkGetPhysicalDeviceProperties2"); err != nil {
		return err
	}
	out.SType = StructureTypePhysicalDeviceProperties2
	call(procs.getPhysicalDeviceProperties2, uintptr(p), uintptr(unsafe.Pointer(out)))
	return nil
}

// Features is vkGetPhysicalDeviceFeatures.
func (p PhysicalDevice) Features() PhysicalDeviceFeatures {
	var out PhysicalDeviceFeatures
	call(procs.getPhysicalDeviceFeatures, uintptr(p), uintptr(unsafe.Pointer(&out)))
	return out
}

// Features2 is vkGetPhysicalDeviceFeatures2 (Vulkan 1.1), with a PNext chain
// of feature structs to fill.
func (p PhysicalDevice) Features2(out *PhysicalDeviceFeatures2) error {
	if err := need(procs.getPhysicalDeviceFeatures2, "vkGetPhysicalDeviceFeatures2"); err != nil {
		return err
	}
	out.SType = StructureTypePhysicalDeviceFeatures2
	call(procs.getPhysicalDeviceFeatures2, uintptr(p), uintptr(unsafe.Pointer(out)))
	return nil
}

// MemoryProperties is vkGetPhysicalDeviceMemoryProperties.
func (p PhysicalDevice) MemoryProperties() PhysicalDeviceMemoryProperties {
	var out PhysicalDeviceMemoryProperties
	call(procs.getPhysicalDeviceMemoryProperties, uintptr(p), uintptr(unsafe.Pointer(&out)))
	return out
}

// QueueFamilyProperties is vkGetPhysicalDeviceQueueFamilyProperties.
func (p PhysicalDevice) QueueFamilyProperties() []QueueFamilyProperties {
	var n uint32
	call(procs.getPhysicalDeviceQueueFamilyProperties, uintptr(p), uintptr(unsafe.Pointer(&n)), 0)
	if n == 0 {
		return nil
	}
	out := make([]QueueFamilyProperties, n)
	call(procs.getPhysicalDeviceQueueFamilyProperties, uintptr(p), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&out[0])))
	return out[:n]
}

// EnumerateDeviceExtensionProperties is vkEnumerateDeviceExtensionProperties
// for the implementation (no layer).
func (p PhysicalDevice) EnumerateDeviceExtensionProperties() ([]ExtensionProperties, error) {
	for {
		var n uint32
		r := result(call(procs.enumerateDeviceExtensionProperties, uintptr(p), 0, uintptr(unsafe.Pointer(&n)), 0))
		if err := check("vkEnumerateDeviceExtensionProperties", r); err != nil || n == 0 {
			return nil, err
		}
		out := make([]ExtensionProperties, n)
		r = result(call(procs.enumerateDeviceExtensionProperties, uintptr(p), 0, uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&out[0]))))
		if r == Incomplete {
			continue
		}
		return out[:n], check("vkEnumerateDeviceExtensionProperties", r)
	}
}

// CreateDevice is vkCreateDevice.
func (p PhysicalDevice) CreateDevice(info *DeviceCreateInfo) (Device, error) {
	var h Device
	r := result(call(procs.createDevice, uintptr(p), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateDevice", r)
}

// ---- Device and queue ----

// Destroy is vkDestroyDevice.
func (d Device) Destroy() { call(procs.destroyDevice, uintptr(d), 0) }

// Queue is vkGetDeviceQueue.
func (d Device) Queue(family, index uint32) Queue {
	var q Queue
	call(procs.getDeviceQueue, uintptr(d), uintptr(family), uintptr(index), uintptr(unsafe.Pointer(&q)))
	return q
}

// WaitIdle is vkDeviceWaitIdle.
func (d Device) WaitIdle() error {
	return check("vkDeviceWaitIdle", result(call(procs.deviceWaitIdle, uintptr(d))))
}

// Submit is vkQueueSubmit; fence may be 0.
func (q Queue) Submit(submits []SubmitInfo, fence Fence) error {
	r := result(call(procs.queueSubmit, uintptr(q), uintptr(len(submits)), uintptr(slicePtr(submits)), uintptr(fence)))
	return check("vkQueueSubmit", r)
}

// WaitIdle is vkQueueWaitIdle.
func (q Queue) WaitIdle() error {
	return check("vkQueueWaitIdle", result(call(procs.queueWaitIdle, uintptr(q))))
}

// ---- Buffers and memory ----

// CreateBuffer is vkCreateBuffer.
func (d Device) CreateBuffer(info *BufferCreateInfo) (Buffer, error) {
	var h Buffer
	r := result(call(procs.createBuffer, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateBuffer", r)
}

// DestroyBuffer is vkDestroyBuffer.
func (d Device) DestroyBuffer(b Buffer) { call(procs.destroyBuffer, uintptr(d), uintptr(b), 0) }

// BufferMemoryRequirements is vkGetBufferMemoryRequirements.
func (d Device) BufferMemoryRequirements(b Buffer) MemoryRequirements {
	var out MemoryRequirements
	call(procs.getBufferMemoryRequirements, uintptr(d), uintptr(b), uintptr(unsafe.Pointer(&out)))
	return out
}

// AllocateMemory is vkAllocateMemory.
func (d Device) AllocateMemory(info *MemoryAllocateInfo) (DeviceMemory, error) {
	var h DeviceMemory
	r := result(call(procs.allocateMemory, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkAllocateMemory", r)
}

// FreeMemory is vkFreeMemory.
func (d Device) FreeMemory(m DeviceMemory) { call(procs.freeMemory, uintptr(d), uintptr(m), 0) }

// BindBufferMemory is vkBindBufferMemory.
func (d Device) BindBufferMemory(b Buffer, m DeviceMemory, offset DeviceSize) error {
	r := result(call(procs.bindBufferMemory, uintptr(d), uintptr(b), uintptr(m), uintptr(offset)))
	return check("vkBindBufferMemory", r)
}

// MapMemory is vkMapMemory; the result addresses size bytes of driver memory
// that stay valid until UnmapMemory.
func (d Device) MapMemory(m DeviceMemory, offset, size DeviceSize) (unsafe.Pointer, error) {
	var p unsafe.Pointer
	r := result(call(procs.mapMemory, uintptr(d), uintptr(m), uintptr(offset), uintptr(size), 0, uintptr(unsafe.Pointer(&p))))
	return p, check("vkMapMemory", r)
}

// UnmapMemory is vkUnmapMemory.
func (d Device) UnmapMemory(m DeviceMemory) { call(procs.unmapMemory, uintptr(d), uintptr(m)) }

// FlushMappedMemoryRanges is vkFlushMappedMemoryRanges (needed for
// host-visible memory without HOST_COHERENT).
func (d Device) FlushMappedMemoryRanges(ranges []MappedMemoryRange) error {
	r := result(call(procs.flushMappedMemoryRanges, uintptr(d), uintptr(len(ranges)), uintptr(slicePtr(ranges))))
	return check("vkFlushMappedMemoryRanges", r)
}

// InvalidateMappedMemoryRanges is vkInvalidateMappedMemoryRanges.
func (d Device) InvalidateMappedMemoryRanges(ranges []MappedMemoryRange) error {
	r := result(call(procs.invalidateMappedMemoryRanges, uintptr(d), uintptr(len(ranges)), uintptr(slicePtr(ranges))))
	return check("vkInvalidateMappedMemoryRanges", r)
}

// ---- Shaders, descriptors, pipelines ----

// CreateShaderModule is vkCreateShaderModule.
func (d Device) CreateShaderModule(info *ShaderModuleCreateInfo) (ShaderModule, error) {
	var h ShaderModule
	r := result(call(procs.createShaderModule, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateShaderModule", r)
}

// DestroyShaderModule is vkDestroyShaderModule.
func (d Device) DestroyShaderModule(m ShaderModule) {
	call(procs.destroyShaderModule, uintptr(d), uintptr(m), 0)
}

// CreateDescriptorSetLayout is vkCreateDescriptorSetLayout.
func (d Device) CreateDescriptorSetLayout(info *DescriptorSetLayoutCreateInfo) (DescriptorSetLayout, error) {
	var h DescriptorSetLayout
	r := result(call(procs.createDescriptorSetLayout, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateDescriptorSetLayout", r)
}

// DestroyDescriptorSetLayout is vkDestroyDescriptorSetLayout.
func (d Device) DestroyDescriptorSetLayout(l DescriptorSetLayout) {
	call(procs.destroyDescriptorSetLayout, uintptr(d), uintptr(l), 0)
}

// CreateDescriptorPool is vkCreateDescriptorPool.
func (d Device) CreateDescriptorPool(info *DescriptorPoolCreateInfo) (DescriptorPool, error) {
	var h DescriptorPool
	r := result(call(procs.createDescriptorPool, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateDescriptorPool", r)
}

// DestroyDescriptorPool is vkDestroyDescriptorPool.
func (d Device) DestroyDescriptorPool(p DescriptorPool) {
	call(procs.destroyDescriptorPool, uintptr(d), uintptr(p), 0)
}

// ResetDescriptorPool is vkResetDescriptorPool: every set allocated from p
// returns to it.
func (d Device) ResetDescriptorPool(p DescriptorPool) error {
	return check("vkResetDescriptorPool", result(call(procs.resetDescriptorPool, uintptr(d), uintptr(p), 0)))
}

// AllocateDescriptorSets is vkAllocateDescriptorSets: one set per layout in
// info.PSetLayouts (info.DescriptorSetCount of them).
func (d Device) AllocateDescriptorSets(info *DescriptorSetAllocateInfo) ([]DescriptorSet, error) {
	out := make([]DescriptorSet, info.DescriptorSetCount)
	r := result(call(procs.allocateDescriptorSets, uintptr(d), uintptr(unsafe.Pointer(info)), uintptr(slicePtr(out))))
	if err := check("vkAllocateDescriptorSets", r); err != nil {
		return nil, err
	}
	return out, nil
}

// FreeDescriptorSets is vkFreeDescriptorSets (the pool needs the
// FREE_DESCRIPTOR_SET flag).
func (d Device) FreeDescriptorSets(p DescriptorPool, sets []DescriptorSet) error {
	r := result(call(procs.freeDescriptorSets, uintptr(d), uintptr(p), uintptr(len(sets)), uintptr(slicePtr(sets))))
	return check("vkFreeDescriptorSets", r)
}

// UpdateDescriptorSets is vkUpdateDescriptorSets without copies.
func (d Device) UpdateDescriptorSets(writes []WriteDescriptorSet) {
	call(procs.updateDescriptorSets, uintptr(d), uintptr(len(writes)), uintptr(slicePtr(writes)), 0, 0)
}

// CreatePipelineLayout is vkCreatePipelineLayout.
func (d Device) CreatePipelineLayout(info *PipelineLayoutCreateInfo) (PipelineLayout, error) {
	var h PipelineLayout
	r := result(call(procs.createPipelineLayout, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreatePipelineLayout", r)
}

// DestroyPipelineLayout is vkDestroyPipelineLayout.
func (d Device) DestroyPipelineLayout(l PipelineLayout) {
	call(procs.destroyPipelineLayout, uintptr(d), uintptr(l), 0)
}

// CreatePipelineCache is vkCreatePipelineCache.
func (d Device) CreatePipelineCache(info *PipelineCacheCreateInfo) (PipelineCache, error) {
	var h PipelineCache
	r := result(call(procs.createPipelineCache, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreatePipelineCache", r)
}

// DestroyPipelineCache is vkDestroyPipelineCache.
func (d Device) DestroyPipelineCache(c PipelineCache) {
	call(procs.destroyPipelineCache, uintptr(d), uintptr(c), 0)
}

// PipelineCacheData is vkGetPipelineCacheData: the serialised cache, which
// a later CreatePipelineCache may take as initial data.
func (d Device) PipelineCacheData(c PipelineCache) ([]byte, error) {
	for {
		var n uintptr
		r := result(call(procs.getPipelineCacheData, uintptr(d), uintptr(c), uintptr(unsafe.Pointer(&n)), 0))
		if err := check("vkGetPipelineCacheData", r); err != nil || n == 0 {
			return nil, err
		}
		out := make([]byte, n)
		r = result(call(procs.getPipelineCacheData, uintptr(d), uintptr(c), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&out[0]))))
		if r == Incomplete {
			continue
		}
		return out[:n], check("vkGetPipelineCacheData", r)
	}
}

// CreateComputePipelines is vkCreateComputePipelines; cache may be 0.
func (d Device) CreateComputePipelines(cache PipelineCache, infos []ComputePipelineCreateInfo) ([]Pipeline, error) {
	out := make([]Pipeline, len(infos))
	r := result(call(procs.createComputePipelines, uintptr(d), uintptr(cache), uintptr(len(infos)),
		uintptr(slicePtr(infos)), 0, uintptr(slicePtr(out))))
	if err := check("vkCreateComputePipelines", r); err != nil {
		return nil, err
	}
	return out, nil
}

// DestroyPipeline is vkDestroyPipeline.
func (d Device) DestroyPipeline(p Pipeline) { call(procs.destroyPipeline, uintptr(d), uintptr(p), 0) }

// ---- Command pools and buffers ----

// CreateCommandPool is vkCreateCommandPool.
func (d Device) CreateCommandPool(info *CommandPoolCreateInfo) (CommandPool, error) {
	var h CommandPool
	r := result(call(procs.createCommandPool, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateCommandPool", r)
}

// DestroyCommandPool is vkDestroyCommandPool.
func (d Device) DestroyCommandPool(p CommandPool) {
	call(procs.destroyCommandPool, uintptr(d), uintptr(p), 0)
}

// ResetCommandPool is vkResetCommandPool.
func (d Device) ResetCommandPool(p CommandPool, flags CommandPoolResetFlags) error {
	return check("vkResetCommandPool", result(call(procs.resetCommandPool, uintptr(d), uintptr(p), uintptr(flags))))
}

// AllocateCommandBuffers is vkAllocateCommandBuffers.
func (d Device) AllocateCommandBuffers(info *CommandBufferAllocateInfo) ([]CommandBuffer, error) {
	out := make([]CommandBuffer, info.CommandBufferCount)
	r := result(call(procs.allocateCommandBuffers, uintptr(d), uintptr(unsafe.Pointer(info)), uintptr(slicePtr(out))))
	if err := check("vkAllocateCommandBuffers", r); err != nil {
		return nil, err
	}
	return out, nil
}

// FreeCommandBuffers is vkFreeCommandBuffers.
func (d Device) FreeCommandBuffers(p CommandPool, cbs []CommandBuffer) {
	call(procs.freeCommandBuffers, uintptr(d), uintptr(p), uintptr(len(cbs)), uintptr(slicePtr(cbs)))
}

// Begin is vkBeginCommandBuffer.
func (c CommandBuffer) Begin(info *CommandBufferBeginInfo) error {
	return check("vkBeginCommandBuffer", result(call(procs.beginCommandBuffer, uintptr(c), uintptr(unsafe.Pointer(info)))))
}

// End is vkEndCommandBuffer.
func (c CommandBuffer) End() error {
	return check("vkEndCommandBuffer", result(call(procs.endCommandBuffer, uintptr(c))))
}

// Reset is vkResetCommandBuffer.
func (c CommandBuffer) Reset(flags CommandBufferResetFlags) error {
	return check("vkResetCommandBuffer", result(call(procs.resetCommandBuffer, uintptr(c), uintptr(flags))))
}

// BindPipeline is vkCmdBindPipeline.
func (c CommandBuffer) BindPipeline(bp PipelineBindPoint, p Pipeline) {
	call(procs.cmdBindPipeline, uintptr(c), uintptr(bp), uintptr(p))
}

// BindDescriptorSets is vkCmdBindDescriptorSets without dynamic offsets.
func (c CommandBuffer) BindDescriptorSets(bp PipelineBindPoint, layout PipelineLayout, first uint32, sets []DescriptorSet) {
	call(procs.cmdBindDescriptorSets, uintptr(c), uintptr(bp), uintptr(layout), uintptr(first),
		uintptr(len(sets)), uintptr(slicePtr(sets)), 0, 0)
}

// PushConstants is vkCmdPushConstants.
func (c CommandBuffer) PushConstants(layout PipelineLayout, stages ShaderStageFlags, offset uint32, data []byte) {
	call(procs.cmdPushConstants, uintptr(c), uintptr(layout), uintptr(stages), uintptr(offset),
		uintptr(len(data)), uintptr(slicePtr(data)))
}

// Dispatch is vkCmdDispatch.
func (c CommandBuffer) Dispatch(x, y, z uint32) {
	call(procs.cmdDispatch, uintptr(c), uintptr(x), uintptr(y), uintptr(z))
}

// PipelineBarrier is vkCmdPipelineBarrier without image barriers.
func (c CommandBuffer) PipelineBarrier(src, dst PipelineStageFlags, deps DependencyFlags,
	mem []MemoryBarrier, buf []BufferMemoryBarrier) {
	call(procs.cmdPipelineBarrier, uintptr(c), uintptr(src), uintptr(dst), uintptr(deps),
		uintptr(len(mem)), uintptr(slicePtr(mem)), uintptr(len(buf)), uintptr(slicePtr(buf)), 0, 0)
}

// CopyBuffer is vkCmdCopyBuffer.
func (c CommandBuffer) CopyBuffer(src, dst Buffer, regions []BufferCopy) {
	call(procs.cmdCopyBuffer, uintptr(c), uintptr(src), uintptr(dst), uintptr(len(regions)), uintptr(slicePtr(regions)))
}

// FillBuffer is vkCmdFillBuffer (offset and size multiples of 4, or size
// WholeSize).
func (c CommandBuffer) FillBuffer(b Buffer, offset, size DeviceSize, data uint32) {
	call(procs.cmdFillBuffer, uintptr(c), uintptr(b), uintptr(offset), uintptr(size), uintptr(data))
}

// ResetQueryPool is vkCmdResetQueryPool.
func (c CommandBuffer) ResetQueryPool(p QueryPool, first, count uint32) {
	call(procs.cmdResetQueryPool, uintptr(c), uintptr(p), uintptr(first), uintptr(count))
}

// WriteTimestamp is vkCmdWriteTimestamp.
func (c CommandBuffer) WriteTimestamp(stage PipelineStageFlags, p QueryPool, query uint32) {
	call(procs.cmdWriteTimestamp, uintptr(c), uintptr(stage), uintptr(p), uintptr(query))
}

// ---- Synchronisation and queries ----

// CreateFence is vkCreateFence.
func (d Device) CreateFence(info *FenceCreateInfo) (Fence, error) {
	var h Fence
	r := result(call(procs.createFence, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateFence", r)
}

// DestroyFence is vkDestroyFence.
func (d Device) DestroyFence(f Fence) { call(procs.destroyFence, uintptr(d), uintptr(f), 0) }

// ResetFences is vkResetFences.
func (d Device) ResetFences(fences []Fence) error {
	r := result(call(procs.resetFences, uintptr(d), uintptr(len(fences)), uintptr(slicePtr(fences))))
	return check("vkResetFences", r)
}

// WaitForFences is vkWaitForFences with a timeout in nanoseconds. Running
// out of time returns a *CallError with Result Timeout (errors.Is(err,
// vk.Timeout)).
func (d Device) WaitForFences(fences []Fence, waitAll bool, timeout uint64) error {
	r := result(call(procs.waitForFences, uintptr(d), uintptr(len(fences)), uintptr(slicePtr(fences)),
		boolArg(waitAll), uintptr(timeout)))
	return check("vkWaitForFences", r)
}

// FenceStatus is vkGetFenceStatus: true once signalled.
func (d Device) FenceStatus(f Fence) (bool, error) {
	r := result(call(procs.getFenceStatus, uintptr(d), uintptr(f)))
	if r == NotReady {
		return false, nil
	}
	return r == Success, check("vkGetFenceStatus", r)
}

// CreateQueryPool is vkCreateQueryPool.
func (d Device) CreateQueryPool(info *QueryPoolCreateInfo) (QueryPool, error) {
	var h QueryPool
	r := result(call(procs.createQueryPool, uintptr(d), uintptr(unsafe.Pointer(info)), 0, uintptr(unsafe.Pointer(&h))))
	return h, check("vkCreateQueryPool", r)
}

// DestroyQueryPool is vkDestroyQueryPool.
func (d Device) DestroyQueryPool(p QueryPool) {
	call(procs.destroyQueryPool, uintptr(d), uintptr(p), 0)
}

// QueryPoolResults64 is vkGetQueryPoolResults with 64-bit results packed
// tightly into out (one value per query); flags gets QueryResult64Bit added.
// It returns NotReady as a *CallError when a result is not available and
// QueryResultWaitBit was not given.
func (d Device) QueryPoolResults64(p QueryPool, first uint32, out []uint64, flags QueryResultFlags) error {
	r := result(call(procs.getQueryPoolResults, uintptr(d), uintptr(p), uintptr(first), uintptr(len(out)),
		uintptr(len(out)*8), uintptr(slicePtr(out)), 8, uintptr(flags|QueryResult64Bit)))
	return check("vkGetQueryPoolResults", r)
}
