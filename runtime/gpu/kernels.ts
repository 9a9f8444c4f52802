// Kernel descriptors as TypeScript sees them, and packing of named launch arguments into the
// flat Float64Array the native launch path reads (buffer: handle, byte offset; scalar: value).
import type { NativeKernelDesc, NativeParamDesc } from './native.js';

/** A buffer handle plus a byte offset: an interior pointer, a valid launch argument. */
export interface Ptr {
  readonly handle: number;
  readonly offset: number;
}

/** Anything that can be passed for a buffer parameter. */
export interface BufferLike {
  readonly handle: number;
}

export type KernelArg = number | BufferLike | Ptr;
export type KernelArgs = Readonly<Record<string, KernelArg>>;

export type KernelDescriptor = NativeKernelDesc;
/**
 * A parameter as the addon describes it, including the scalars that gate a buffer's accesses
 * (the validator's instance-level rules): `readIfNonzero`, `writeIfNonzero`, `activeIfNonzero`
 * and `selectOf` (element-wise select of another buffer parameter).
 */
export type ParamDescriptor = NativeParamDesc;

const isPtr = (v: unknown): v is Ptr => typeof v === 'object' && v !== null && 'offset' in v && 'handle' in v;

/** A kernel of the device's library, with its argument layout. */
export class Kernel {
  readonly id: number;
  readonly name: string;
  readonly params: readonly ParamDescriptor[];
  readonly sideEffects: readonly string[];
  readonly slots: number;
  private readonly slotOf: number[];
  private readonly byName = new Map<string, number>();
  // Reused for every launch of this kernel: the native side copies what it needs at once.
  private readonly scratch: Float64Array;

  constructor(readonly desc: KernelDescriptor) {
    this.id = desc.id;
    this.name = desc.name;
    this.params = desc.params;
    this.sideEffects = desc.sideEffects;
    let s = 0;
    this.slotOf = desc.params.map((p, i) => {
      this.byName.set(p.name, i);
      const at = s;
      s += p.kind === 'buffer' ? 2 : 1;
      return at;
    });
    this.slots = s;
    this.scratch = new Float64Array(s);
  }

  /** `name(n, a, x, ...)`: the signature, for messages. */
  signature(): string {
    return `${this.name}(${this.params.map((p) => p.name).join(', ')})`;
  }

  /**
   * Packs named arguments. Throws a clear error for a missing, unknown or mistyped argument.
   * Returns the kernel's scratch array unless `into` is given.
   */
  pack(args: KernelArgs, into?: Float64Array): Float64Array {
    const out = into ?? this.scratch;
    let given = 0;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      const v = args[p.name];
      const at = this.slotOf[i]!;
      if (v === undefined) throw new Error(`launch ${this.name}: missing argument '${p.name}'; expected ${this.signature()}`);
      given++;
      if (p.kind === 'buffer') {
        if (typeof v !== 'object' || v === null || typeof v.handle !== 'number') {
          throw new Error(`launch ${this.name}: argument '${p.name}' must be a device buffer or pointer, got ${typeof v}`);
        }
        out[at] = v.handle;
        out[at + 1] = isPtr(v) ? v.offset : 0;
      } else {
        if (typeof v !== 'number') throw new Error(`launch ${this.name}: argument '${p.name}' must be a number, got ${typeof v}`);
        out[at] = v;
      }
    }
    if (given !== Object.keys(args).length) {
      const extra = Object.keys(args).filter((k) => !this.byName.has(k));
      throw new Error(`launch ${this.name}: unknown argument${extra.length > 1 ? 's' : ''} ${extra.map((e) => `'${e}'`).join(', ')}; expected ${this.signature()}`);
    }
    return out;
  }

  /** Name of parameter `index` (access sets name the parameter each range came from). */
  paramName(index: number): string {
    return this.params[index]?.name ?? `#${index}`;
  }
}
