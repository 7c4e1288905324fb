package vulkan

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/fluxpulid/fluxpulid/backend/vulkan/vk"
)

// DeviceEnv names the environment variable that selects the device when
// none is given ("vulkan" rather than "vulkan:N"): an index or a substring
// of the device name, as in backend.Open("vulkan:llvmpipe").
const DeviceEnv = "FLUXPULID_VULKAN_DEVICE"

// DeviceInfo describes one physical device as the Vulkan driver reports it.
type DeviceInfo struct {
	Index      int    // position in the loader's enumeration; "vulkan:<Index>" selects it
	Name       string // e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
	Type       string // "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other"
	APIVersion string // e.g. "1.3.230"
	Driver     string // driver name and info, e.g. "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)"
	VendorID   uint32
	DeviceID   uint32

	SubgroupSize            uint32
	MaxStorageBufferRange   uint64 // bytes one storage-buffer descriptor may span
	MaxMemoryAllocationSize uint64 // bytes one allocation may have
	MaxComputeSharedMemory  uint32
	MaxWorkGroupInvocations uint32
	MaxWorkGroupSize        [3]uint32
	MaxWorkGroupCount       [3]uint32
	MaxPushConstantsSize    uint32
	Heaps                   []MemoryHeap

	// Usable is false when the device cannot run this backend; Problem
	// then says why.
	Usable  bool
	Problem string
}

// MemoryHeap is one memory heap of a device.
type MemoryHeap struct {
	Size        uint64
	DeviceLocal bool
}

func (d DeviceInfo) String() string {
	var heaps []string
	for _, h := range d.Heaps {
		kind := "host"
		if h.DeviceLocal {
			kind = "device-local"
		}
		heaps = append(heaps, fmt.Sprintf("%.1f GiB %s", float64(h.Size)/(1<<30), kind))
	}
	s := fmt.Sprintf("vulkan:%d %s (%s, Vulkan %s, %s): subgroup %d, storage buffer ≤ %d MiB, allocation ≤ %d MiB, shared memory %d KiB, memory %s",
		d.Index, d.Name, d.Type, d.APIVersion, d.Driver, d.SubgroupSize, d.MaxStorageBufferRange>>20,
		d.MaxMemoryAllocationSize>>20, d.MaxComputeSharedMemory>>10, strings.Join(heaps, ", "))
	if !d.Usable {
		s += "; unusable: " + d.Problem
	}
	return s
}

// minPushConstants is the push-constant block every shader of this backend
// may use: 128 bytes, the minimum every Vulkan implementation provides.
const minPushConstants = 128

var (
	instOnce sync.Once
	instance vk.Instance
	instErr  error
)

// getInstance creates the process's Vulkan instance on first use. It is
// never destroyed: devices live as long as the process.
func getInstance() (vk.Instance, error) {
	instOnce.Do(func() {
		instance, instErr = vk.NewInstance("fluxpulid")
	})
	return instance, instErr
}

// physical holds what the backend needs to know about a physical device.
type physical struct {
	info    DeviceInfo
	pd      vk.PhysicalDevice
	props   vk.PhysicalDeviceProperties
	mem     vk.PhysicalDeviceMemoryProperties
	family  uint32 // a queue family with compute
	maxAloc uint64
}

func enumerate() ([]physical, error) {
	inst, err := getInstance()
	if err != nil {
		return nil, err
	}
	pds, err := inst.EnumeratePhysicalDevices()
	if err != nil {
		return nil, fmt.Errorf("vulkan: %w", err)
	}
	if len(pds) == 0 {
		return nil, vk.ErrNoDevice
	}
	out := make([]physical, len(pds))
	for i, pd := range pds {
		out[i] = describe(i, pd)
	}
	return out, nil
}

