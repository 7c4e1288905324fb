package vk

// Handles. Dispatchable handles (instance, physical device, device, queue,
// command buffer) are C pointers; non-dispatchable handles are 64-bit values
// (pointers on 64-bit targets). Neither ever points into Go memory.
type (
	Instance       uintptr
	PhysicalDevice uintptr
	Device         uintptr
	Queue          uintptr
	CommandBuffer  uintptr

	Buffer              uint64
	BufferView          uint64
	DeviceMemory        uint64
	ShaderModule        uint64
	DescriptorSetLayout uint64
	DescriptorPool      uint64
	DescriptorSet       uint64
	PipelineLayout      uint64
	PipelineCache       uint64
	Pipeline            uint64
	CommandPool         uint64
	Fence               uint64
	Semaphore           uint64
	QueryPool           uint64
	Sampler             uint64
)

// Scalar typedefs of vulkan_core.h.
type (
	DeviceSize = uint64
	Bool32     uint32
	Flags      = uint32

	InstanceCreateFlags            = Flags
	DeviceCreateFlags              = Flags
	DeviceQueueCreateFlags         = Flags
	BufferCreateFlags              = Flags
	BufferUsageFlags               = Flags
	MemoryPropertyFlags            = Flags
	MemoryHeapFlags                = Flags
	QueueFlags                     = Flags
	SampleCountFlags               = Flags
	ShaderStageFlags               = Flags
	SubgroupFeatureFlags           = Flags
	ShaderModuleCreateFlags        = Flags
	DescriptorSetLayoutCreateFlags = Flags
	DescriptorPoolCreateFlags      = Flags
	DescriptorPoolResetFlags       = Flags
	PipelineLayoutCreateFlags      = Flags
	PipelineShaderStageCreateFlags = Flags
	PipelineCreateFlags            = Flags
	PipelineCacheCreateFlags       = Flags
	PipelineStageFlags             = Flags
	AccessFlags                    = Flags
	DependencyFlags                = Flags
	CommandPoolCreateFlags         = Flags
	CommandPoolResetFlags          = Flags
	CommandBufferUsageFlags        = Flags
	CommandBufferResetFlags        = Flags
	FenceCreateFlags               = Flags
	QueryPoolCreateFlags           = Flags
	QueryPipelineStatisticFlags    = Flags
	QueryResultFlags               = Flags
	MemoryMapFlags                 = Flags
	ShaderStageFlagBits            = Flags
)

// Enumerations (C enums are 32-bit ints).
type (
	StructureType      int32
	PhysicalDeviceType int32
	SharingMode        int32
	DescriptorType     int32
	PipelineBindPoint  int32
	CommandBufferLevel int32
	QueryType          int32
	DriverId           int32
)

// True and False are the VkBool32 values.
const (
	True  Bool32 = 1
	False Bool32 = 0
)

// Array sizes and special values.
const (
	MaxPhysicalDeviceNameSize = 256
	UUIDSize                  = 16
	LUIDSize                  = 8
	MaxMemoryTypes            = 32
	MaxMemoryHeaps            = 16
	MaxExtensionNameSize      = 256
	MaxDescriptionSize        = 256
	MaxDriverNameSize         = 256
	MaxDriverInfoSize         = 256

	QueueFamilyIgnored uint32     = ^uint32(0)
	WholeSize          DeviceSize = ^DeviceSize(0)
)

// MakeAPIVersion packs a version as VK_MAKE_API_VERSION(0, major, minor, patch).
func MakeAPIVersion(major, minor, patch uint32) uint32 {
	return major<<22 | minor<<12 | patch
}

// APIVersion splits a packed version into major, minor and patch.
func APIVersion(v uint32) (major, minor, patch uint32) {
	return v >> 22 & 0x7f, v >> 12 & 0x3ff, v & 0xfff
}

// API versions this package knows.
var (
	APIVersion1_0 = MakeAPIVersion(1, 0, 0)
	APIVersion1_1 = MakeAPIVersion(1, 1, 0)
	APIVersion1_2 = MakeAPIVersion(1, 2, 0)
	APIVersion1_3 = MakeAPIVersion(1, 3, 0)
)

