// One view's bytes into a recording's room (usually a span of the recorder's shared ring).
// A typed array's set() into shared memory copies word by word with relaxed atomics: for a
// 16 KB tensor that is twice what the C library's memcpy takes, paid on the publishing thread
// for every message. Large views go through the core addon's copyInto (memcpy); small ones,
// and every view when the addon is not built (or predates copyInto), through set().
import { loadAddon } from '../util/native.js';

type CopyInto = (target: Uint8Array, offset: number, source: ArrayBufferView) => void;

/** Below this many bytes set() costs less than the call into the addon. */
const NATIVE_FROM = 1024;

function nativeCopy(): CopyInto | undefined {
  try {
    const f = loadAddon<{ copyInto?: CopyInto }>('core').copyInto;
    return typeof f === 'function' ? f : undefined;
  } catch {
    return undefined; // not built: set() does the same, slower
  }
}

const copyInto = nativeCopy();

/** Copies `v`'s bytes to `out[off..]` (the caller checked they fit). */
export function copyView(out: Uint8Array, off: number, v: ArrayBufferView): void {
  if (copyInto && v.byteLength >= NATIVE_FROM) copyInto(out, off, v);
  else out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), off);
}
