import type { FrameInfo, ImplContext, PortValues, StageResult } from '../xnode/types.js';
import type { ParamValue } from '../launch/types.js';
import type { StateSnapshot } from '../xnode/state.js';

/** The serializable part of an ImplContext, sent to a worker to create a stage there. */
export interface WorkerStageContext {
  name: string;
  type: string;
  impl: string;
  xpu: string;
  executionProvider?: string;
  params: Record<string, ParamValue>;
  priority: number;
  nice?: number;
}

/** The part of `ctx` that crosses to a thread (its callbacks are rebuilt there). */
export function threadContext(ctx: ImplContext): WorkerStageContext {
  const { log: _l, count: _c, summary: _s, ...plain } = ctx;
  return { ...plain, params: { ...plain.params } };
}

export type ToWorker =
  /** codecs: modules that registered value codecs on the main thread (xnode/codec.ts), imported first. */
  | { op: 'create'; id: number; module: string; ctx: WorkerStageContext; codecs: string[] }
  | { op: 'run'; id: number; call: number; inputs: PortValues; frame: FrameInfo }
  | { op: 'finish'; id: number; call: number }
  // The declared state of a stage instance (runtime/xnode/state.ts): a copy taken, or one put
  // back, in the worker, after every call sent before it.
  | { op: 'snapshot'; id: number; call: number }
  | { op: 'restore'; id: number; call: number; state: StateSnapshot }
  | { op: 'close' };

export type FromWorker =
  /** `state`: the instance declares a state (snapshot and restore reach it). */
  | { op: 'created'; id: number; state: boolean }
  /** Answer to snapshot (with the copy, its arrays moved) or restore (none). */
  | { op: 'state'; call: number; state?: StateSnapshot; error?: string }
  | { op: 'done'; call: number; outputs: StageResult; error?: string }
  | { op: 'log'; id: number; message: string }
  | { op: 'count'; name: string; n: number }
  | { op: 'summary'; section: string; data: Record<string, unknown> }
  | { op: 'failed'; id: number; error: string };