// VkStructureType values of the mirrored structs.
const (
	StructureTypeApplicationInfo                         StructureType = 0
	StructureTypeInstanceCreateInfo                      StructureType = 1
	StructureTypeDeviceQueueCreateInfo                   StructureType = 2
	StructureTypeDeviceCreateInfo                        StructureType = 3
	StructureTypeSubmitInfo                              StructureType = 4
	StructureTypeMemoryAllocateInfo                      StructureType = 5
	StructureTypeMappedMemoryRange                       StructureType = 6
	StructureTypeFenceCreateInfo                         StructureType = 8
	StructureTypeQueryPoolCreateInfo                     StructureType = 11
	StructureTypeBufferCreateInfo                        StructureType = 12
	StructureTypeShaderModuleCreateInfo                  StructureType = 16
	StructureTypePipelineCacheCreateInfo                 StructureType = 17
	StructureTypePipelineShaderStageCreateInfo           StructureType = 18
	StructureTypeComputePipelineCreateInfo               StructureType = 29
	StructureTypePipelineLayoutCreateInfo                StructureType = 30
	StructureTypeDescriptorSetLayoutCreateInfo           StructureType = 32
	StructureTypeDescriptorPoolCreateInfo                StructureType = 33
	StructureTypeDescriptorSetAllocateInfo               StructureType = 34
	StructureTypeWriteDescriptorSet                      StructureType = 35
	StructureTypeCommandPoolCreateInfo                   StructureType = 39
	StructureTypeCommandBufferAllocateInfo               StructureType = 40
	StructureTypeCommandBufferBeginInfo                  StructureType = 42
	StructureTypeBufferMemoryBarrier                     StructureType = 44
	StructureTypeMemoryBarrier                           StructureType = 46
	StructureTypePhysicalDeviceSubgroupProperties        StructureType = 1000094000
	StructureTypePhysicalDevice16BitStorageFeatures      StructureType = 1000083000
	StructureTypePhysicalDeviceFeatures2                 StructureType = 1000059000
	StructureTypePhysicalDeviceProperties2               StructureType = 1000059001
	StructureTypePhysicalDeviceMaintenance3Properties    StructureType = 1000168000
	StructureTypePhysicalDeviceDriverProperties          StructureType = 1000196000
	StructureTypePhysicalDeviceShaderFloat16Int8Features StructureType = 1000082000
)

// VkPhysicalDeviceType.
const (
	PhysicalDeviceTypeOther         PhysicalDeviceType = 0
	PhysicalDeviceTypeIntegratedGPU PhysicalDeviceType = 1
	PhysicalDeviceTypeDiscreteGPU   PhysicalDeviceType = 2
	PhysicalDeviceTypeVirtualGPU    PhysicalDeviceType = 3
	PhysicalDeviceTypeCPU           PhysicalDeviceType = 4
)

func (t PhysicalDeviceType) String() string {
	switch t {
	case PhysicalDeviceTypeIntegratedGPU:
		return "integrated GPU"
	case PhysicalDeviceTypeDiscreteGPU:
		return "discrete GPU"
	case PhysicalDeviceTypeVirtualGPU:
		return "virtual GPU"
	case PhysicalDeviceTypeCPU:
		return "CPU"
	}
	return "other"
}

// VkQueueFlagBits.
const (
	QueueGraphicsBit      QueueFlags = 0x1
	QueueComputeBit       QueueFlags = 0x2
	QueueTransferBit      QueueFlags = 0x4
	QueueSparseBindingBit QueueFlags = 0x8
)

// VkMemoryPropertyFlagBits and VkMemoryHeapFlagBits.
const (
	MemoryPropertyDeviceLocalBit     MemoryPropertyFlags = 0x01
	MemoryPropertyHostVisibleBit     MemoryPropertyFlags = 0x02
	MemoryPropertyHostCoherentBit    MemoryPropertyFlags = 0x04
	MemoryPropertyHostCachedBit      MemoryPropertyFlags = 0x08
	MemoryPropertyLazilyAllocatedBit MemoryPropertyFlags = 0x10

	MemoryHeapDeviceLocalBit MemoryHeapFlags = 0x1
)

