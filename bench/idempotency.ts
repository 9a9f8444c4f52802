// Instance-level idempotency validation over two corpora: accuracy against the brute-force
// dynamic check (false positives must be 0; the false-negative rate is reported) and the
// latency of validation inside the addon, on the launch path, measured with a monotonic clock.
// - layouts: every kernel of the library on random layouts (separate, in place, pooled,
//   views), the corner cases;
// - apps: launch sequences of small models (MLP and conv training steps, a heatmap detector)
//   replayed on a caching allocator's pool (runtime/gpu/corpus-apps.ts), false negatives
//   broken down by cause.
import type { CorpusInstance } from '../runtime/gpu/corpus.js';
import { buildCorpus, freeCorpus } from '../runtime/gpu/corpus.js';
import { buildAppsCorpus, replayApps } from '../runtime/gpu/corpus-apps.js';
import { Device } from '../runtime/gpu/index.js';
import { scoreCorpus } from '../runtime/gpu/oracle.js';
import { scoreAppsCorpus } from '../runtime/gpu/oracle-apps.js';

interface Latency {
  cold: ReturnType<Device['stats']>;
  warm: ReturnType<Device['stats']>;
}

/** Validation latency on a fresh device (empty decision cache): first sight, then launches. */
async function latency(build: (d: Device) => CorpusInstance[], rounds: number): Promise<Latency> {
  const dev = new Device();
  const inst = build(dev);
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
  return { cold, warm };
}

const latencyRows = ({ cold, warm }: Latency): Array<[string, string]> => [
  ['validate, first sight (cache miss): p50 / p99 us', `${cold.validateP50Us.toFixed(2)} / ${cold.validateP99Us.toFixed(2)} (${cold.validations} calls)`],
  [
    'validate on the launch path: p50 / p99 / max us',
    `${warm.validateP50Us.toFixed(2)} / ${warm.validateP99Us.toFixed(2)} / ${warm.validateMaxUs.toFixed(2)} (${warm.validations} launches, ${warm.validateCacheHits} cache hits)`,
  ],
];

function table(title: string, rows: Array<[string, string]>): void {
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(title);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
}

export default async function main(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 30);
  const appsInstances = Number(args[1] ?? 5000);

  // 1. The layout corpus.
  const d = new Device();
  const corpus = buildCorpus(d, { seed: 1 });
  const score = scoreCorpus(d, corpus);
  const backend = d.backend;
  freeCorpus(corpus);
  d.close();
  const lat = await latency((dev) => buildCorpus(dev, { seed: 1 }), rounds);

  // 2. The application corpus.
  const da = new Device();
  const apps = buildAppsCorpus(da, { seed: 1, instances: appsInstances });
  const t0 = performance.now();
  const as = scoreAppsCorpus(da, apps);
  const oracleS = (performance.now() - t0) / 1000;
  freeCorpus(apps);
  da.close();
  const alat = await latency((dev) => buildAppsCorpus(dev, { seed: 1, instances: appsInstances }), Math.max(1, Math.round(rounds / 6)));
  // The applications' own launch path: the same launches on their pools (interior pointers
  // into one allocation), each validated twice as it runs (its grid, then the run).
  const dp = new Device();
  dp.resetStats();
  const replayed = replayApps(dp, { seed: 1, instances: appsInstances, record: false }).launches;
  const path = dp.stats();
  dp.close();

  table(`idempotency validation over the layout corpus (backend ${backend})`, [
    ['instances', String(score.instances)],
    ['validator: idempotent', String(score.validatorIdempotent)],
    ['brute force: idempotent', String(score.dynamicIdempotent)],
    ['host-visible writes (not idempotent by definition)', String(score.hostVisible)],
    ['false positives', String(score.falsePositives)],
    ['false negatives', `${score.falseNegatives} (rate ${score.falseNegativeRate.toFixed(3)})`],
    ...latencyRows(lat),
  ]);
  console.log('  per kernel: instances / validator idempotent / brute-force idempotent');
  for (const [k, [n, v, t]] of Object.entries(score.perKernel)) console.log(`    ${k.padEnd(16)} ${String(n).padStart(3)} ${String(v).padStart(3)} ${String(t).padStart(3)}`);

  table('idempotency validation over the application corpus (replayed launch sequences on a caching-allocator pool)', [
    ['instances', String(as.instances)],
    ['validator: idempotent', String(as.validatorIdempotent)],
    ['brute force: idempotent', `${as.dynamicIdempotent} (checked in ${oracleS.toFixed(1)} s)`],
    ['false positives', String(as.falsePositives)],
    ['false negatives', `${as.falseNegatives} (rate ${as.falseNegativeRate.toFixed(3)})`],
    ...latencyRows(alat).map(([k, v]): [string, string] => [`corpus instances: ${k}`, v]),
    [
      'replayed on the pools (the applications\' launch path): p50 / p99 / max us',
      `${path.validateP50Us.toFixed(2)} / ${path.validateP99Us.toFixed(2)} / ${path.validateMaxUs.toFixed(2)} (${replayed} launches, ${path.validations} validations, ${path.validateCacheHits} cache hits)`,
    ],
  ]);
  console.log('  false negatives by cause (the check\'s luck, or data that happens to be harmless: nothing known at launch):');
  for (const [c, n] of Object.entries(as.byCause).sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(5)}  ${c}`);
  console.log('  proved idempotent by a rule beyond disjoint ranges (these would be false negatives without it):');
  for (const [c, n] of Object.entries(as.byRule).sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(5)}  ${c}`);
  console.log('  per model: instances / validator idempotent / brute-force idempotent');
  for (const [k, [n, v, t]] of Object.entries(as.byModel)) console.log(`    ${k.padEnd(16)} ${String(n).padStart(5)} ${String(v).padStart(5)} ${String(t).padStart(5)}`);
  console.log('  per launch pattern: instances / validator idempotent / brute-force idempotent');
  for (const [k, [n, v, t]] of Object.entries(as.byPattern).sort()) console.log(`    ${k.padEnd(58)} ${String(n).padStart(5)} ${String(v).padStart(5)} ${String(t).padStart(5)}`);
  const fnKey = (c: string) => `apps_fn_${c.split(':')[0]!.replace(/[^a-z]+/gi, '_').toLowerCase().replace(/_by_the_check$/, '')}`;
  console.log(
    JSON.stringify({
      bench: 'idempotency',
      validate_us_p50: round(lat.warm.validateP50Us),
      validate_us_p99: round(lat.warm.validateP99Us),
      false_positives: score.falsePositives,
      false_negative_rate: round(score.falseNegativeRate),
      instances: score.instances,
      apps_instances: as.instances,
      apps_false_positives: as.falsePositives,
      apps_false_negative_rate: round(as.falseNegativeRate),
      apps_validate_us_p50: round(alat.warm.validateP50Us),
      apps_validate_us_p99: round(alat.warm.validateP99Us),
      apps_validate_cold_us_p99: round(alat.cold.validateP99Us),
      apps_replay_validate_us_p50: round(path.validateP50Us),
      apps_replay_validate_us_p99: round(path.validateP99Us),
      ...Object.fromEntries(Object.entries(as.byCause).map(([c, n]) => [fnKey(c), n])),
      apps_proved_by_scalar_conditions: Object.entries(as.byRule).reduce((a, [c, n]) => a + (c.startsWith('scalar') ? n : 0), 0),
      apps_proved_by_selects: Object.entries(as.byRule).reduce((a, [c, n]) => a + (c.startsWith('element') ? n : 0), 0),
    }),
  );
}

const round = (v: number) => Math.round(v * 1000) / 1000;
