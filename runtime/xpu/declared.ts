// Declared XPUs: hardware this host does not have, described in a profile file (an embedded
// board with a CPU cluster, a GPU and NPUs, say) or by `xpu` entities of a launch file. They
// exist only in plans and in the simulator: backend `sim`, real: false, in every output.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { SourcePos, XpuEntity } from '../launch/types.js';
import type { XpuInfo } from './types.js';

/** Latency of one XNODE type on one declared XPU (ms). */
export interface DeclaredLatency {
  p50: number;
  p90?: number;
}

export interface DeclaredBoard {
  name: string;
  file: string;
  note: string;
  xpus: XpuInfo[];
  /** Moving a message between an XPU's memory and host memory, per XPU id. */
  transfer: Record<string, { latencyMs: number; msPerMB: number }>;
  /** CDR encode (and, separately, decode) cost between ROS2 nodes on this board. */
  serialize: { latencyMs: number; msPerMB: number };
  /** XNODE type -> XPU id or kind -> latency. */
  latency: Record<string, Record<string, DeclaredLatency>>;
  /** XNODE type -> typical bytes of each output message. */
  bytes: Record<string, number>;
  /**
   * XNODE type -> slowdown per other busy XPU of the board (they share its DRAM): a run beside
   * k busy neighbours takes p50 * (1 + contention * k). Absent: none.
   */
  contention: Record<string, number>;
}

export class DeclaredError extends Error {
  constructor(
    readonly pos: SourcePos,
    readonly detail: string,
  ) {
    super(`${pos.file}:${pos.line}:${pos.column}: ${detail}`);
    this.name = 'DeclaredError';
  }
}

