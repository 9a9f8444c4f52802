// `xauto launch --print`: the resolved description as JSON, parameters typed as the node gets
// them: doubles always with a point or exponent (`3.0`), 64-bit ints with all their digits,
// non-finite doubles as their YAML spelling (`.inf`, `.nan`), which JSON has no number for.
import { formatDouble } from '../launch/params.js';
import type { LaunchDescription, ParamType, ParamValue } from '../launch/types.js';

/** A JSON number written as is. */
class RawNumber {
  constructor(readonly text: string) {}
}

function typedParams(params: Record<string, ParamValue>, types: Record<string, ParamType> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const t = types?.[k] ?? '';
    const one = (x: unknown): unknown => {
      if (t.startsWith('double') && typeof x === 'number') return Number.isFinite(x) ? new RawNumber(formatDouble(x)) : formatDouble(x);
      if (t.startsWith('int') && (typeof x === 'number' || typeof x === 'string')) return new RawNumber(String(x));
      return x;
    };
    out[k] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}

/** The JSON `--print` shows: the resolved description, as ros2 launch would start it. */
export function printable(desc: LaunchDescription): unknown {
  return {
    nodes: desc.processes.map((p) => ({
      name: p.name ?? null,
      namespace: p.namespace,
      pkg: p.pkg ?? null,
      exec: p.exec ?? null,
      ...(p.kind === 'executable' ? { cmd: p.cmd ?? [] } : {}),
      args: p.args,
      params: typedParams(p.params, p.paramTypes),
      ...(p.paramsPartial ? { params_note: 'no node name: only `/**` sections of parameter files are merged here; the node applies the rest by its own name' } : {}),
      ...(p.paramFiles.length ? { param_files: p.paramFiles } : {}),
      ...(p.paramArgs?.length ? { param_args: p.paramArgs } : {}),
      remaps: p.remaps,
      env: p.env,
    })),
    xnodes: desc.xnodes.map((x) => ({
      name: x.name,
      namespace: x.namespace,
      type: x.type,
      inputs: x.inputs,
      outputs: x.outputs,
      params: typedParams(x.params, x.paramTypes),
      impls: x.impls,
      priority: x.priority,
      module: x.module,
      ...(x.process !== 'main' ? { process: x.process } : {}),
      ...(x.ros2.length ? { ros2: x.ros2 } : {}),
    })),
    xpus: desc.xpus.map(({ pos: _pos, ...x }) => ({ ...x, simulated: true })),
  };
}

/** JSON.stringify with two-space indentation that writes RawNumber verbatim. */
export function toJson(v: unknown, indent = ''): string {
  if (v instanceof RawNumber) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const inner = `${indent}  `;
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => inner + toJson(x, inner)).join(',\n')}\n${indent}]` : '[]';
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return entries.length ? `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${toJson(x, inner)}`).join(',\n')}\n${indent}}` : '{}';
}
