package vk

import (
	"fmt"
	"sync"
)

// LoaderEnv names an environment variable that, when set, is the path of
// the Vulkan loader library to open instead of the platform default
// (libvulkan.so.1 on Linux).
const LoaderEnv = "FLUXPULID_VULKAN_LOADER"

// procs holds the entry points, resolved from the loader's exports. The
// loader exports every core command as a trampoline that dispatches on the
// handle, so one table serves every instance and device.
var procs struct {
	createInstance                       uintptr
	destroyInstance                      uintptr
	enumerateInstanceVersion             uintptr // 1.1; absent from 1.0 loaders
	enumerateInstanceLayerProperties     uintptr
	enumerateInstanceExtensionProperties uintptr

	enumeratePhysicalDevices               uintptr
	getPhysicalDeviceProperties            uintptr
	getPhysicalDeviceProperties2           uintptr // 1.1
	getPhysicalDeviceFeatures              uintptr
	getPhysicalDeviceFeatures2             uintptr // 1.1
	getPhysicalDeviceMemoryProperties      uintptr
	getPhysicalDeviceQueueFamilyProperties uintptr
	enumerateDeviceExtensionProperties     uintptr
	createDevice                           uintptr

	destroyDevice  uintptr
	getDeviceQueue uintptr
	deviceWaitIdle uintptr
	queueSubmit    uintptr
	queueWaitIdle  uintptr

	createBuffer                 uintptr
	destroyBuffer                uintptr
	getBufferMemoryRequirements  uintptr
	allocateMemory               uintptr
	freeMemory                   uintptr
	bindBufferMemory             uintptr
	mapMemory                    uintptr
	unmapMemory                  uintptr
	flushMappedMemoryRanges      uintptr
	invalidateMappedMemoryRanges uintptr

	createShaderModule         uintptr
	destroyShaderModule        uintptr
	createDescriptorSetLayout  uintptr
	destroyDescriptorSetLayout uintptr
	createDescriptorPool       uintptr
	destroyDescriptorPool      uintptr
	resetDescriptorPool        uintptr
	allocateDescriptorSets     uintptr
	freeDescriptorSets         uintptr
	updateDescriptorSets       uintptr
	createPipelineLayout       uintptr
	destroyPipelineLayout      uintptr
	createPipelineCache        uintptr
	destroyPipelineCache       uintptr
	getPipelineCacheData       uintptr
	createComputePipelines     uintptr
	destroyPipeline            uintptr

	createCommandPool      uintptr
	destroyCommandPool     uintptr
	resetCommandPool       uintptr
	allocateCommandBuffers uintptr
	freeCommandBuffers     uintptr
	beginCommandBuffer     uintptr
	endCommandBuffer       uintptr
	resetCommandBuffer     uintptr

	cmdBindPipeline       uintptr
	cmdBindDescriptorSets uintptr
	cmdPushConstants      uintptr
	cmdDispatch           uintptr
	cmdPipelineBarrier    uintptr
	cmdCopyBuffer         uintptr
	cmdFillBuffer         uintptr
	cmdResetQueryPool     uintptr
	cmdWriteTimestamp     uintptr

	createFence    uintptr
	destroyFence   uintptr
	resetFences    uintptr
	waitForFences  uintptr
	getFenceStatus uintptr

	createQueryPool     uintptr
	destroyQueryPool    uintptr
	getQueryPoolResults uintptr
}

// optional lists the entry points a Vulkan 1.0 loader may lack; the
// wrappers that need them return an error naming the missing command.
var optional = map[string]bool{
	"vkEnumerateInstanceVersion":     true,
	"vkGetPhysicalDeviceProperties2": true,
	"vkGetPhysicalDeviceFeatures2":   true,
}

