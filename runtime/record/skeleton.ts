// The JSON skeleton of an xauto-bulk message (bulk.ts), written as bytes in one walk of the
// value: views are replaced by marks and collected, nothing of the value is copied, no string
// is built. On the publishing thread this costs a fraction of JSON.stringify over a stripped
// copy (the copy, the concatenated text flattened by its byte length, then its UTF-8 encoding).
// The bytes are those JSON.parse reads back as the value; a value JSON cannot hold exactly
// (-0, NaN, undefined, holes, bigint, Date, Map, class instances, ...) is refused, and bulk.ts
// takes its v8 form instead.

/** A view's place in the skeleton: `{ "$xauto_view": index, "t": constructor index }`. */
export const MARK = '$xauto_view';
const MARK_OPEN = Array.from(`{"${MARK}":`, (c) => c.charCodeAt(0));
const MARK_TYPE = Array.from(',"t":', (c) => c.charCodeAt(0));
const utf8 = new TextEncoder();

export class SkeletonWriter {
  bytes = new Uint8Array(1024);
  length = 0;
  views: ArrayBufferView[] = [];
  /** Set while a walk is under way: a getter that encodes another message re-enters. */
  busy = false;

  constructor(private readonly ctorIndex: (v: ArrayBufferView) => number) {}

  /** Writes `v`'s skeleton from the start; false when JSON cannot hold it. */
  write(v: unknown): boolean {
    this.length = 0;
    this.views = [];
    return this.#value(v);
  }

  /** Zeros up to the next multiple of 8 bytes. */
  pad8(): void {
    const end = (this.length + 7) & ~7;
    this.#room(end - this.length);
    this.bytes.fill(0, this.length, end);
  }

  #room(n: number): void {
    if (this.length + n <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  #byte(c: number): void {
    this.#room(1);
    this.bytes[this.length++] = c;
  }

  #ascii(codes: readonly number[]): void {
    this.#room(codes.length);
    for (let i = 0; i < codes.length; i++) this.bytes[this.length++] = codes[i]!;
  }

  /** A string known to be ASCII with nothing to escape, unquoted. */
  #plain(s: string): void {
    this.#room(s.length);
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i);
  }

  #string(s: string): void {
    this.#room(s.length + 2);
    const b = this.bytes;
    let at = this.length;
    b[at++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return this.#quoted(s); // escapes or UTF-8: the slow way
      b[at++] = c;
    }
    b[at++] = 0x22;
    this.length = at;
  }

  /** JSON's own quoting (escapes, lone surrogates), then UTF-8. */
  #quoted(s: string): void {
    const text = JSON.stringify(s);
    this.#room(3 * text.length);
    this.length += utf8.encodeInto(text, this.bytes.subarray(this.length)).written;
  }

  #integer(n: number): void {
    if (n < 0) {
      this.#byte(0x2d);
      n = -n;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.#room(digits);
    for (let i = digits - 1; i >= 0; i--) {
      this.bytes[this.length + i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.length += digits;
  }

  #value(v: unknown): boolean {
    switch (typeof v) {
      case 'string':
        this.#string(v);
        return true;
      case 'number':
        if (!Number.isFinite(v) || Object.is(v, -0)) return false;
        if (Number.isSafeInteger(v) && Math.abs(v) < 1e15) this.#integer(v);
        else this.#plain(String(v)); // JSON writes numbers as String() does
        return true;
      case 'boolean':
        this.#ascii(v ? TRUE : FALSE);
        return true;
      case 'object':
        break;
      default:
        return false;
    }
    if (v === null) {
      this.#ascii(NULL);
      return true;
    }
    if (ArrayBuffer.isView(v)) {
      this.#ascii(MARK_OPEN);
      this.#integer(this.views.length);
      this.#ascii(MARK_TYPE);
      this.#integer(this.ctorIndex(v));
      this.#byte(0x7d);
      this.views.push(v);
      return true;
    }
    if (Array.isArray(v)) {
      this.#byte(0x5b);
      for (let i = 0; i < v.length; i++) {
        if (i) this.#byte(0x2c);
        if (v[i] === undefined || !this.#value(v[i])) return false; // undefined or a hole: v8 form
      }
      this.#byte(0x5d);
      return true;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    this.#byte(0x7b);
    let first = true;
    for (const k of Object.keys(v)) {
      if (!first) this.#byte(0x2c);
      first = false;
      this.#string(k);
      this.#byte(0x3a);
      if (!this.#value((v as Record<string, unknown>)[k])) return false;
    }
    this.#byte(0x7d);
    return true;
  }
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
