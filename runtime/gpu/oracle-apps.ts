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
  /** Instances proved idempotent by more than disjoint ranges, by rule (validate.h). */
  byRule: Record<string, number>;
  /** Per launch pattern: [instances, validator idempotent, brute-force idempotent]. */
  byPattern: Record<string, [number, number, number]>;
  /** Per model: [instances, validator idempotent, brute-force idempotent]. */
  byModel: Record<string, [number, number, number]>;
}

/**
 * Why an instance the check labels idempotent was not proven so: the check's label was luck,
 * or the data is harmless (the bytes written equal those read, or the atomics add nothing),
 * which no rule that holds for all contents of memory can establish at launch.
 */
export function fnCause(device: Device, inst: AppInstance): string {
  // The check's garbage (2 patterns) can be absorbed by chance, e.g. a tiny float added to a
  // sum: a stricter run (12 patterns) tells such labels apart from data that is harmless.
  if (!bruteForceIdempotent(device, inst, { garbagePatterns: 12, seed: 3 }).idempotent) return 'mislabelled by the check: 12 garbage patterns find a mismatch';
  const d = device.validate(inst.kernel, inst.args);
  if (d.reason === 'side-effects') return `${device.kernel(inst.kernel).sideEffects.join('+')}: change nothing on this data`;
  if (d.overlap && d.overlap.write === d.overlap.read) return 'in place: values unchanged on this data';
  if (d.overlap) return 'aliased arguments: overlap harmless on this data';
  return 'other';
}

/**
 * Which rule beyond "the declared ranges are disjoint" an idempotent decision rests on, found
 * with the validator itself: its access sets still intersect (an element-wise select), or the
 * decision flips when a zero scalar is made non-zero (a scalar condition known at launch).
 */
export function provedBy(device: Device, inst: AppInstance): string | undefined {
  const d = device.validate(inst.kernel, inst.args);
  const hit = d.writes.some((w) => d.reads.some((r) => r.buffer === w.buffer && r.offset < w.offset + w.bytes && w.offset < r.offset + r.bytes));
  if (hit) return 'element-wise select exactly in place (rule 5)';
  for (const [name, v] of Object.entries(inst.args)) {
    if (v !== 0) continue;
    if (!device.validate(inst.kernel, { ...inst.args, [name]: 1 }).idempotent) return `scalar condition known at launch: ${name} = 0 (rules 2, 3)`;
  }
  return undefined;
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
    byRule: {},
    byPattern: {},
    byModel: {},
  };
  for (const inst of corpus) {
    const said = device.validate(inst.kernel, inst.args).idempotent;
    const oracle = bruteForceIdempotent(device, inst);
    const truth = oracle.idempotent;
    for (const row of [(s.byPattern[`${inst.kernel}: ${inst.pattern}`] ??= [0, 0, 0]), (s.byModel[inst.model] ??= [0, 0, 0])]) {
      row[0]++;
      if (said) row[1]++;
      if (truth) row[2]++;
    }
    if (said) {
      s.validatorIdempotent++;
      const rule = provedBy(device, inst);
      if (rule) s.byRule[rule] = (s.byRule[rule] ?? 0) + 1;
    }
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
