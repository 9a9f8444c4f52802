import type { Backend, XpuKind } from '../xnode/types.js';

/** An execution resource the executor can place stages on. */
export interface XpuInfo {
  /** `main`, `pool`, `ort-cpu`, `native`, `device`, or a declared id such as `npu0`. */
  id: string;
  kind: XpuKind;
  /** How it runs implementations; `sim` XPUs exist only in plans and the simulator. */
  backend: Backend | 'sim';
  /** How many stages it runs at once. */
  lanes: number;
  /** True for resources this host really has; false for declared (simulated) ones. */
  real: boolean;
  /** onnx XPUs: the execution provider. */
  executionProvider?: string;
  /** One line on what it is (shown by `xauto xpu list`). */
  note: string;
}

/** Whether an implementation of this backend/kind can run on `xpu`. */
export function runsOn(impl: { backend: Backend; xpu: XpuKind }, xpu: XpuInfo): boolean {
  if (xpu.backend === 'sim') return impl.xpu === xpu.kind;
  return impl.backend === xpu.backend && (impl.xpu === '*' || impl.xpu === xpu.kind);
}
