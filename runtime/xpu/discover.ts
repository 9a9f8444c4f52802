// Discovery of the XPUs this host really has. Kinds are honest: everything here that runs on
// the CPU says `cpu`, whatever backend drives it.
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { deviceAddon } from '../gpu/native.js';
import type { XpuInfo } from './types.js';

export interface DiscoverOptions {
  /** Worker-pool size (default: cores - 1, at least 1). */
  workers?: number;
  /** Execution providers to try for onnxruntime (default: every one onnxruntime lists). */
  executionProviders?: string[];
}

const EP_KIND: Record<string, string> = { cpu: 'cpu', cuda: 'gpu', tensorrt: 'gpu', webgpu: 'gpu', dml: 'gpu', coreml: 'npu', qnn: 'npu', xnnpack: 'cpu' };

export async function discoverXpus(opts: DiscoverOptions = {}): Promise<XpuInfo[]> {
  const cores = availableParallelism();
  const workers = opts.workers ?? Math.max(1, cores - 1);
  const xpus: XpuInfo[] = [
    { id: 'main', kind: 'cpu', backend: 'main', lanes: 1, real: true, note: 'the main JS thread' },
    { id: 'pool', kind: 'cpu', backend: 'worker', lanes: workers, real: true, note: `worker_threads pool of ${workers}` },
  ];
  for (const ep of await onnxProviders(opts.executionProviders)) {
    xpus.push({
      id: `ort-${ep}`,
      kind: EP_KIND[ep] ?? 'cpu',
      backend: 'onnx',
      lanes: 1,
      real: true,
      executionProvider: ep,
      note: `onnxruntime ${ep} execution provider`,
    });
  }
  if (existsSync(join(packageRoot(), 'native', 'core', 'build', 'Release', 'xauto_core.node'))) {
    const lanes = Math.min(Number(process.env.UV_THREADPOOL_SIZE ?? 4), cores);
    xpus.push({ id: 'native', kind: 'cpu', backend: 'native', lanes, real: true, note: `native addon threads (libuv pool, ${lanes} lanes)` });
  }
  if (existsSync(join(packageRoot(), 'native', 'device', 'build', 'Release', 'xauto_device.node'))) {
    // The device orders and preempts launches itself (prioritised streams), so several
    // stages may submit at once: that is how a high-priority stage preempts another's work.
    const { backend, backendNote } = deviceAddon();
    const what = backend === 'cuda' ? 'kernels on the GPU' : 'kernels on CPU threads';
    xpus.push({ id: 'device', kind: backend === 'cuda' ? 'gpu' : 'cpu', backend: 'device', lanes: 4, real: true, note: `xauto device: ${backendNote}; ${what}, prioritised streams, preemption` });
  }
  return xpus;
}

/**
 * Execution providers onnxruntime can actually load here. onnxruntime lists what it was built
 * with; an EP that is not bundled (its libraries are absent) is left out. Loading is proved
 * when a session is first created on it; a rejected EP falls back to cpu there.
 */
async function onnxProviders(wanted?: string[]): Promise<string[]> {
  try {
    const ort = (await import('onnxruntime-node')) as { listSupportedBackends?: () => Array<{ name: string; bundled: boolean }> };
    const listed = ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
    const loadable = listed.filter((b) => b.bundled && b.name !== 'webgpu').map((b) => b.name);
    return wanted ? loadable.filter((ep) => wanted.includes(ep)) : loadable;
  } catch {
    return [];
  }
}
