// The application-shaped idempotency corpus (launch sequences of small models replayed on a
// caching allocator's pool) and the validator's rules for it: scalar conditions known at
// launch, workspaces, element-wise selects. Each rule is checked against the brute-force
// oracle on the instance that would expose it if it were unsound.
import test from 'ava';
import { freeCorpus, type CorpusInstance } from '../runtime/gpu/corpus.js';
import { buildAppsCorpus } from '../runtime/gpu/corpus-apps.js';
import { CachingPool } from '../runtime/gpu/corpus-replay.js';
import { Device, type DeviceBuffer } from '../runtime/gpu/index.js';
import { bruteForceIdempotent } from '../runtime/gpu/oracle.js';
import { scoreAppsCorpus } from '../runtime/gpu/oracle-apps.js';

const randomFloats = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 8);
};

/** Validator decision and oracle truth of one instance on `root`. */
function judge(d: Device, kernel: string, root: DeviceBuffer, args: CorpusInstance['args']) {
  const inst: CorpusInstance = { id: kernel, kernel, layout: 'test', roots: [root], args };
  return { said: d.validate(kernel, args).idempotent, truth: bruteForceIdempotent(d, inst).idempotent };
}

test('the caching pool: best fit, freed blocks reused at once, free neighbours merged', (t) => {
  const d = new Device();
  const buf = d.alloc(1024);
  const pool = new CachingPool(buf);
  const a = pool.alloc(100), b = pool.alloc(64), c = pool.alloc(200);
  t.deepEqual([a.offset, b.offset, c.offset], [0, 128, 192]);
  pool.free(b);
  t.is(pool.alloc(10).offset, 128, 'the 64-byte hole is the best fit');
  pool.free(a);
  pool.free(c);
  // free: [0, 128) and c's block merged with the tail [192, 1024): 300 bytes fit only there
  t.is(pool.alloc(300).offset, 192);
  t.is(pool.alloc(128).offset, 0);
  t.throws(() => pool.alloc(4096), { message: /pool of 1024 bytes exhausted/ });
  d.close();
});

test('application corpus: zero false positives, false-negative rate <= 0.10, every launch family present', (t) => {
  const d = new Device();
  const corpus = buildAppsCorpus(d, { seed: 5, instances: 600 });
  const s = scoreAppsCorpus(d, corpus);
  t.log(`instances ${s.instances}; validator idempotent ${s.validatorIdempotent}; brute force ${s.dynamicIdempotent}; FN ${s.falseNegatives} (rate ${s.falseNegativeRate.toFixed(3)}) ${JSON.stringify(s.byCause)}`);
  t.true(s.instances >= 600);
  t.is(s.falsePositives, 0, s.fpInstances.join('\n'));
  t.true(s.falseNegativeRate <= 0.1);
  t.log(`proved by a rule beyond disjoint ranges: ${JSON.stringify(s.byRule)}`);
  t.true(Object.keys(s.byRule).some((r) => r.startsWith('scalar condition')) && Object.keys(s.byRule).some((r) => r.startsWith('element-wise select')));
  const patterns = Object.keys(s.byPattern).join('\n');
  for (const p of [/relu in place/, /sgd/, /adam/, /residual add into the input/, /gemm beta=0/, /gemm beta=1/, /atomic/, /embedding lookup/, /im2col/, /col2im/, /softmax with workspace/, /batchnorm training/, /batchnorm eval/, /causal mask in place/, /heatmap seeds/])
    t.regex(patterns, p);
  // A pool: most instances have arguments that are views into one root.
  const pooled = corpus.filter((c) => Object.values(c.args).filter((v) => typeof v === 'object').length > 1);
  t.true(pooled.length > corpus.length / 2);
  freeCorpus(corpus);
  d.close();
});

test('scalar conditions known at launch: identity activation, lr = 0, momentum = 0, batchnorm outside training', (t) => {
  const d = new Device();
  const n = 200;
  const root = d.alloc(4 * n * 4).write(randomFloats(4 * n, 1));
  const [w, g, v, x] = [0, 1, 2, 3].map((i) => root.at(i * n * 4));
  const act = (a: number) => judge(d, 'act_inplace', root, { n, act: a, x: w! });
  t.deepEqual(act(0), { said: true, truth: true });
  t.deepEqual(act(1), { said: false, truth: false }, 'relu in place on mixed signs is not idempotent');
  const sgd = (lr: number, momentum: number) => judge(d, 'sgd_update', root, { n, lr, momentum, w: w!, g: g!, v: v! });
  t.deepEqual(sgd(0, 0), { said: true, truth: true });
  t.deepEqual(sgd(0, 0.9), { said: false, truth: false }, 'the velocity still moves');
  t.deepEqual(sgd(0.1, 0), { said: false, truth: false });
  // batchnorm(rows 10, cols 10): x, y, gamma, beta, rmean, rvar carved out of the root
  const bn = (training: number, y: { handle: number; offset: number }) =>
    judge(d, 'batchnorm', root, { rows: 10, cols: 10, training, momentum: 0.1, eps: 1e-5, x: root.at(0), gamma: root.at(400), beta: root.at(440), y, rmean: root.at(480), rvar: root.at(520) });
  t.deepEqual(bn(0, root.at(600)), { said: true, truth: true });
  t.deepEqual(bn(1, root.at(600)), { said: false, truth: false }, 'running statistics folded in place');
  t.deepEqual(bn(0, root.at(440)), { said: false, truth: false }, 'y over beta and the running stats: still an overlap');
  d.close();
});

