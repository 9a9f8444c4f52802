// Types of the checkpoint/restore face of native/device (src/addon_checkpoint.cc).
import { loadAddon } from '../util/native.js';
import type { NativeDevice } from './native.js';

export type CheckpointMode = 'concurrent' | 'stop-the-world';

export interface NativeEpochStart {
  epoch: number;
  /** 0 for a full checkpoint. */
  parent: number;
  chunks: number;
  bytes: number;
  /** How long `begin` held the caller (stop-the-world: the whole copy). */
  pauseUs: number;
}

export interface NativeEpochResult {
  epoch: number;
  parent: number;
  error: string | null;
  /** Per handle: index, gen, isView, rootIndex, base, bytes (SLOT_FIELDS each). */
  slots: Float64Array;
  /** Per chunk written, in file order: slot, chunk, offset, len, crc32 (SAVED_FIELDS each). */
  saved: Float64Array;
  copyUs: number;
  writeUs: number;
  cowChunks: number;
  copierChunks: number;
  /** Most copies of one chunk in this epoch (1 when the state machine works). */
  maxCopies: number;
  /** Time post-cut launches spent saving chunks before they ran (soft copy-on-write). */
  cowUs: number;
}

export interface NativeRestorePlan {
  epoch: number;
  files: string[];
  slots: Float64Array;
  /** Per chunk of every root in `slots` order: file, offset, len, crc32. */
  chunks: Float64Array;
  onDemand: boolean;
  verify: boolean;
  loaderDelayUs?: number;
}

export interface NativeCheckpointStats {
  epochs: number;
  cowChunks: number;
  copierChunks: number;
  cowUs: number;
  onDemandLoads: number;
  backgroundLoads: number;
  loadWaits: number;
  hostLoads: number;
  loadedChunks: number;
  totalChunks: number;
  restoring: boolean;
}

export interface NativeCheckpoint {
  begin(mode: CheckpointMode, incremental: boolean, chunkFile: string, copierDelayUs?: number): NativeEpochStart;
  wait(): Promise<NativeEpochResult>;
  commit(epoch: number): void;
  /** Returns the microseconds until launches may run (metadata only when on demand). */
  restore(plan: NativeRestorePlan): number;
  restoreDone(): Promise<void>;
  stats(): NativeCheckpointStats;
}

export const SLOT_FIELDS = 6;
export const SAVED_FIELDS = 5;

interface Addon {
  NativeCheckpoint: new (device: NativeDevice, chunkBytes: number) => NativeCheckpoint;
  kernels(): unknown[];
}

export const checkpointAddon = (): Addon => loadAddon<Addon>('device');
