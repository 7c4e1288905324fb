package vk

import (
	"fmt"
	"os"
)

// ValidationEnv names the environment variable that, set to 1, makes
// NewInstance enable the Khronos validation layer (its messages go to the
// layer's default output, stdout).
const ValidationEnv = "FLUXPULID_VULKAN_VALIDATION"

const (
	validationLayer        = "VK_LAYER_KHRONOS_validation"
	portabilityEnumeration = "VK_KHR_portability_enumeration"
	// instanceCreateEnumeratePortabilityBit is
	// VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR: without it the
	// loader hides portability drivers such as MoltenVK.
	instanceCreateEnumeratePortabilityBit InstanceCreateFlags = 0x1
)

// NewInstance creates an instance for a compute application: API version
// min(loader, 1.3) but at least 1.1, the validation layer when
// ValidationEnv asks for it, and portability enumeration when the loader
// offers it.
func NewInstance(appName string) (Instance, error) {
	version, err := EnumerateInstanceVersion()
	if err != nil {
		return 0, err
	}
	if version < APIVersion1_1 {
		ma, mi, pa := APIVersion(version)
		return 0, fmt.Errorf("vulkan: loader supports only Vulkan %d.%d.%d, need 1.1", ma, mi, pa)
	}
	if version > APIVersion1_3 {
		version = APIVersion1_3
	}
	var layers, exts []string
	if os.Getenv(ValidationEnv) == "1" {
		have, err := EnumerateInstanceLayerProperties()
		if err != nil {
			return 0, err
		}
		found := false
		for _, l := range have {
			found = found || GoString(l.LayerName[:]) == validationLayer
		}
		if !found {
			return 0, fmt.Errorf("vulkan: %s=1 but %s is not installed", ValidationEnv, validationLayer)
		}
		layers = append(layers, validationLayer)
	}
	var flags InstanceCreateFlags
	if have, err := EnumerateInstanceExtensionProperties(""); err == nil {
		for _, e := range have {
			if GoString(e.ExtensionName[:]) == portabilityEnumeration {
				exts = append(exts, portabilityEnumeration)
				flags |= instanceCreateEnumeratePortabilityBit
			}
		}
	}
	app := ApplicationInfo{
		SType:            StructureTypeApplicationInfo,
		PApplicationName: CString(appName),
		PEngineName:      CString("fluxpulid"),
		ApiVersion:       version,
	}
	info := InstanceCreateInfo{
		SType:                   StructureTypeInstanceCreateInfo,
		Flags:                   flags,
		PApplicationInfo:        &app,
		EnabledLayerCount:       uint32(len(layers)),
		PpEnabledLayerNames:     CStrings(layers),
		EnabledExtensionCount:   uint32(len(exts)),
		PpEnabledExtensionNames: CStrings(exts),
	}
	inst, err := CreateInstance(&info)
	if err != nil {
		return 0, fmt.Errorf("vulkan: create instance: %w", err)
	}
	return inst, nil
}
