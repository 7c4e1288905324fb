// Package vk is a thin binding of the compute subset of Vulkan 1.1–1.3,
// loaded at run time from the system's Vulkan loader (libvulkan.so.1) with
// github.com/ebitengine/purego: no cgo, so CGO_ENABLED=0 builds work and a
// program runs (with another backend) where Vulkan is absent — Load then
// returns an error wrapping ErrNoLoader.
//
// Coverage: instances (NewInstance adds the Khronos validation layer when
// FLUXPULID_VULKAN_VALIDATION=1), physical-device properties, features,
// limits, memory and queue families; logical devices and queues; buffers,
// memory, mapping; shader modules, descriptor set layouts, pools and sets;
// pipeline layouts with push constants, compute pipelines and pipeline
// caches; command pools and buffers with dispatch, copy, fill, barriers and
// timestamps; fences and submission.
//
// The Go structs mirror the C structs field for field (structs.go); the
// test behind the vkcheck build tag (go test -tags vkcheck, needs cgo and
// libvulkan-dev) compares their sizes, alignments, field offsets and the
// enum values with <vulkan/vulkan.h>. Failing calls return a *CallError
// naming the function and the VkResult (errors.Is(err, vk.ErrorOutOfDeviceMemory)).
//
// Handles are plain integers; methods on them are the commands whose
// first parameter they are, e.g. Device.CreateBuffer for vkCreateBuffer.
package vk
