// Message registry: ROS2 message definitions (parsed from .msg text with @foxglove/rosmsg) and
// cached CDR readers/writers (@foxglove/rosmsg2-serialization) per type.
//
// Where definitions come from, first match wins:
//   1. definitions added at run time (addDefinition / addMsgFile),
//   2. search directories laid out as <dir>/<pkg>/msg/<Type>.msg (addSearchPath),
//   3. the share trees of AMENT_PREFIX_PATH (<prefix>/share/<pkg>/msg/<Type>.msg),
//   4. the definitions shipped in msg/ (vision_msgs, ...),
//   5. the ROS2 common set of @foxglove/rosmsg-msgs-common for $ROS_DISTRO (humble by default).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';
import { parse as parseMsg } from '@foxglove/rosmsg';
import * as common from '@foxglove/rosmsg-msgs-common';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { packageRoot } from '../util/paths.js';
import { compileCodec, type CdrCodec } from './cdr-codec.js';
import { canonicalType, parseTypeName } from './names.js';

export type { MessageDefinition, MessageDefinitionField };

export class MessageTypeError extends Error {
  override name = 'MessageTypeError';
}

export class MessageDecodeError extends Error {
  override name = 'MessageDecodeError';
}

type CommonSet = Record<string, MessageDefinition>;
const DISTROS: Record<string, CommonSet> = {
  humble: common.ros2humble as unknown as CommonSet,
  iron: common.ros2iron as unknown as CommonSet,
  jazzy: common.ros2jazzy as unknown as CommonSet,
  galactic: common.ros2galactic as unknown as CommonSet,
};

/** Internal key of a type: `pkg/Type` (how @foxglove names nested types). */
function keyOf(type: string): string {
  const t = parseTypeName(type);
  return `${t.pkg}/${t.name}`;
}

function publicName(key: string): string {
  const [pkg, name] = key.split('/') as [string, string];
  return `${pkg}/msg/${name}`;
}

export interface CompiledType {
  /** Canonical name `pkg/msg/Type`. */
  type: string;
  /** Root definition first, then every nested type it uses. */
  definitions: MessageDefinition[];
  reader: MessageReader;
  writer: MessageWriter;
  /** Generated CDR_LE decode/encode for the type (null where a field kind is not covered: the readers above serve). */
  codec: CdrCodec | null;
  /** Where the root definition was found. */
  source: string;
}

export interface MessageRegistryOptions {
  distro?: string;
  ament?: boolean;
  searchPaths?: string[];
}

export class MessageRegistry {
  readonly distro: string;
  #common: CommonSet;
  #added = new Map<string, { text: string; source: string }>();
  #searchPaths: string[] = [];
  #shareTrees: string[];
  #parsed = new Map<string, { def: MessageDefinition; source: string } | null>();
  #compiled = new Map<string, CompiledType>();

  constructor(opts: MessageRegistryOptions = {}) {
    const distro = (opts.distro ?? process.env.ROS_DISTRO ?? 'humble').toLowerCase();
    this.distro = DISTROS[distro] ? distro : 'humble';
    this.#common = DISTROS[this.distro]!;
    this.#searchPaths = [...(opts.searchPaths ?? [])];
    const ament = opts.ament ?? true;
    this.#shareTrees = ament
      ? (process.env.AMENT_PREFIX_PATH ?? '').split(':').filter(Boolean).map((p) => join(p, 'share'))
      : [];
  }

  /** Adds a definition from .msg text for `type` (overrides every other source). */
  addDefinition(type: string, msgText: string, source = `<${canonicalType(type)}>`): void {
    this.#added.set(keyOf(type), { text: msgText, source });
    this.#invalidate();
  }

  /** Adds a .msg file; its type is `pkg/msg/<file name>` where pkg defaults to the folder two levels up. */
  addMsgFile(file: string, type?: string): string {
    if (!existsSync(file)) throw new MessageTypeError(`message file '${file}' does not exist`);
    const name = basename(file).replace(/\.msg$/, '');
    const full = type ?? `${basename(dirname(dirname(file)))}/msg/${name}`;
    this.addDefinition(full, readFileSync(file, 'utf8'), file);
    return canonicalType(full);
  }

