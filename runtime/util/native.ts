import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

const require = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/** Loads native/<name>/build/Release/xauto_<name>.node, with a clear message when it was not built. */
export function loadAddon<T>(name: string): T {
  const hit = loaded.get(name);
  if (hit) return hit as T;
  const file = join(packageRoot(), 'native', name, 'build', 'Release', `xauto_${name}.node`);
  if (!existsSync(file)) {
    throw new Error(`xauto: native addon '${name}' is not built (${file} missing); run \`npm run build:native\``);
  }
  const addon = require(file) as T;
  loaded.set(name, addon);
  return addon;
}

export interface CoreAddon {
  /** Monotonic clock in nanoseconds. */
  nowNs(): bigint;
  /** Monotonic clock in microseconds (double). */
  nowUs(): number;
  /** Spins the calling thread for `us` microseconds of real work. */
  burn(us: number): number;
  /** Spins a libuv pool thread for `us` microseconds; resolves when done. */
  burnAsync(us: number): Promise<number>;
}

export const core = (): CoreAddon => loadAddon<CoreAddon>('core');
