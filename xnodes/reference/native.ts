// The C++ number cruncher of native/core (crunch.cc), run on the libuv pool.
import { loadAddon } from '../../runtime/util/native.js';

export interface CrunchAddon {
  crunch(limit: number): number;
  /** On a libuv pool thread, at `nice` for the job (0: the thread's own). */
  crunchAsync(limit: number, nice?: number): Promise<number>;
}

export function crunchAddon(): CrunchAddon {
  const addon = loadAddon<Partial<CrunchAddon>>('core');
  if (typeof addon.crunchAsync !== 'function' || typeof addon.crunch !== 'function') {
    throw new Error('native/core was built without the number cruncher (crunch.cc); run `node scripts/build-native.mjs core`');
  }
  return addon as CrunchAddon;
}

/** The cruncher native implementations use: off the main thread at the stage's `nice`, a promise. */
export function nativeNumberCruncher(nice = 0): (limit: number) => Promise<number> {
  const { crunchAsync } = crunchAddon();
  return nice === 0 ? crunchAsync : (limit) => crunchAsync(limit, nice);
}
