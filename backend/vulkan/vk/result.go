package vk

import (
	"errors"
	"fmt"
)

// Result is a VkResult. Negative values are errors; the non-negative values
// other than Success (NotReady, Timeout, Incomplete, ...) are statuses that
// the wrappers report where a call can return them.
type Result int32

// VkResult values.
const (
	Success                          Result = 0           // VK_SUCCESS
	NotReady                         Result = 1           // VK_NOT_READY
	Timeout                          Result = 2           // VK_TIMEOUT
	EventSet                         Result = 3           // VK_EVENT_SET
	EventReset                       Result = 4           // VK_EVENT_RESET
	Incomplete                       Result = 5           // VK_INCOMPLETE
	ErrorOutOfHostMemory             Result = -1          // VK_ERROR_OUT_OF_HOST_MEMORY
	ErrorOutOfDeviceMemory           Result = -2          // VK_ERROR_OUT_OF_DEVICE_MEMORY
	ErrorInitializationFailed        Result = -3          // VK_ERROR_INITIALIZATION_FAILED
	ErrorDeviceLost                  Result = -4          // VK_ERROR_DEVICE_LOST
	ErrorMemoryMapFailed             Result = -5          // VK_ERROR_MEMORY_MAP_FAILED
	ErrorLayerNotPresent             Result = -6          // VK_ERROR_LAYER_NOT_PRESENT
	ErrorExtensionNotPresent         Result = -7          // VK_ERROR_EXTENSION_NOT_PRESENT
	ErrorFeatureNotPresent           Result = -8          // VK_ERROR_FEATURE_NOT_PRESENT
	ErrorIncompatibleDriver          Result = -9          // VK_ERROR_INCOMPATIBLE_DRIVER
	ErrorTooManyObjects              Result = -10         // VK_ERROR_TOO_MANY_OBJECTS
	ErrorFormatNotSupported          Result = -11         // VK_ERROR_FORMAT_NOT_SUPPORTED
	ErrorFragmentedPool              Result = -12         // VK_ERROR_FRAGMENTED_POOL
	ErrorUnknown                     Result = -13         // VK_ERROR_UNKNOWN
	ErrorOutOfPoolMemory             Result = -1000069000 // VK_ERROR_OUT_OF_POOL_MEMORY
	ErrorInvalidExternalHandle       Result = -1000072003 // VK_ERROR_INVALID_EXTERNAL_HANDLE
	ErrorFragmentation               Result = -1000161000 // VK_ERROR_FRAGMENTATION
	ErrorInvalidOpaqueCaptureAddress Result = -1000257000 // VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS
	PipelineCompileRequired          Result = 1000297000  // VK_PIPELINE_COMPILE_REQUIRED
	ErrorValidationFailedExt         Result = -1000011001 // VK_ERROR_VALIDATION_FAILED_EXT
)

var resultNames = map[Result]string{
	Success:                          "VK_SUCCESS",
	NotReady:                         "VK_NOT_READY",
	Timeout:                          "VK_TIMEOUT",
	EventSet:                         "VK_EVENT_SET",
	EventReset:                       "VK_EVENT_RESET",
	Incomplete:                       "VK_INCOMPLETE",
	ErrorOutOfHostMemory:             "VK_ERROR_OUT_OF_HOST_MEMORY",
	ErrorOutOfDeviceMemory:           "VK_ERROR_OUT_OF_DEVICE_MEMORY",
	ErrorInitializationFailed:        "VK_ERROR_INITIALIZATION_FAILED",
	ErrorDeviceLost:                  "VK_ERROR_DEVICE_LOST",
	ErrorMemoryMapFailed:             "VK_ERROR_MEMORY_MAP_FAILED",
	ErrorLayerNotPresent:             "VK_ERROR_LAYER_NOT_PRESENT",
	ErrorExtensionNotPresent:         "VK_ERROR_EXTENSION_NOT_PRESENT",
	ErrorFeatureNotPresent:           "VK_ERROR_FEATURE_NOT_PRESENT",
	ErrorIncompatibleDriver:          "VK_ERROR_INCOMPATIBLE_DRIVER",
	ErrorTooManyObjects:              "VK_ERROR_TOO_MANY_OBJECTS",
	ErrorFormatNotSupported:          "VK_ERROR_FORMAT_NOT_SUPPORTED",
	ErrorFragmentedPool:              "VK_ERROR_FRAGMENTED_POOL",
	ErrorUnknown:                     "VK_ERROR_UNKNOWN",
	ErrorOutOfPoolMemory:             "VK_ERROR_OUT_OF_POOL_MEMORY",
	ErrorInvalidExternalHandle:       "VK_ERROR_INVALID_EXTERNAL_HANDLE",
	ErrorFragmentation:               "VK_ERROR_FRAGMENTATION",
	ErrorInvalidOpaqueCaptureAddress: "VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS",
	PipelineCompileRequired:          "VK_PIPELINE_COMPILE_REQUIRED",
	ErrorValidationFailedExt:         "VK_ERROR_VALIDATION_FAILED_EXT",
}

// String returns the C name, e.g. "VK_ERROR_OUT_OF_DEVICE_MEMORY".
func (r Result) String() string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return fmt.Sprintf("VkResult(%d)", int32(r))
}

// Error makes a Result usable as an error; only failing results are turned
// into errors by the wrappers.
func (r Result) Error() string { return r.String() }

// Failed reports whether r is an error code (negative VkResult).
func (r Result) Failed() bool { return r < 0 }

// CallError is a failing Vulkan call: the function and the VkResult it
// returned. errors.Is(err, vk.ErrorOutOfDeviceMemory) works through it.
type CallError struct {
	Func   string
	Result Result
}

func (e *CallError) Error() string { return e.Func + ": " + e.Result.String() }
func (e *CallError) Unwrap() error { return e.Result }

// check turns a VkResult into nil or a *CallError naming the function.
func check(fn string, r Result) error {
	if r == Success {
		return nil
	}
	return &CallError{Func: fn, Result: r}
}

// ErrNoLoader is returned (wrapped) when the Vulkan loader library cannot be
// opened; ErrNoDevice when the loader works but lists no physical device.
var (
	ErrNoLoader = errors.New("vulkan: loader library not available")
	ErrNoDevice = errors.New("vulkan: no physical device")
)
