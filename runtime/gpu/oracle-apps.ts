// Scoring the application corpus (corpus-apps.ts) against the brute-force check (oracle.ts),
// with every false negative put down to its cause and every instance to its launch pattern.
import type { AppInstance } from './corpus-apps.js';
import type { Device } from './device.js';
import { bruteForceIdempotent } from './oracle.js';

export interface AppsScore {
  instances: number;
  falsePositives: number;
  falseNegatives: number;
  dynamicIdempotent: number;
  validatorIdempotent: number;
  falseNegativeRate: number;
  fpInstances: string[];
  /** False negatives by why the validator could not prove them. */
  byCause: Record<string, number>;
  /** Per launch pattern: [instances, validator idempotent, brute-force idempotent]. */
  byPattern: Record<string, [number, number, number]>;
  /** Per model: [instances, validator idempotent, brute-force idempotent]. */
  byModel: Record<string, [number, number, number]>;
}

/**
 * Why a truly idempotent instance was not proven so. Every cause is data-dependent: the
 * bytes the kernel writes happen to equal what it reads (or its atomics add nothing), which
 * no rule that holds for all contents of memory can establish at launch.
 */
export function fnCause(device: Device, inst: AppInstance): string {
  const d = device.validate(inst.kernel, inst.args);
  if (d.reason === 'side-effects') return `${device.kernel(inst.kernel).sideEffects.join('+')}: change nothing on this data`;
  if (d.overlap && d.overlap.write === d.overlap.read) return 'in place: values unchanged on this data';
  if (d.overlap) return 'aliased arguments: overlap harmless on this data';
  return 'other';
}

export function scoreAppsCorpus(device: Device, corpus: AppInstance[]): AppsScore {
  const s: AppsScore = {
    instances: corpus.length,
    falsePositives: 0,
    falseNegatives: 0,
    dynamicIdempotent: 0,
    validatorIdempotent: 0,
    falseNegativeRate: 0,
    fpInstances: [],
    byCause: {},
    byPattern: {},
    byModel: {},
  };
  for (const inst of corpus) {
    const said = device.validate(inst.kernel, inst.args).idempotent;
    const truth = bruteForceIdempotent(device, inst).idempotent;
    for (const row of [(s.byPattern[`${inst.kernel}: ${inst.pattern}`] ??= [0, 0, 0]), (s.byModel[inst.model] ??= [0, 0, 0])]) {
      row[0]++;
      if (said) row[1]++;
      if (truth) row[2]++;
    }
    if (said) s.validatorIdempotent++;
    if (truth) s.dynamicIdempotent++;
    if (said && !truth) (s.falsePositives++, s.fpInstances.push(inst.id));
    if (!said && truth) {
      s.falseNegatives++;
      const c = fnCause(device, inst);
      s.byCause[c] = (s.byCause[c] ?? 0) + 1;
    }
  }
  s.falseNegativeRate = s.dynamicIdempotent ? s.falseNegatives / s.dynamicIdempotent : 0;
  return s;
}