  /** Adds a folder laid out as <dir>/<pkg>/msg/<Type>.msg, searched before AMENT_PREFIX_PATH. */
  addSearchPath(dir: string): void {
    this.#searchPaths.push(dir);
    this.#invalidate();
  }

  has(type: string): boolean {
    try {
      this.compile(type);
      return true;
    } catch {
      return false;
    }
  }

  /** Root definition first, then nested ones, as @foxglove/rosmsg2-serialization takes them. */
  definition(type: string): MessageDefinition[] {
    return this.compile(type).definitions;
  }

  /** Fields of one type (nested types named `pkg/Type`). */
  fields(type: string): MessageDefinitionField[] {
    return this.#lookup(keyOf(type), type).def.definitions;
  }

  reader(type: string): MessageReader {
    return this.compile(type).reader;
  }

  writer(type: string): MessageWriter {
    return this.compile(type).writer;
  }

  serialize(type: string, msg: unknown): Uint8Array {
    const c = this.compile(type);
    if (!c.codec) return c.writer.writeMessage(msg);
    const out = new Uint8Array(c.codec.maxSize(msg));
    return out.subarray(0, c.codec.encodeInto(msg, out));
  }

  /** Decodes CDR bytes; throws MessageDecodeError naming the type when they do not fit it. */
  deserialize<T = unknown>(type: string, bytes: ArrayBufferView): T {
    const c = this.compile(type);
    try {
      return decodeSample<T>(c, bytes);
    } catch (err) {
      throw new MessageDecodeError(`${c.type}: CDR payload of ${bytes.byteLength} bytes does not decode (${(err as Error).message})`);
    }
  }

