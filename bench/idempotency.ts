// Instance-level idempotency validation over the corpus: accuracy against the brute-force
// dynamic check (false positives must be 0; the false-negative rate is reported) and the
// latency of validation inside the addon, on the launch path, measured with a monotonic clock.
import { buildCorpus, freeCorpus } from '../runtime/gpu/corpus.js';
import { Device } from '../runtime/gpu/index.js';
import { scoreCorpus } from '../runtime/gpu/oracle.js';

export default async function main(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 30);

  // 1. Accuracy.
  const d = new Device();
  const corpus = buildCorpus(d, { seed: 1 });
  const score = scoreCorpus(d, corpus);
  freeCorpus(corpus);
  d.close();

  // 2. Latency, on a fresh device (empty decision cache), same corpus.
  const dev = new Device();
  const inst = buildCorpus(dev, { seed: 1 });
  dev.resetStats();
  for (const c of inst) dev.validate(c.kernel, c.args); // every signature seen for the first time
  const cold = dev.stats();
  dev.resetStats();
  const s = dev.stream();
  for (let r = 0; r < rounds; r++) {
    for (const c of inst) s.launch(c.kernel, c.args);
    await s.synchronize();
  }
  const warm = dev.stats();
  freeCorpus(inst);
  dev.close();

  const rows: Array<[string, string]> = [
    ['instances', String(score.instances)],
    ['validator: idempotent', String(score.validatorIdempotent)],
    ['brute force: idempotent', String(score.dynamicIdempotent)],
    ['host-visible writes (not idempotent by definition)', String(score.hostVisible)],
    ['false positives', String(score.falsePositives)],
    ['false negatives', `${score.falseNegatives} (rate ${score.falseNegativeRate.toFixed(3)})`],
    ['validate, first sight (cache miss): p50 / p99 us', `${cold.validateP50Us.toFixed(2)} / ${cold.validateP99Us.toFixed(2)} (${cold.validations} calls)`],
    [
      'validate on the launch path: p50 / p99 / max us',
      `${warm.validateP50Us.toFixed(2)} / ${warm.validateP99Us.toFixed(2)} / ${warm.validateMaxUs.toFixed(2)} (${warm.validations} launches, ${warm.validateCacheHits} cache hits)`,
    ],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log('idempotency validation over the corpus (backend host)');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  console.log('  per kernel: instances / validator idempotent / brute-force idempotent');
  for (const [k, [n, v, t]] of Object.entries(score.perKernel)) console.log(`    ${k.padEnd(16)} ${String(n).padStart(3)} ${String(v).padStart(3)} ${String(t).padStart(3)}`);
  console.log(
    JSON.stringify({
      bench: 'idempotency',
      validate_us_p50: round(warm.validateP50Us),
      validate_us_p99: round(warm.validateP99Us),
      false_positives: score.falsePositives,
      false_negative_rate: round(score.falseNegativeRate),
      instances: score.instances,
    }),
  );
}

const round = (v: number) => Math.round(v * 1000) / 1000;
