// onnxruntime sessions for perception stages: one intra-op and one inter-op thread (the
// scheduler places stages side by side on a small machine), the execution provider the XPU
// names, and a clean fall back to cpu, with one log line, when onnxruntime rejects it.
// Sessions open through runtime/xpu/warm-models.ts: from a checkpoint image's warm model
// when the launch starts from one, staging theirs when it checkpoints.
import type * as Ort from 'onnxruntime-node';
import { openSession } from '../../runtime/xpu/warm-models.js';

let ortModule: typeof Ort | undefined;

export async function ort(): Promise<typeof Ort> {
  ortModule ??= (await import('onnxruntime-node')) as typeof Ort;
  return ortModule;
}

/** Who opens a session: its name for logs and warm models, and where its opening is reported. */
export interface SessionOwner {
  name: string;
  summary?(section: string, data: Record<string, unknown>): void;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Reports how long the session's first run took (a cold session sets up its arena and kernels then). */
function firstRun(session: Ort.InferenceSession, report: (ms: number) => void): void {
  const run = session.run.bind(session) as (...a: unknown[]) => Promise<Ort.InferenceSession.ReturnType>;
  const s = session as { run: unknown };
  s.run = async (...a: unknown[]) => {
    s.run = run; // once
    const t0 = performance.now();
    const out = await run(...a);
    report(performance.now() - t0);
    return out;
  };
}

export async function createSession(model: string | Uint8Array, ep: string | undefined, log: (m: string) => void, owner?: SessionOwner): Promise<Ort.InferenceSession> {
  const o = await ort();
  const opts = (provider: string): Ort.InferenceSession.SessionOptions => ({
    executionProviders: [provider],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const name = owner?.name ?? (typeof model === 'string' ? model.split('/').at(-1)! : 'model');
  const make = async (p: string) => {
    const { session, opened } = await openSession(o, model, opts(p), name, log);
    const report = owner?.summary?.bind(owner);
    if (report) {
      report('models', { [name]: opened.warm ? 'warm' : 'cold', [`${name}_open_ms`]: round(opened.openMs) });
      firstRun(session, (ms) => report('models', { [`${name}_first_run_ms`]: round(ms) }));
    }
    return session;
  };
  const provider = ep ?? 'cpu';
  if (provider === 'cpu') return make('cpu');
  try {
    return await make(provider);
  } catch (e) {
    log(`execution provider '${provider}' rejected (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); falling back to cpu`);
    return make('cpu');
  }
}
