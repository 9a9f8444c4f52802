// One device per process, shared by every stage that runs kernels, so stage priorities meet
// on the same device: a safety-critical stage's launches preempt best-effort work of another
// stage. Reference-counted: the device closes when the last stage lets go.
import { Device, type DeviceOptions, type PreemptPolicy, type Stream } from './device.js';

let shared: Device | undefined;
let options: DeviceOptions = { units: 1 };

/**
 * Options of the shared device made by the next acquireDevice() when none is live (benchmarks
 * compare preemption on and off this way). Throws while a device is in use.
 */
export function setSharedDeviceOptions(o: DeviceOptions): void {
  if (shared && !shared.isClosed) throw new Error('setSharedDeviceOptions: the shared device is in use');
  options = { units: 1, ...o };
}
let users = 0;
const streams = new Map<string, Stream>();

export interface DeviceLease {
  device: Device;
  /** The shared stream for a stage priority (stage priority = stream priority). */
  stream(priority: number, policy?: PreemptPolicy): Stream;
  release(): void;
}

export function acquireDevice(): DeviceLease {
  if (!shared || shared.isClosed) {
    shared = new Device(options);
    streams.clear();
  }
  const device = shared;
  users++;
  let released = false;
  return {
    device,
    stream(priority, policy = 'wait') {
      const key = `${priority}:${policy}`;
      let s = streams.get(key);
      if (!s) streams.set(key, (s = device.stream({ priority, policy })));
      return s;
    },
    release() {
      if (released) return;
      released = true;
      if (--users === 0 && shared === device) {
        device.close();
        shared = undefined;
        streams.clear();
      }
    },
  };
}
