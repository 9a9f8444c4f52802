// An MCAP file written as messages arrive, chunked and indexed like @mcap/core's McapWriter but
// without copying message bytes: each chunk's records go straight from where the recorder put
// them (its shared ring) to the file with writev, behind a gap the chunk's header fills once the
// chunk is complete (its length and CRC are known then). Every byte is checksummed once, by
// zlib's native CRC-32; the data section's CRC is joined from the chunks' (crc32.ts). McapWriter
// copies a message four times and runs two JS CRC passes over it: at ~200 MB/s that took a core.
// The small records (header, schemas, channels, indexes, summary, footer) are @mcap/core's
// McapRecordBuilder's.
import { McapRecordBuilder, Opcode, type McapTypes } from '@mcap/core';
import { writeSync, writevSync } from 'node:fs';
import { crc32, crc32Combine } from './crc32.js';

/** opcode, record length, start and end time, uncompressed size, CRC, compression '' (u32 0), records length. */
const CHUNK_HEAD = 1 + 8 + 8 + 8 + 8 + 4 + 4 + 8;
/** opcode, record length, channel, sequence, log time, publish time. */
const MESSAGE_HEAD = 1 + 8 + 2 + 4 + 8 + 8;
const TWO32 = 2 ** 32;

/** Where a chunk's messages of one channel lie, for its Message Index record. */
class ChannelIndex {
  n = 0;
  times = new Float64Array(256);
  offsets = new Float64Array(256);
  push(time: number, offset: number): void {
    if (this.n === this.times.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.times = grow(this.times);
      this.offsets = grow(this.offsets);
    }
    this.times[this.n] = time;
    this.offsets[this.n++] = offset;
  }
}

export interface McapFileOptions {
  /** A chunk is closed once its records pass this many bytes. */
  chunkBytes?: number;
  /** Time 0 of the times given to add(), in ns since the epoch. */
  originNs?: bigint;
}

export class McapFile {
  readonly #fd: number;
  readonly #chunkBytes: number;
  readonly #origin: bigint;
  readonly #originHi: number;
  readonly #originLo: number;
  readonly #builder = new McapRecordBuilder();
  /** File position the next write goes to. */
  #pos = 0;
  #dataCrc = 0;
  readonly #schemas = new Map<number, McapTypes.Schema>();
  readonly #channels = new Map<number, McapTypes.Channel>();
  /** Channels whose Schema and Channel records are not in the file yet (they go before their first message). */
  readonly #unwritten = new Set<number>();
  readonly #writtenSchemas = new Set<number>();
  readonly #counts = new Map<number, number>();
  #messages = 0;
  #startTime = Infinity;
  #endTime = -Infinity;
  readonly #metadataIndexes: McapTypes.MetadataIndex[] = [];
  readonly #chunkIndexes: McapTypes.ChunkIndex[] = [];
  // The open chunk: its file position (-1: none), its records so far and their CRC.
  #chunkAt = -1;
  #records = 0;
  #recordsCrc = 0;
  #chunkStart = Infinity;
  #chunkEnd = -Infinity;
  readonly #index = new Map<number, ChannelIndex>();
  // Pieces of the open chunk not yet written: message headers (slices of #heads) and data.
  #iov: Uint8Array[] = [];
  #iovBytes = 0;
  #heads = new Uint8Array(MESSAGE_HEAD * 128);
  #headsView = new DataView(this.#heads.buffer);
  #headsUsed = 0;

  constructor(fd: number, opts: McapFileOptions = {}) {
    this.#fd = fd;
    this.#chunkBytes = opts.chunkBytes ?? 4 << 20;
    this.#origin = opts.originNs ?? 0n;
    this.#originHi = Number(this.#origin / BigInt(TWO32));
    this.#originLo = Number(this.#origin % BigInt(TWO32));
  }

  /** Writes the leading magic, the header and (optionally) one metadata record. */
  start(header: McapTypes.Header, metadata?: McapTypes.Metadata): void {
    const b = this.#builder;
    b.writeMagic();
    b.writeHeader(header);
    this.#writeData(b.buffer);
    b.reset();
    if (metadata) {
      const length = b.writeMetadata(metadata);
      this.#metadataIndexes.push({ name: metadata.name, offset: BigInt(this.#pos), length });
      this.#writeData(b.buffer);
      b.reset();
    }
  }

  addSchema(schema: McapTypes.Schema): void {
    this.#schemas.set(schema.id, schema);
  }

  addChannel(channel: McapTypes.Channel): void {
    this.#channels.set(channel.id, channel);
    this.#unwritten.add(channel.id);
    this.#counts.set(channel.id, 0);
  }

