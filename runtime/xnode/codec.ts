// Value codecs: a message type may give the worker wire (xpu/wire.ts) a fixed binary layout, so
// a message crossing to or from a pool worker is written into the shared slot directly.
// Anything else crosses v8-serialized, which walks nested objects: about 100 us each way for a
// 4 KB message whose history is an array of records (the reference system's Message4kb),
// against a few microseconds for its own layout.
// A codec is registered by the module that defines its type, on import; the pool has each
// worker import the modules of the codecs registered on the main thread before it creates a
// stage there, so both ends know them. A codec that cannot write a value exactly declines
// it (write returns -1) and the value goes v8-serialized.

export interface ValueCodec<T = unknown> {
  /** Written before each value: unique among codecs. */
  readonly name: string;
  /** A cheap structural test: whether this codec may be able to write `v`. */
  accepts(v: unknown): v is T;
  /** Writes `v` at `at`; returns where it ends, or -1 when it does not fit before `end` or cannot be written exactly. */
  write(view: DataView, at: number, end: number, v: T): number;
  /** Reads a value written by write() from `at` to `end`. */
  read(view: DataView, at: number, end: number): T;
}

/**
 * How many enumerable fields `v` has: a layout writes only the fields it knows, so a codec
 * accepts a value only with exactly those (anything else on it would be lost).
 */
export function fieldCount(v: object): number {
  let n = 0;
  for (const _ in v) n++;
  return n;
}

const byName = new Map<string, ValueCodec>();
const modules = new Set<string>();
let list: readonly ValueCodec[] = [];

/** Registers `codec` (`module`: the URL of the module that registers it, for the pool's workers). */
export function registerValueCodec(codec: ValueCodec, module: string): void {
  const had = byName.get(codec.name);
  if (had && had !== codec) throw new Error(`value codec '${codec.name}' is registered twice (${module})`);
  byName.set(codec.name, codec);
  modules.add(module);
  list = [...byName.values()];
}

/** The registered codecs, in registration order. */
export function valueCodecs(): readonly ValueCodec[] {
  return list;
}

export function valueCodec(name: string): ValueCodec {
  const c = byName.get(name);
  if (!c) throw new Error(`value codec '${name}' is not registered in this thread (import the module that defines its message type)`);
  return c;
}

/** URLs of the modules that registered codecs here: a worker imports them before its stages. */
export function valueCodecModules(): string[] {
  return [...modules];
}
