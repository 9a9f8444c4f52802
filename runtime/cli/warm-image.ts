// Warm models in a checkpoint image (runtime/xpu/warm-models.ts): each one is two blobs of the
// image, `model-KEY.ort` (onnxruntime's optimized model) and `model-KEY.probe` (a first run's
// inputs and outputs), with checksums in the manifest as its chunks have, and a descriptor in
// the manifest's meta (`warmModels`: who opened it, which onnxruntime optimized it, for which
// execution provider). A start from the image refuses, with the reason, a warm model whose blob
// is missing, short or damaged, or that another onnxruntime version optimized (its graph may
// hold that version's fused operators and hardware-specific layouts).
import { blobFile, epochDir, ImageError, readBlob, type Manifest } from '../gpu/checkpoint-image.js';
import { ortVersion, type WarmModelFiles, type WarmModelInfo } from '../xpu/warm-models.js';

export const modelBlob = (key: string) => `model-${key}.ort`;
export const probeBlob = (key: string) => `model-${key}.probe`;

const infosOf = (m: Manifest | undefined): WarmModelInfo[] => (Array.isArray(m?.meta.warmModels) ? (m.meta.warmModels as WarmModelInfo[]) : []);

/**
 * The warm models of a committed image, each checked (version, both blobs' length and
 * checksum); the files a session opens. Throws ImageError for the first one refused.
 */
export function imagedModels(dir: string, m: Manifest, installed = ortVersion()): Record<string, { info: WarmModelInfo; files: WarmModelFiles }> {
  const out: Record<string, { info: WarmModelInfo; files: WarmModelFiles }> = {};
  for (const info of infosOf(m)) {
    if (typeof info?.key !== 'string' || !/^[0-9a-f]{24}$/.test(info.key)) throw new ImageError('corrupt', `${epochDir(dir, m.epoch)}: a warm model with no valid key`);
    if (![info.sourceOpenMs, info.warmOpenMs, info.runMs].every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new ImageError('corrupt', `${epochDir(dir, m.epoch)}: the warm model of '${info.name}' has no open and run times`);
    if (info.ort !== installed)
      throw new ImageError('version', `${epochDir(dir, m.epoch)}: the warm model of '${info.name}' was optimized by onnxruntime ${info.ort}; this xauto has onnxruntime ${installed} (take a new image, or start without warm models: --warm-models never)`);
    const files: Partial<WarmModelFiles> = {};
    for (const [k, name] of [['model', modelBlob(info.key)], ['probe', probeBlob(info.key)]] as const) {
      readBlob(dir, m, name); // length and checksum, or ImageError
      files[k] = blobFile(dir, m.blobs![name]![0], name);
    }
    out[info.key] = { info, files: files as WarmModelFiles };
  }
  return out;
}

/** Staged models as the blobs of an epoch. */
export function modelBlobs(models: Array<{ info: WarmModelInfo; model: Uint8Array; probe: Uint8Array }>): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const s of models) {
    out[modelBlob(s.info.key)] = s.model;
    out[probeBlob(s.info.key)] = s.probe;
  }
  return out;
}

/** What the next epoch holds: the last committed epoch's warm models, and staged ones it lacks. */
export function modelsToCut<S extends { info: WarmModelInfo }>(last: Manifest | undefined, staged: S[]): { carried: WarmModelInfo[]; fresh: S[] } {
  const carried = infosOf(last).filter((i) => last?.blobs?.[modelBlob(i.key)] && last.blobs[probeBlob(i.key)]);
  const have = new Set(carried.map((i) => i.key));
  return { carried, fresh: staged.filter((s) => !have.has(s.info.key)) };
}