  /**
   * Queues one message for the open chunk: `data` is written by the next flush() (or sooner, when
   * the chunk fills) and must stay as it is until then. Times: ns since the origin, whole numbers.
   */
  add(channelId: number, sequence: number, logNs: number, publishNs: number, data: Uint8Array): void {
    if (this.#chunkAt < 0) this.#openChunk();
    if (this.#unwritten.has(channelId)) this.#channelRecords(channelId);
    if (this.#headsUsed + MESSAGE_HEAD > this.#heads.byteLength) {
      // Earlier headers stay referenced by the queued pieces: a fresh block, not a reuse.
      this.#heads = new Uint8Array(this.#heads.byteLength);
      this.#headsView = new DataView(this.#heads.buffer);
      this.#headsUsed = 0;
    }
    const at = this.#headsUsed;
    const dv = this.#headsView;
    dv.setUint8(at, Opcode.MESSAGE);
    this.#putU64(dv, at + 1, 22 + data.byteLength, false);
    dv.setUint16(at + 9, channelId, true);
    dv.setUint32(at + 11, sequence >>> 0, true);
    this.#putU64(dv, at + 15, logNs, true);
    this.#putU64(dv, at + 23, publishNs, true);
    this.#headsUsed += MESSAGE_HEAD;
    let index = this.#index.get(channelId);
    if (!index) this.#index.set(channelId, (index = new ChannelIndex()));
    index.push(logNs, this.#records);
    this.#queue(this.#heads.subarray(at, at + MESSAGE_HEAD));
    this.#queue(data);
    if (logNs < this.#chunkStart) this.#chunkStart = logNs;
    if (logNs > this.#chunkEnd) this.#chunkEnd = logNs;
    this.#counts.set(channelId, (this.#counts.get(channelId) ?? 0) + 1);
    this.#messages++;
    if (this.#records >= this.#chunkBytes) this.#closeChunk();
  }

  /** Writes the queued pieces of the open chunk: their bytes may be reused after this. */
  flush(): void {
    if (!this.#iov.length) return;
    let written = writevSync(this.#fd, this.#iov, this.#pos);
    if (written < this.#iovBytes) {
      // A short write (rare on files): the rest, piece by piece.
      let skip = written;
      for (const piece of this.#iov) {
        if (skip >= piece.byteLength) {
          skip -= piece.byteLength;
          continue;
        }
        let off = skip;
        skip = 0;
        while (off < piece.byteLength) {
          const n = writeSync(this.#fd, piece, off, piece.byteLength - off, this.#pos + written);
          off += n;
          written += n;
        }
      }
    }
    this.#pos += written;
    this.#iov = [];
    this.#iovBytes = 0;
    this.#headsUsed = 0;
  }

  /** Closes the open chunk and writes the summary section and the footer. */
  end(): void {
    this.#closeChunk();
    const b = this.#builder;
    b.writeDataEnd({ dataSectionCrc: this.#dataCrc });
    this.#writeRaw(b.buffer);
    b.reset();

    const summaryStart = this.#pos;
    const groups: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, write: () => void) => {
      const start = b.length;
      write();
      if (b.length > start) groups.push({ groupOpcode: opcode, groupStart: BigInt(summaryStart + start), groupLength: BigInt(b.length - start) });
    };
    group(Opcode.SCHEMA, () => this.#schemas.forEach((s) => b.writeSchema(s)));
    group(Opcode.CHANNEL, () => this.#channels.forEach((c) => b.writeChannel(c)));
    group(Opcode.STATISTICS, () => b.writeStatistics(this.#statistics()));
    group(Opcode.METADATA_INDEX, () => this.#metadataIndexes.forEach((m) => b.writeMetadataIndex(m)));
    group(Opcode.CHUNK_INDEX, () => this.#chunkIndexes.forEach((c) => b.writeChunkIndex(c)));
    const summaryOffsetStart = summaryStart + b.length;
    for (const g of groups) b.writeSummaryOffset(g);
    // The footer's CRC covers the summary, the summary offsets and the footer up to the CRC.
    const footerHead = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerHead.setUint8(0, Opcode.FOOTER);
    footerHead.setBigUint64(1, 8n + 8n + 4n, true);
    footerHead.setBigUint64(9, BigInt(summaryStart), true);
    footerHead.setBigUint64(17, BigInt(summaryOffsetStart), true);
    const summaryCrc = crc32(new Uint8Array(footerHead.buffer), crc32(b.buffer));
    b.writeFooter({ summaryStart: BigInt(summaryStart), summaryOffsetStart: BigInt(summaryOffsetStart), summaryCrc });
    b.writeMagic();
    this.#writeRaw(b.buffer);
    b.reset();
  }

  #statistics(): McapTypes.Statistics {
    const some = this.#messages > 0;
    return {
      messageCount: BigInt(this.#messages),
      schemaCount: this.#schemas.size,
      channelCount: this.#channels.size,
      attachmentCount: 0,
      metadataCount: this.#metadataIndexes.length,
      chunkCount: this.#chunkIndexes.length,
      messageStartTime: some ? this.#time(this.#startTime) : 0n,
      messageEndTime: some ? this.#time(this.#endTime) : 0n,
      channelMessageCounts: new Map([...this.#counts].map(([id, n]) => [id, BigInt(n)])),
    };
  }

  #time(ns: number): bigint {
    return this.#origin + BigInt(ns);
  }

  /** Writes `u64` = (origin if `fromOrigin`) + `v` (a whole number, maybe past 2^32) without a bigint. */
  #putU64(dv: DataView, at: number, v: number, fromOrigin: boolean): void {
    const hi = Math.floor(v / TWO32);
    let lo = v - hi * TWO32;
    let high = hi;
    if (fromOrigin) {
      lo += this.#originLo;
      high += this.#originHi;
      if (lo >= TWO32) {
        lo -= TWO32;
        high++;
      }
    }
    dv.setUint32(at, lo, true);
    dv.setUint32(at + 4, high, true);
  }

  #queue(piece: Uint8Array): void {
    this.#iov.push(piece);
    this.#iovBytes += piece.byteLength;
    this.#records += piece.byteLength;
    this.#recordsCrc = crc32(piece, this.#recordsCrc);
  }

  /** The Schema (if new) and Channel records of `channelId`, into the open chunk. */
  #channelRecords(channelId: number): void {
    this.#unwritten.delete(channelId);
    const c = this.#channels.get(channelId)!;
    const b = this.#builder;
    if (c.schemaId !== 0 && !this.#writtenSchemas.has(c.schemaId)) {
      b.writeSchema(this.#schemas.get(c.schemaId)!);
      this.#writtenSchemas.add(c.schemaId);
    }
    b.writeChannel(c);
    this.#queue(b.buffer);
    b.reset();
  }

  #openChunk(): void {
    this.#chunkAt = this.#pos;
    this.#pos += CHUNK_HEAD; // the header, once the chunk is complete
    this.#records = 0;
    this.#recordsCrc = 0;
    this.#chunkStart = Infinity;
    this.#chunkEnd = -Infinity;
  }

  #closeChunk(): void {
    if (this.#chunkAt < 0) return;
    this.flush();
    const records = this.#records;
    const head = new DataView(new ArrayBuffer(CHUNK_HEAD));
    head.setUint8(0, Opcode.CHUNK);
    this.#putU64(head, 1, CHUNK_HEAD - 9 + records, false);
    this.#putU64(head, 9, this.#chunkStart, true);
    this.#putU64(head, 17, this.#chunkEnd, true);
    this.#putU64(head, 25, records, false);
    head.setUint32(33, this.#recordsCrc, true);
    head.setUint32(37, 0, true); // compression: none
    this.#putU64(head, 41, records, false);
    const headBytes = new Uint8Array(head.buffer);
    for (let off = 0; off < CHUNK_HEAD; ) off += writeSync(this.#fd, headBytes, off, CHUNK_HEAD - off, this.#chunkAt + off);
    this.#dataCrc = crc32Combine(crc32(headBytes, this.#dataCrc), this.#recordsCrc, records);
    if (this.#chunkStart < this.#startTime) this.#startTime = this.#chunkStart;
    if (this.#chunkEnd > this.#endTime) this.#endTime = this.#chunkEnd;

    // The chunk's Message Index records, one per channel, right after it.
    const indexStart = this.#pos;
    const offsets = new Map<number, bigint>();
    for (const [channelId, ix] of this.#index) {
      if (!ix.n) continue;
      const rec = new DataView(new ArrayBuffer(1 + 8 + 2 + 4 + 16 * ix.n));
      rec.setUint8(0, Opcode.MESSAGE_INDEX);
      this.#putU64(rec, 1, 2 + 4 + 16 * ix.n, false);
      rec.setUint16(9, channelId, true);
      rec.setUint32(11, 16 * ix.n, true);
      for (let i = 0; i < ix.n; i++) {
        this.#putU64(rec, 15 + 16 * i, ix.times[i]!, true);
        this.#putU64(rec, 23 + 16 * i, ix.offsets[i]!, false);
      }
      offsets.set(channelId, BigInt(this.#pos));
      this.#writeData(new Uint8Array(rec.buffer));
      ix.n = 0;
    }
    this.#chunkIndexes.push({
      messageStartTime: this.#time(this.#chunkStart),
      messageEndTime: this.#time(this.#chunkEnd),
      chunkStartOffset: BigInt(this.#chunkAt),
      chunkLength: BigInt(CHUNK_HEAD + records),
      messageIndexOffsets: offsets,
      messageIndexLength: BigInt(this.#pos - indexStart),
      compression: '',
      compressedSize: BigInt(records),
      uncompressedSize: BigInt(records),
    });
    this.#chunkAt = -1;
  }

  /** Writes bytes of the data section (outside a chunk) and adds them to its CRC. */
  #writeData(bytes: Uint8Array): void {
    this.#dataCrc = crc32(bytes, this.#dataCrc);
    this.#writeRaw(bytes);
  }

  #writeRaw(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.byteLength; ) off += writeSync(this.#fd, bytes, off, bytes.byteLength - off, this.#pos + off);
    this.#pos += bytes.byteLength;
  }
}