/** Loads a board profile (profiles/*.yaml); every problem is reported with file:line:column. */
export function loadDeclaredBoard(file: string): DeclaredBoard {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DeclaredError({ file, line: 1, column: 1 }, `cannot read the profile: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const pos = (node: YamlNode | null | undefined): SourcePos => {
    const at = node?.range?.[0] ?? 0;
    const p = lc.linePos(at);
    return { file, line: p.line, column: p.col };
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const p = lc.linePos(e.pos[0]);
    throw new DeclaredError({ file, line: p.line, column: p.col }, `YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new DeclaredError(pos(root as YamlNode), 'expected a mapping with keys board, xpus, latency (and optionally transfer, serialize, bytes)');
  const get = (key: string): YamlNode | undefined => root.get(key, true) as YamlNode | undefined;
  const num = (node: YamlNode | undefined, what: string, min = 0): number => {
    const v = (node as { value?: unknown } | undefined)?.value;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new DeclaredError(pos(node ?? root), `${what}: expected a number >= ${min}`);
    return v;
  };
  const str = (node: YamlNode | undefined, what: string): string => {
    const v = (node as { value?: unknown } | undefined)?.value;
    if (typeof v !== 'string' || !v) throw new DeclaredError(pos(node ?? root), `${what}: expected a non-empty string`);
    return v;
  };
  const allowed = new Set(['board', 'note', 'xpus', 'transfer', 'serialize', 'latency', 'bytes', 'contention']);
  for (const item of root.items) {
    const k = String((item.key as { value?: unknown }).value);
    if (!allowed.has(k)) throw new DeclaredError(pos(item.key as YamlNode), `unknown key '${k}'; expected one of ${[...allowed].join(', ')}`);
  }

  const name = str(get('board'), 'board');
  const note = get('note') ? str(get('note'), 'note') : '';
  const xs = get('xpus');
  if (!isSeq(xs) || xs.items.length === 0) throw new DeclaredError(pos(xs ?? root), 'xpus: expected a list of {id, kind, lanes[, note]}');
  const xpus: XpuInfo[] = xs.items.map((it) => {
    const n = it as YamlNode;
    if (!isMap(n)) throw new DeclaredError(pos(n), 'expected {id, kind, lanes[, note]}');
    const id = str(n.get('id', true) as YamlNode, 'id');
    const kind = str(n.get('kind', true) as YamlNode, `xpu '${id}': kind`);
    const lanesNode = n.get('lanes', true) as YamlNode | undefined;
    const lanes = lanesNode ? num(lanesNode, `xpu '${id}': lanes`, 1) : 1;
    if (!Number.isInteger(lanes)) throw new DeclaredError(pos(lanesNode), `xpu '${id}': lanes: expected an integer >= 1`);
    const noteNode = n.get('note', true) as YamlNode | undefined;
    return { id, kind, backend: 'sim', lanes, real: false, note: `${noteNode ? str(noteNode, 'note') : kind} (declared by ${name})` };
  });
  const ids = new Set<string>();
  xs.items.forEach((it, i) => {
    const id = xpus[i]!.id;
    if (ids.has(id)) throw new DeclaredError(pos(it as YamlNode), `xpu '${id}' declared twice`);
    ids.add(id);
  });
  const kinds = new Set(xpus.map((x) => x.kind));

  const cost = (node: YamlNode | undefined, what: string) => {
    if (!isMap(node)) throw new DeclaredError(pos(node ?? root), `${what}: expected {latency_us, gb_per_s}`);
    const lat = node.get('latency_us', true) as YamlNode | undefined;
    const bw = node.get('gb_per_s', true) as YamlNode | undefined;
    const gbps = bw ? num(bw, `${what}.gb_per_s`) : Infinity;
    // gb/s -> ms per MB: 1 MB at G GB/s takes 1/G ms.
    return { latencyMs: lat ? num(lat, `${what}.latency_us`) / 1000 : 0, msPerMB: gbps > 0 && Number.isFinite(gbps) ? 1 / gbps : 0 };
  };
  const transfer: DeclaredBoard['transfer'] = {};
  const tr = get('transfer');
  if (tr !== undefined) {
    if (!isMap(tr)) throw new DeclaredError(pos(tr), 'transfer: expected a mapping XPU id -> {latency_us, gb_per_s}');
    for (const item of tr.items) {
      const id = String((item.key as { value?: unknown }).value);
      if (!ids.has(id)) throw new DeclaredError(pos(item.key as YamlNode), `transfer: unknown XPU '${id}'; expected one of ${[...ids].join(', ')}`);
      transfer[id] = cost(item.value as YamlNode, `transfer.${id}`);
    }
  }
  const serialize = get('serialize') ? cost(get('serialize'), 'serialize') : { latencyMs: 0, msPerMB: 0 };

  const latency: DeclaredBoard['latency'] = {};
  const lt = get('latency');
  if (!isMap(lt)) throw new DeclaredError(pos(lt ?? root), 'latency: expected a mapping XNODE type -> {XPU id or kind: ms | [p50, p90]}');
  for (const item of lt.items) {
    const type = String((item.key as { value?: unknown }).value);
    const per = item.value as YamlNode;
    if (!isMap(per)) throw new DeclaredError(pos(per ?? (item.key as YamlNode)), `latency.${type}: expected {XPU id or kind: ms | [p50, p90]}`);
    latency[type] = {};
    for (const e of per.items) {
      const where = String((e.key as { value?: unknown }).value);
      if (!ids.has(where) && !kinds.has(where)) {
        throw new DeclaredError(pos(e.key as YamlNode), `latency.${type}: '${where}' is neither an XPU id nor a kind of this board (${[...new Set([...ids, ...kinds])].join(', ')})`);
      }
      const v = e.value as YamlNode;
      if (isSeq(v)) {
        if (v.items.length !== 2) throw new DeclaredError(pos(v), `latency.${type}.${where}: expected [p50, p90]`);
        const p50 = num(v.items[0] as YamlNode, `latency.${type}.${where}[0]`);
        const p90 = num(v.items[1] as YamlNode, `latency.${type}.${where}[1]`);
        if (p90 < p50) throw new DeclaredError(pos(v), `latency.${type}.${where}: p90 must be >= p50`);
        latency[type][where] = { p50, p90 };
      } else {
        latency[type][where] = { p50: num(v, `latency.${type}.${where}`) };
      }
    }
  }
  const bytes: Record<string, number> = {};
  const bt = get('bytes');
  if (bt !== undefined) {
    if (!isMap(bt)) throw new DeclaredError(pos(bt), 'bytes: expected a mapping XNODE type -> bytes per output message');
    for (const item of bt.items) bytes[String((item.key as { value?: unknown }).value)] = num(item.value as YamlNode, `bytes.${String((item.key as { value?: unknown }).value)}`);
  }
  const contention: Record<string, number> = {};
  const ct = get('contention');
  if (ct !== undefined) {
    if (!isMap(ct)) throw new DeclaredError(pos(ct), 'contention: expected a mapping XNODE type -> slowdown per busy neighbour (a number >= 0)');
    for (const item of ct.items) {
      const type = String((item.key as { value?: unknown }).value);
      contention[type] = num(item.value as YamlNode, `contention.${type}`);
    }
  }
  return { name, file, note, xpus, transfer, serialize, latency, bytes, contention };
}

/**
 * XPUs declared by `xpu` entities of a launch file. An entity naming a profile takes that
 * board's latencies; the board file is loaded here so the caller can merge its tables.
 */
export function declaredFromLaunch(entities: XpuEntity[]): { xpus: XpuInfo[]; boards: DeclaredBoard[] } {
  const boards: DeclaredBoard[] = [];
  const xpus = entities.map((e) => {
    if (e.profile && !boards.some((b) => b.file === e.profile)) boards.push(loadDeclaredBoard(e.profile));
    const x: XpuInfo = { id: e.id, kind: e.kind, backend: 'sim', lanes: e.lanes, real: false, note: `${e.kind} declared at ${e.pos.file}:${e.pos.line}` };
    return x;
  });
  return { xpus, boards };
}

/** One line per XPU saying what it is and whether it is real (for logs and tables). */
export function describeXpu(x: XpuInfo): string {
  return `${x.id} (${x.kind}, ${x.backend}, ${x.lanes} lane${x.lanes === 1 ? '' : 's'}, ${x.real ? 'real' : 'simulated'})`;
}