  /** Types known without a ROS2 install: shipped msg/ plus the common set. */
  knownTypes(): string[] {
    const keys = new Set<string>(Object.keys(this.#common));
    for (const k of this.#added.keys()) keys.add(k);
    for (const k of shippedTypes()) keys.add(k);
    return [...keys].map(publicName).sort();
  }

  compile(type: string): CompiledType {
    const key = keyOf(type);
    const hit = this.#compiled.get(key);
    if (hit) return hit;
    const root = this.#lookup(key, type);
    const definitions: MessageDefinition[] = [{ ...root.def, name: key }];
    const seen = new Set([key]);
    const visit = (def: MessageDefinition, from: string): void => {
      for (const f of def.definitions) {
        if (!f.isComplex || seen.has(f.type)) continue;
        seen.add(f.type);
        const nested = this.#lookup(f.type, `${f.type} (field '${f.name}' of ${publicName(from)})`);
        definitions.push({ ...nested.def, name: f.type });
        visit(nested.def, f.type);
      }
    };
    visit(root.def, key);
    const compiled: CompiledType = {
      type: publicName(key),
      definitions,
      reader: new MessageReader(definitions),
      writer: new MessageWriter(definitions),
      codec: tryCodec(definitions),
      source: root.source,
    };
    this.#compiled.set(key, compiled);
    return compiled;
  }

  #invalidate(): void {
    this.#parsed.clear();
    this.#compiled.clear();
  }

  #lookup(key: string, asked: string): { def: MessageDefinition; source: string } {
    let hit = this.#parsed.get(key);
    if (hit === undefined) {
      hit = this.#find(key);
      this.#parsed.set(key, hit);
    }
    if (!hit) {
      const [pkg, name] = key.split('/') as [string, string];
      const where = [
        ...this.#searchPaths.map((d) => join(d, pkg, 'msg', `${name}.msg`)),
        ...this.#shareTrees.map((d) => join(d, pkg, 'msg', `${name}.msg`)),
        join(shippedRoot(), pkg, 'msg', `${name}.msg`),
        `@foxglove/rosmsg-msgs-common (${this.distro})`,
      ];
      throw new MessageTypeError(`unknown message type '${asked}': no definition in ${where.join(', ')}`);
    }
    return hit;
  }

  #find(key: string): { def: MessageDefinition; source: string } | null {
    const [pkg, name] = key.split('/') as [string, string];
    const added = this.#added.get(key);
    if (added) return { def: this.#parseText(added.text, pkg, added.source), source: added.source };
    const files = [
      ...this.#searchPaths.map((d) => join(d, pkg, 'msg', `${name}.msg`)),
      ...this.#shareTrees.map((d) => join(d, pkg, 'msg', `${name}.msg`)),
      join(shippedRoot(), pkg, 'msg', `${name}.msg`),
    ];
    for (const file of files) {
      if (existsSync(file)) return { def: this.#parseText(readFileSync(file, 'utf8'), pkg, file), source: file };
    }
    const def = this.#common[key];
    if (def) return { def, source: `@foxglove/rosmsg-msgs-common (${this.distro})` };
    return null;
  }

  /** Parses .msg text; nested type names become `pkg/Type` (relative names resolve to `pkg`). */
  #parseText(text: string, pkg: string, source: string): MessageDefinition {
    let defs: MessageDefinition[];
    try {
      defs = parseMsg(text, { ros2: true, skipTypeFixup: true });
    } catch (err) {
      throw new MessageTypeError(`${source}: ${(err as Error).message}`);
    }
    const root = defs[0];
    if (!root) throw new MessageTypeError(`${source}: empty message definition`);
    const definitions = root.definitions.map((f) => {
      if (!f.isComplex) return f;
      const parts = f.type.split('/');
      let type: string;
      if (parts.length === 1) type = f.type === 'Header' ? 'std_msgs/Header' : `${pkg}/${f.type}`;
      else if (parts.length === 2) type = f.type;
      else if (parts.length === 3) type = `${parts[0]}/${parts[2]}`;
      else throw new MessageTypeError(`${source}: field '${f.name}': cannot resolve type '${f.type}'`);
      return { ...f, type };
    });
    return { definitions };
  }
}

/**
 * The sample without the padding its encapsulation options declare (XCDR: the low two bits
 * of the options say how many bytes at the end only round the sample up to 4 bytes).
 */
export function withoutPadding<V extends ArrayBufferView>(bytes: V): V | Uint8Array {
  if (bytes.byteLength < 4) return bytes;
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pad = u8[3]! & 3;
  return pad === 0 || u8.byteLength < 4 + pad ? bytes : u8.subarray(0, u8.byteLength - pad);
}

/**
 * Decodes one sample. The CDR reader does not bound strings and arrays by the view it is
 * given, so a sample that claims more bytes than it has is caught here.
 */
export function decodeCdr<T>(reader: MessageReader, bytes: ArrayBufferView): T {
  const view = withoutPadding(bytes);
  const msg = reader.readMessage<T>(view);
  if (reader.lastReadByteLength() > view.byteLength) {
    throw new RangeError(`sample of ${view.byteLength} bytes claims ${reader.lastReadByteLength()}`);
  }
  return msg;
}

/**
 * Decodes one sample with the type's compiled codec when it is CDR little-endian (what ROS2
 * sends), else with the reference reader; throws when the sample claims more bytes than it has.
 */
export function decodeSample<T>(c: CompiledType, bytes: ArrayBufferView): T {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (c.codec && u8.byteLength >= 4 && u8[0] === 0 && u8[1] === 1) {
    const pad = u8[3]! & 3; // as withoutPadding
    return c.codec.decode<T>(u8, pad === 0 || u8.byteLength < 4 + pad ? u8.byteLength : u8.byteLength - pad);
  }
  return decodeCdr<T>(c.reader, u8);
}

function tryCodec(definitions: MessageDefinition[]): CdrCodec | null {
  try {
    return compileCodec(definitions);
  } catch {
    return null;
  }
}

let shipped: string | undefined;
function shippedRoot(): string {
  shipped ??= join(packageRoot(), 'msg');
  return shipped;
}

function shippedTypes(): string[] {
  const out: string[] = [];
  const root = shippedRoot();
  try {
    for (const pkg of readdirSafe(root)) {
      for (const f of readdirSafe(join(root, pkg, 'msg'))) if (f.endsWith('.msg')) out.push(`${pkg}/${f.slice(0, -4)}`);
    }
  } catch {
    /* no shipped definitions */
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

let shared: MessageRegistry | undefined;

/** The process-wide registry (readers and writers are compiled once per type). */
export function messageRegistry(): MessageRegistry {
  shared ??= new MessageRegistry();
  return shared;
}
