import type { FrameInfo, ImplContext, PortValues, StageResult } from '../xnode/types.js';
import type { ParamValue } from '../launch/types.js';

/** The serializable part of an ImplContext, sent to a worker to create a stage there. */
export interface WorkerStageContext {
  name: string;
  type: string;
  impl: string;
  xpu: string;
  executionProvider?: string;
  params: Record<string, ParamValue>;
  priority: number;
}

/** The part of `ctx` that crosses to a thread (its callbacks are rebuilt there). */
export function threadContext(ctx: ImplContext): WorkerStageContext {
  const { log: _l, count: _c, summary: _s, ...plain } = ctx;
  return { ...plain, params: { ...plain.params } };
}

export type ToWorker =
  | { op: 'create'; id: number; module: string; ctx: WorkerStageContext }
  | { op: 'run'; id: number; call: number; inputs: PortValues; frame: FrameInfo }
  | { op: 'finish'; id: number; call: number }
  | { op: 'close' };

export type FromWorker =
  | { op: 'created'; id: number }
  | { op: 'done'; call: number; outputs: StageResult; error?: string }
  | { op: 'log'; id: number; message: string }
  | { op: 'count'; name: string; n: number }
  | { op: 'summary'; section: string; data: Record<string, unknown> }
  | { op: 'failed'; id: number; error: string };