test('element-wise selects: exactly in place is idempotent; a shifted alias or an aliased condition is not', (t) => {
  const d = new Device();
  const n = 300;
  const root = d.alloc(3 * n * 4 + 64).write(randomFloats(3 * n + 16, 2));
  const y = root.at(0), dy = root.at(n * 4);
  t.deepEqual(judge(d, 'relu_backward', root, { n, y, dy, dx: dy }), { said: true, truth: true });
  t.deepEqual(judge(d, 'relu_backward', root, { n, y, dy, dx: root.at(n * 4 + 4) }), { said: false, truth: false }, 'shifted by one element');
  t.deepEqual(judge(d, 'relu_backward', root, { n, y: root.at(n * 4 - 16), dy, dx: dy }), { said: false, truth: false }, 'the condition overlaps the output');
  // masked_fill over itself; its mask must not overlap it
  const mroot = d.alloc(2 * n * 4);
  mroot.write(Uint32Array.from({ length: n }, (_, i) => i % 3), 0).write(randomFloats(n, 3), n * 4);
  t.deepEqual(judge(d, 'masked_fill', mroot, { n, v: -1e9, mask: mroot.at(0), x: mroot.at(n * 4) }), { said: true, truth: true });
  t.false(judge(d, 'masked_fill', mroot, { n, v: 7, mask: mroot.at(0), x: mroot.at(8) }).said);
  d.close();
});

test('a workspace is written before it is read: idempotent on its own, not when it aliases the input', (t) => {
  const d = new Device();
  const rows = 12, cols = 9;
  const root = d.alloc((2 * rows * cols + 2 * rows) * 4).write(randomFloats(2 * rows * cols + 2 * rows, 4));
  const x = root.at(0), y = root.at(rows * cols * 4), ws = root.at(2 * rows * cols * 4);
  t.deepEqual(judge(d, 'softmax_rows', root, { rows, cols, x, ws, y }), { said: true, truth: true });
  t.deepEqual(judge(d, 'softmax_rows', root, { rows, cols, x, ws: root.at(8), y }), { said: false, truth: false });
  t.deepEqual(judge(d, 'softmax_rows', root, { rows, cols, x, ws, y: x }), { said: false, truth: false }, 'softmax in place');
  d.close();
});

test('application kernels compute what they say (values against plain formulas)', (t) => {
  const d = new Device();
  const f32 = (xs: number[]) => d.alloc(xs.length * 4).write(Float32Array.from(xs));
  const near = (got: Float32Array, want: number[], tol: number, what: string) => want.forEach((w, i) => t.true(Math.abs(got[i]! - w) <= tol * Math.max(1, Math.abs(w)), `${what}[${i}]: ${got[i]} vs ${w}`));
  const run = (k: string, args: CorpusInstance['args']) => d.runBlocks(k, args, 0, d.runBlocks(k, args, 0, 0));
  // softmax with its workspace (max, sum per row)
  const x = f32([0, 1, 2, 3, 3, 3]), ws = f32([0, 0, 0, 0]), y = f32([0, 0, 0, 0, 0, 0]);
  run('softmax_rows', { rows: 2, cols: 3, x, ws, y });
  const e = [1, Math.E, Math.E ** 2].map((v) => v / (1 + Math.E + Math.E ** 2));
  near(y.readFloat32(), [...e, 1 / 3, 1 / 3, 1 / 3], 1e-6, 'softmax');
  near(ws.readFloat32(), [2, 1 + Math.exp(-1) + Math.exp(-2), 3, 3], 1e-6, 'workspace');
  // activations in place
  const vs = [-30, -2, -0.5, 0, 0.5, 2, 30];
  const sig = f32(vs), gelu = f32(vs);
  run('act_inplace', { n: vs.length, act: 3, x: sig });
  run('act_inplace', { n: vs.length, act: 2, x: gelu });
  near(sig.readFloat32(), vs.map((v) => 1 / (1 + Math.exp(-v))), 1e-6, 'sigmoid');
  near(gelu.readFloat32(), vs.map((v) => 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3)))), 1e-6, 'gelu');
  // index_add: rows 1, 0, 1 of src added into dst
  const dst = f32([1, 1, 1, 1]), idx = d.alloc(12).write(Uint32Array.of(1, 0, 1));
  run('index_add', { n: 3, dim: 2, nrows: 2, idx, src: f32([1, 2, 3, 4, 5, 6]), dst });
  near(dst.readFloat32(), [4, 5, 7, 9], 0, 'index_add');
  // col2im is the adjoint of im2col: <im2col(a), b> = <a, col2im(b)>
  const cv = { C: 2, H: 5, W: 4, k: 3, stride: 2, pad: 1, OH: 3, OW: 2 };
  const nImg = 2 * 5 * 4, nCol = 2 * 9 * 3 * 2;
  const a = randomFloats(nImg, 7), b = randomFloats(nCol, 8);
  const col = f32(new Array(nCol).fill(0)), img = f32(new Array(nImg).fill(0));
  run('im2col', { ...cv, img: f32([...a]), col });
  run('col2im', { ...cv, col: f32([...b]), img });
  const dot = (p: Float32Array, q: Float32Array) => p.reduce((s, v, i) => s + v * q[i]!, 0);
  t.true(Math.abs(dot(col.readFloat32(), b) - dot(a, img.readFloat32())) < 1e-3);
  d.close();
});
