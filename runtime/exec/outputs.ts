// Outputs checked against the ports a stage declares, cheaply on every call (the type tag and
// shape, not deep contents): a stage that returns something its ports do not take is the one
// that failed, not the stage downstream that would trip over it.
import { DEVICE_TENSOR } from '../gpu/tensor.js';
import type { PortSpec, StageResult } from '../xnode/types.js';

/** What is wrong with `out` for these declared output ports, or undefined. */
export function checkOutputs(ports: Readonly<Record<string, PortSpec>>, out: StageResult): string | undefined {
  if (out === null || out === undefined) return undefined;
  if (typeof out !== 'object' || Array.isArray(out)) return `returned ${describe(out)}; expected an object of output ports (or null for none)`;
  for (const port in out) {
    const v = out[port];
    if (v === undefined) continue;
    const spec = ports[port];
    if (!spec) return `emitted on '${port}', which it does not declare (outputs: ${Object.keys(ports).join(', ') || 'none'})`;
    if (spec.type === 'xauto/Tensor') {
      const t = v as { dims?: unknown; data?: unknown; [DEVICE_TENSOR]?: unknown };
      // A device-resident tensor's `data` is its host copy, made when read: not read here.
      const data = typeof v === 'object' && v !== null && t[DEVICE_TENSOR] !== undefined ? true : t.data instanceof Float32Array;
      if (typeof v !== 'object' || v === null || !Array.isArray(t.dims) || !data) {
        return `emitted ${describe(v)} on '${port}' (xauto/Tensor); expected {dims: number[], data: Float32Array}`;
      }
    } else if (typeof v !== 'object' || v === null) {
      return `emitted ${describe(v)} on '${port}' (${spec.type}); expected a message object`;
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string`;
  if (typeof v === 'object') return `an object without the expected fields`;
  return `a ${typeof v}`;
}