func describe(index int, pd vk.PhysicalDevice) physical {
	var sub vk.PhysicalDeviceSubgroupProperties
	sub.SType = vk.StructureTypePhysicalDeviceSubgroupProperties
	var m3 vk.PhysicalDeviceMaintenance3Properties
	m3.SType = vk.StructureTypePhysicalDeviceMaintenance3Properties
	var drv vk.PhysicalDeviceDriverProperties
	drv.SType = vk.StructureTypePhysicalDeviceDriverProperties
	sub.PNext = unsafe.Pointer(&m3)
	p2 := vk.PhysicalDeviceProperties2{PNext: unsafe.Pointer(&sub)}
	props := pd.Properties()
	// Driver properties are Vulkan 1.2; chaining them to a 1.1 device's
	// query is invalid usage.
	if props.ApiVersion >= vk.APIVersion1_2 {
		m3.PNext = unsafe.Pointer(&drv)
	}
	p := physical{pd: pd, props: props, mem: pd.MemoryProperties(), family: vk.QueueFamilyIgnored}
	info := &p.info
	lim := props.Limits
	ma, mi, pa := vk.APIVersion(props.ApiVersion)
	*info = DeviceInfo{
		Index:                   index,
		Name:                    vk.GoString(props.DeviceName[:]),
		Type:                    props.DeviceType.String(),
		APIVersion:              fmt.Sprintf("%d.%d.%d", ma, mi, pa),
		VendorID:                props.VendorID,
		DeviceID:                props.DeviceID,
		MaxStorageBufferRange:   uint64(lim.MaxStorageBufferRange),
		MaxComputeSharedMemory:  lim.MaxComputeSharedMemorySize,
		MaxWorkGroupInvocations: lim.MaxComputeWorkGroupInvocations,
		MaxWorkGroupSize:        lim.MaxComputeWorkGroupSize,
		MaxWorkGroupCount:       lim.MaxComputeWorkGroupCount,
		MaxPushConstantsSize:    lim.MaxPushConstantsSize,
		Usable:                  true,
	}
	problem := func(s string) {
		if info.Usable {
			info.Usable, info.Problem = false, s
		}
	}
	if props.ApiVersion < vk.APIVersion1_1 {
		problem("Vulkan 1.1 required")
	} else if err := pd.Properties2(&p2); err != nil {
		problem(err.Error())
	} else {
		info.SubgroupSize = sub.SubgroupSize
		info.MaxMemoryAllocationSize = m3.MaxMemoryAllocationSize
		p.maxAloc = m3.MaxMemoryAllocationSize
		if drv.DriverName[0] != 0 {
			info.Driver = strings.TrimSpace(vk.GoString(drv.DriverName[:]) + " " + vk.GoString(drv.DriverInfo[:]))
		}
	}
	if info.Driver == "" {
		info.Driver = fmt.Sprintf("driver version %#x", props.DriverVersion)
	}
	for i := uint32(0); i < p.mem.MemoryHeapCount; i++ {
		h := p.mem.MemoryHeaps[i]
		info.Heaps = append(info.Heaps, MemoryHeap{Size: h.Size, DeviceLocal: h.Flags&vk.MemoryHeapDeviceLocalBit != 0})
	}
	for i, q := range pd.QueueFamilyProperties() {
		if q.QueueFlags&vk.QueueComputeBit != 0 {
			p.family = uint32(i)
			break
		}
	}
	if p.family == vk.QueueFamilyIgnored {
		problem("no compute queue")
	}
	if lim.MaxPushConstantsSize < minPushConstants || lim.MaxComputeWorkGroupInvocations < 256 ||
		lim.MaxComputeSharedMemorySize < 16384 {
		problem("compute limits below the Vulkan minimums")
	}
	return p
}

// Devices lists the Vulkan physical devices of this machine. It returns an
// error wrapping vk.ErrNoLoader when Vulkan is absent and vk.ErrNoDevice
// when the loader lists no device.
func Devices() ([]DeviceInfo, error) {
	ps, err := enumerate()
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, len(ps))
	for i, p := range ps {
		out[i] = p.info
	}
	return out, nil
}

// typeRank orders device types for the default choice: discrete GPUs
// first, CPU implementations (lavapipe) last.
func typeRank(t vk.PhysicalDeviceType) int {
	switch t {
	case vk.PhysicalDeviceTypeDiscreteGPU:
		return 0
	case vk.PhysicalDeviceTypeIntegratedGPU:
		return 1
	case vk.PhysicalDeviceTypeVirtualGPU:
		return 2
	case vk.PhysicalDeviceTypeCPU:
		return 4
	}
	return 3
}

// selectDevice picks a physical device by spec: "" for the best usable
// device (or the one DeviceEnv names), a decimal index, or a
// case-insensitive substring of the name.
func selectDevice(spec string) (physical, error) {
	ps, err := enumerate()
	if err != nil {
		return physical{}, err
	}
	if spec == "" {
		spec = os.Getenv(DeviceEnv)
	}
	var names []string
	for _, p := range ps {
		names = append(names, fmt.Sprintf("%d: %s", p.info.Index, p.info.Name))
	}
	list := strings.Join(names, "; ")
	pick := func(p physical) (physical, error) {
		if !p.info.Usable {
			return physical{}, fmt.Errorf("vulkan: device %d (%s) is unusable: %s", p.info.Index, p.info.Name, p.info.Problem)
		}
		return p, nil
	}
	if spec == "" {
		best := -1
		for i, p := range ps {
			if p.info.Usable && (best < 0 || typeRank(p.props.DeviceType) < typeRank(ps[best].props.DeviceType)) {
				best = i
			}
		}
		if best < 0 {
			return physical{}, fmt.Errorf("vulkan: no usable device (%s): %s", list, ps[0].info.Problem)
		}
		return ps[best], nil
	}
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 || i >= len(ps) {
			return physical{}, fmt.Errorf("vulkan: no device %d (have %s)", i, list)
		}
		return pick(ps[i])
	}
	for _, p := range ps {
		if strings.Contains(strings.ToLower(p.info.Name), strings.ToLower(spec)) {
			return pick(p)
		}
	}
	return physical{}, fmt.Errorf("vulkan: no device matches %q (have %s)", spec, list)
}

// Available reports whether a Vulkan device can be opened, with the reason
// when not; tests use it to skip.
func Available() error {
	_, err := selectDevice("")
	return err
}

// IsUnavailable reports whether err means this machine has no Vulkan
// loader or device (rather than a failure of a present device).
func IsUnavailable(err error) bool {
	return errors.Is(err, vk.ErrNoLoader) || errors.Is(err, vk.ErrNoDevice)
}
