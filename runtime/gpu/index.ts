// GPU layer: device memory, kernels with access descriptors, prioritised streams, events,
// instance-level idempotency and idempotency-aware preemption (native/device underneath).
export { Device, DeviceBuffer, DeviceEvent, Stream } from './device.js';
export type { DeviceOptions, DeviceStats, PreemptPolicy, StreamOptions } from './device.js';
export { Kernel } from './kernels.js';
export type { BufferLike, KernelArg, KernelArgs, KernelDescriptor, ParamDescriptor, Ptr } from './kernels.js';
export { Decision, Launch } from './launch.js';
export type { AccessRange, AccessSets, LaunchResult, NotIdempotentReason } from './launch.js';
export { acquireDevice, setSharedDeviceOptions } from './shared.js';
export { CRITICAL_PATH_BAND, streamPriority } from './priority.js';
export { StageDevice } from './stage.js';
export { DEVICE_TENSOR, DeviceTensor, StaleTensorError, TensorRing, attachDevice, deviceTensorOf } from './tensor.js';
export type { DeviceLease } from './shared.js';
