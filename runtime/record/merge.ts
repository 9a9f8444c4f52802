// Several recordings merged into one MCAP file ordered by log time: what a launch of several
// processes (each recording the topics its own stages publish, FILE.<process>.mcap) or of
// several hosts leaves behind, made the one file a user opens in Foxglove or replays. Messages
// keep their bytes, sequence and times; equal schemas are written once; a topic found in two
// inputs is one channel when both agree on its type, encoding and schema, and refused when not
// (two different streams under one name cannot be told apart afterwards).
import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { McapFile } from './mcap-file.js';
import { Recording, RecordingError, type RecordedChannel, type RecordedMessage } from './reader.js';

export interface MergeStats {
  file: string;
  inputs: number;
  messages: number;
  topics: number;
}

/** Messages queued by McapFile between writes (it writes each batch in one writev). */
const FLUSH_EVERY = 64;

type Schema = NonNullable<RecordedChannel['schema']>;

const sameSchema = (a: Schema, b: Schema) => a.name === b.name && a.encoding === b.encoding && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(b.data);

/** What makes two channels of one topic the same stream. */
function agree(a: RecordedChannel, b: RecordedChannel): boolean {
  if (a.type !== b.type || a.encoding !== b.encoding) return false;
  if (!a.schema || !b.schema) return !a.schema && !b.schema;
  return sameSchema(a.schema, b.schema);
}

/**
 * Merges `inputs` into `out` (written beside it first, then renamed: `out` may be one of the
 * inputs). Metadata: each input's xauto metadata, with `process` listing every input's.
 */
export async function mergeRecordings(inputs: string[], out: string): Promise<MergeStats> {
  if (!inputs.length) throw new RecordingError('nothing to merge: no recording given');
  const recs: Recording[] = [];
  const partial = `${out}.merging`;
  let fd = -1;
  try {
    for (const f of inputs) recs.push(await Recording.open(f));
    // Channels by topic; schemas by content.
    const byTopic = new Map<string, { id: number; first: RecordedChannel; from: string }>();
    const idOf = new Map<RecordedChannel, number>();
    const schemas: Array<{ id: number; schema: Schema }> = [];
    for (const [i, r] of recs.entries()) {
      for (const c of r.channels) {
        const known = byTopic.get(c.topic);
        if (known && !agree(known.first, c)) {
          throw new RecordingError(`${c.topic}: recorded as ${known.first.type} (${known.first.encoding}) in ${known.from} but as ${c.type} (${c.encoding}) in ${inputs[i]}; not merging two different streams under one topic`);
        }
        const entry = known ?? { id: byTopic.size, first: c, from: inputs[i]! };
        byTopic.set(c.topic, entry);
        idOf.set(c, entry.id);
      }
    }
    const metadata: Record<string, string> = {};
    const processes: string[] = [];
    for (const r of recs) {
      for (const [k, v] of Object.entries(r.metadata)) if (k !== 'process') metadata[k] ??= v;
      if (r.metadata.process) processes.push(r.metadata.process);
    }
    if (processes.length) metadata.process = processes.join(',');

    const starts = recs.filter((r) => r.channels.some((c) => c.messages > 0)).map((r) => r.span.start);
    const origin = starts.length ? starts.reduce((a, b) => (b < a ? b : a)) : 0n;
    fd = openSync(partial, 'w');
    const file = new McapFile(fd, { originNs: origin });
    file.start({ profile: 'ros2', library: 'xauto' }, Object.keys(metadata).length ? { name: 'xauto', metadata: new Map(Object.entries(metadata)) } : undefined);
    for (const { id, first } of byTopic.values()) {
      let schemaId = 0;
      if (first.schema) {
        const s = first.schema;
        const hit = schemas.find((x) => sameSchema(x.schema, s));
        schemaId = hit?.id ?? schemas.length + 1;
        if (!hit) {
          schemas.push({ id: schemaId, schema: s });
          file.addSchema({ ...s, id: schemaId });
        }
      }
      file.addChannel({ id, topic: first.topic, messageEncoding: first.encoding, schemaId, metadata: first.metadata });
    }

    // A k-way merge of the inputs, each already in log-time order; ties keep the inputs' order.
    const its = recs.map((r) => r.messages());
    const heads: Array<RecordedMessage | undefined> = await Promise.all(its.map(async (it) => (await it.next()).value ?? undefined));
    let messages = 0;
    for (;;) {
      let k = -1;
      for (let i = 0; i < heads.length; i++) if (heads[i] && (k < 0 || heads[i]!.logTime < heads[k]!.logTime)) k = i;
      if (k < 0) break;
      const m = heads[k]!;
      file.add(idOf.get(m.channel)!, m.seq, Number(m.logTime - origin), Number(m.publishTime - origin), m.data);
      if (++messages % FLUSH_EVERY === 0) file.flush();
      heads[k] = (await its[k]!.next()).value ?? undefined;
    }
    file.end();
    closeSync(fd);
    fd = -1;
    renameSync(partial, out);
    return { file: out, inputs: inputs.length, messages, topics: byTopic.size };
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(partial, { force: true });
    throw e instanceof RecordingError ? e : new RecordingError(`merging into ${out}: ${(e as Error).message}`);
  } finally {
    for (const r of recs) await r.close();
  }
}
