/**
 * The ArrayBuffers inside a message (typed arrays and ArrayBuffers, nested in plain objects and
 * arrays), for a postMessage transfer list. SharedArrayBuffers are shared, never transferred.
 */
export function transferables(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (value === null || typeof value !== 'object') return out;
  if (ArrayBuffer.isView(value)) {
    const b = value.buffer;
    if (b instanceof ArrayBuffer && b.byteLength > 0 && !out.includes(b)) out.push(b);
    return out;
  }
  if (value instanceof ArrayBuffer) {
    if (value.byteLength > 0 && !out.includes(value)) out.push(value);
    return out;
  }
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && typeof v === 'object') transferables(v, out);
    return out;
  }
  for (const k in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') transferables(v, out);
  }
  return out;
}