func procTable() map[string]*uintptr {
	p := &procs
	return map[string]*uintptr{
		"vkCreateInstance":                         &p.createInstance,
		"vkDestroyInstance":                        &p.destroyInstance,
		"vkEnumerateInstanceVersion":               &p.enumerateInstanceVersion,
		"vkEnumerateInstanceLayerProperties":       &p.enumerateInstanceLayerProperties,
		"vkEnumerateInstanceExtensionProperties":   &p.enumerateInstanceExtensionProperties,
		"vkEnumeratePhysicalDevices":               &p.enumeratePhysicalDevices,
		"vkGetPhysicalDeviceProperties":            &p.getPhysicalDeviceProperties,
		"vkGetPhysicalDeviceProperties2":           &p.getPhysicalDeviceProperties2,
		"vkGetPhysicalDeviceFeatures":              &p.getPhysicalDeviceFeatures,
		"vkGetPhysicalDeviceFeatures2":             &p.getPhysicalDeviceFeatures2,
		"vkGetPhysicalDeviceMemoryProperties":      &p.getPhysicalDeviceMemoryProperties,
		"vkGetPhysicalDeviceQueueFamilyProperties": &p.getPhysicalDeviceQueueFamilyProperties,
		"vkEnumerateDeviceExtensionProperties":     &p.enumerateDeviceExtensionProperties,
		"vkCreateDevice":                           &p.createDevice,
		"vkDestroyDevice":                          &p.destroyDevice,
		"vkGetDeviceQueue":                         &p.getDeviceQueue,
		"vkDeviceWaitIdle":                         &p.deviceWaitIdle,
		"vkQueueSubmit":                            &p.queueSubmit,
		"vkQueueWaitIdle":                          &p.queueWaitIdle,
		"vkCreateBuffer":                           &p.createBuffer,
		"vkDestroyBuffer":                          &p.destroyBuffer,
		"vkGetBufferMemoryRequirements":            &p.getBufferMemoryRequirements,
		"vkAllocateMemory":                         &p.allocateMemory,
		"vkFreeMemory":                             &p.freeMemory,
		"vkBindBufferMemory":                       &p.bindBufferMemory,
		"vkMapMemory":                              &p.mapMemory,
		"vkUnmapMemory":                            &p.unmapMemory,
		"vkFlushMappedMemoryRanges":                &p.flushMappedMemoryRanges,
		"vkInvalidateMappedMemoryRanges":           &p.invalidateMappedMemoryRanges,
		"vkCreateShaderModule":                     &p.createShaderModule,
		"vkDestroyShaderModule":                    &p.destroyShaderModule,
		"vkCreateDescriptorSetLayout":              &p.createDescriptorSetLayout,
		"vkDestroyDescriptorSetLayout":             &p.destroyDescriptorSetLayout,
		"vkCreateDescriptorPool":                   &p.createDescriptorPool,
		"vkDestroyDescriptorPool":                  &p.destroyDescriptorPool,
		"vkResetDescriptorPool":                    &p.resetDescriptorPool,
		"vkAllocateDescriptorSets":                 &p.allocateDescriptorSets,
		"vkFreeDescriptorSets":                     &p.freeDescriptorSets,
		"vkUpdateDescriptorSets":                   &p.updateDescriptorSets,
		"vkCreatePipelineLayout":                   &p.createPipelineLayout,
		"vkDestroyPipelineLayout":                  &p.destroyPipelineLayout,
		"vkCreatePipelineCache":                    &p.createPipelineCache,
		"vkDestroyPipelineCache":                   &p.destroyPipelineCache,
		"vkGetPipelineCacheData":                   &p.getPipelineCacheData,
		"vkCreateComputePipelines":                 &p.createComputePipelines,
		"vkDestroyPipeline":                        &p.destroyPipeline,
		"vkCreateCommandPool":                      &p.createCommandPool,
		"vkDestroyCommandPool":                     &p.destroyCommandPool,
		"vkResetCommandPool":                       &p.resetCommandPool,
		"vkAllocateCommandBuffers":                 &p.allocateCommandBuffers,
		"vkFreeCommandBuffers":                     &p.freeCommandBuffers,
		"vkBeginCommandBuffer":                     &p.beginCommandBuffer,
		"vkEndCommandBuffer":                       &p.endCommandBuffer,
		"vkResetCommandBuffer":                     &p.resetCommandBuffer,
		"vkCmdBindPipeline":                        &p.cmdBindPipeline,
		"vkCmdBindDescriptorSets":                  &p.cmdBindDescriptorSets,
		"vkCmdPushConstants":                       &p.cmdPushConstants,
		"vkCmdDispatch":                            &p.cmdDispatch,
		"vkCmdPipelineBarrier":                     &p.cmdPipelineBarrier,
		"vkCmdCopyBuffer":                          &p.cmdCopyBuffer,
		"vkCmdFillBuffer":                          &p.cmdFillBuffer,
		"vkCmdResetQueryPool":                      &p.cmdResetQueryPool,
		"vkCmdWriteTimestamp":                      &p.cmdWriteTimestamp,
		"vkCreateFence":                            &p.createFence,
		"vkDestroyFence":                           &p.destroyFence,
		"vkResetFences":                            &p.resetFences,
		"vkWaitForFences":                          &p.waitForFences,
		"vkGetFenceStatus":                         &p.getFenceStatus,
		"vkCreateQueryPool":                        &p.createQueryPool,
		"vkDestroyQueryPool":                       &p.destroyQueryPool,
		"vkGetQueryPoolResults":                    &p.getQueryPoolResults,
	}
}

var (
	loadOnce sync.Once
	loadErr  error
)

// Load opens the Vulkan loader library and resolves the entry points. It is
// safe to call repeatedly; every call returns the first call's result. An
// error wraps ErrNoLoader when the library is absent (machines without
// Vulkan), so callers can fall back to the CPU.
func Load() error {
	loadOnce.Do(func() { loadErr = load() })
	return loadErr
}

func load() error {
	sym, err := openLoader()
	if err != nil {
		return err
	}
	for name, ptr := range procTable() {
		*ptr = sym(name)
		if *ptr == 0 && !optional[name] {
			return fmt.Errorf("%w: loader does not export %s", ErrNoLoader, name)
		}
	}
	return nil
}

// need returns an error when an optional entry point is missing.
func need(p uintptr, name string) error {
	if p == 0 {
		return fmt.Errorf("vulkan: loader lacks %s (Vulkan 1.1 required)", name)
	}
	return nil
}