// VkBufferUsageFlagBits.
const (
	BufferUsageTransferSrcBit   BufferUsageFlags = 0x01
	BufferUsageTransferDstBit   BufferUsageFlags = 0x02
	BufferUsageUniformBufferBit BufferUsageFlags = 0x10
	BufferUsageStorageBufferBit BufferUsageFlags = 0x20
)

// VkSharingMode.
const (
	SharingModeExclusive  SharingMode = 0
	SharingModeConcurrent SharingMode = 1
)

// VkDescriptorType.
const (
	DescriptorTypeUniformBuffer DescriptorType = 6
	DescriptorTypeStorageBuffer DescriptorType = 7
)

// VkShaderStageFlagBits.
const ShaderStageComputeBit ShaderStageFlags = 0x20

// VkDescriptorPoolCreateFlagBits.
const DescriptorPoolCreateFreeDescriptorSetBit DescriptorPoolCreateFlags = 0x1

// VkPipelineBindPoint.
const PipelineBindPointCompute PipelineBindPoint = 1

// VkCommandPoolCreateFlagBits.
const (
	CommandPoolCreateTransientBit          CommandPoolCreateFlags = 0x1
	CommandPoolCreateResetCommandBufferBit CommandPoolCreateFlags = 0x2
)

// VkCommandBufferLevel and VkCommandBufferUsageFlagBits.
const (
	CommandBufferLevelPrimary          CommandBufferLevel      = 0
	CommandBufferUsageOneTimeSubmitBit CommandBufferUsageFlags = 0x1
)

// VkPipelineStageFlagBits.
const (
	PipelineStageTopOfPipeBit     PipelineStageFlags = 0x00000001
	PipelineStageComputeShaderBit PipelineStageFlags = 0x00000800
	PipelineStageTransferBit      PipelineStageFlags = 0x00001000
	PipelineStageBottomOfPipeBit  PipelineStageFlags = 0x00002000
	PipelineStageHostBit          PipelineStageFlags = 0x00004000
	PipelineStageAllCommandsBit   PipelineStageFlags = 0x00010000
)

// VkAccessFlagBits.
const (
	AccessUniformReadBit   AccessFlags = 0x00000008
	AccessShaderReadBit    AccessFlags = 0x00000020
	AccessShaderWriteBit   AccessFlags = 0x00000040
	AccessTransferReadBit  AccessFlags = 0x00000800
	AccessTransferWriteBit AccessFlags = 0x00001000
	AccessHostReadBit      AccessFlags = 0x00002000
	AccessHostWriteBit     AccessFlags = 0x00004000
	AccessMemoryReadBit    AccessFlags = 0x00008000
	AccessMemoryWriteBit   AccessFlags = 0x00010000
)

// VkFenceCreateFlagBits.
const FenceCreateSignaledBit FenceCreateFlags = 0x1

// VkQueryType and VkQueryResultFlagBits.
const (
	QueryTypeTimestamp QueryType        = 2
	QueryResult64Bit   QueryResultFlags = 0x1
	QueryResultWaitBit QueryResultFlags = 0x2
)

// VkSubgroupFeatureFlagBits.
const (
	SubgroupFeatureBasicBit           SubgroupFeatureFlags = 0x01
	SubgroupFeatureVoteBit            SubgroupFeatureFlags = 0x02
	SubgroupFeatureArithmeticBit      SubgroupFeatureFlags = 0x04
	SubgroupFeatureBallotBit          SubgroupFeatureFlags = 0x08
	SubgroupFeatureShuffleBit         SubgroupFeatureFlags = 0x10
	SubgroupFeatureShuffleRelativeBit SubgroupFeatureFlags = 0x20
	SubgroupFeatureQuadBit            SubgroupFeatureFlags = 0x80
)
