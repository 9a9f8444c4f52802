// onnxruntime sessions for perception stages: one intra-op and one inter-op thread (the
// scheduler places stages side by side on a small machine), the execution provider the XPU
// names, and a clean fall back to cpu, with one log line, when onnxruntime rejects it.
import type * as Ort from 'onnxruntime-node';

let ortModule: typeof Ort | undefined;

export async function ort(): Promise<typeof Ort> {
  ortModule ??= (await import('onnxruntime-node')) as typeof Ort;
  return ortModule;
}

export async function createSession(model: string | Uint8Array, ep: string | undefined, log: (m: string) => void): Promise<Ort.InferenceSession> {
  const o = await ort();
  const opts = (provider: string): Ort.InferenceSession.SessionOptions => ({
    executionProviders: [provider],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const provider = ep ?? 'cpu';
  const make = (p: string) => (typeof model === 'string' ? o.InferenceSession.create(model, opts(p)) : o.InferenceSession.create(model, opts(p)));
  if (provider === 'cpu') return make('cpu');
  try {
    return await make(provider);
  } catch (e) {
    log(`execution provider '${provider}' rejected (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); falling back to cpu`);
    return make('cpu');
  }
}
