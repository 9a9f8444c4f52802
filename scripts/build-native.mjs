// Builds every native addon under native/<name>/binding.gyp with node-gyp.
// An addon may ship native/<name>/prereq.mjs whose default export returns null when the
// system libraries it needs are present, or a one-line reason when they are not: the addon
// is then skipped with that reason (and the build fails instead when CI is set).
// native/device also gets its CUDA backend when nvcc is found (see cudaBuild below); without
// nvcc, or when nvcc fails, it is built with the host backend only, and the output says so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
// npm sets npm_config_node_gyp inside its scripts; run by hand, use the node-gyp npm bundles.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
// Build against the installed Node headers: nothing is downloaded.
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : '');
const nodedirArgs = nodedir ? [`--nodedir=${nodedir}`] : [];
let failed = false;

for (const name of readdirSync(join(root, 'native')).sort()) {
  const dir = join(root, 'native', name);
  if (!existsSync(join(dir, 'binding.gyp'))) continue;
  if (only.length && !only.includes(name)) continue;
  const prereq = join(dir, 'prereq.mjs');
  if (existsSync(prereq)) {
    const reason = await (await import(pathToFileURL(prereq).href)).default();
    if (reason) {
      console.error(`[xauto build] native/${name}: skipped: ${reason}`);
      if (process.env.CI) failed = true;
      continue;
    }
  }
  const [cmd, args] = nodeGyp ? [process.execPath, [nodeGyp]] : ['node-gyp', []];
  const gyp = (...a) => spawnSync(cmd, [...args, ...a], { cwd: dir, encoding: 'utf8' });
  let r;
  if (name === 'device' && cudaBuild(dir, gyp)) {
    r = gyp('build', '-j', '2');
    if (r.status !== 0) {
      // e.g. a toolkit without cudart_static: the host backend still builds.
      process.stderr.write(r.stdout + r.stderr);
      console.error('[xauto build] native/device: linking the CUDA backend failed: rebuilding with the host backend only');
      r = gyp('rebuild', '-j', '2', ...nodedirArgs);
    }
  } else {
    console.error(`[xauto build] native/${name}: node-gyp rebuild`);
    r = gyp('rebuild', '-j', '2', ...nodedirArgs);
  }
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`[xauto build] native/${name}: node-gyp failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

/** nvcc to use: $NVCC, else on PATH, else the usual install places; undefined when none. */
function findNvcc() {
  const candidates = [process.env.NVCC, 'nvcc', '/usr/local/bin/nvcc', '/usr/local/cuda/bin/nvcc'].filter(Boolean);
  for (const c of candidates) {
    const v = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (v.status === 0) return { path: c, version: /release ([\d.]+)/.exec(v.stdout)?.[1] ?? '?' };
  }
  return undefined;
}

/** CUDA toolkit root (headers, cudart_static): $CUDA_HOME, else beside nvcc, else /usr/local/cuda. */
function cudaHome(nvcc) {
  const beside = join(dirname(nvcc), '..');
  for (const h of [process.env.CUDA_HOME, beside, '/usr/local/cuda'].filter(Boolean)) {
    if (existsSync(join(h, 'include', 'cuda_runtime.h'))) return h;
  }
  return '/usr/local/cuda';
}

/**
 * Configures native/device with its CUDA backend and compiles backend_cuda.cu with nvcc into
 * build/cuda/libxdev_cuda.a. Returns false (after saying why) when there is no nvcc or it
 * fails: the caller then builds the host backend only. A GPU is not needed to build.
 */
function cudaBuild(dir, gyp) {
  if (process.env.XAUTO_CUDA === '0') {
    console.error('[xauto build] native/device: CUDA backend disabled (XAUTO_CUDA=0): host backend only');
    return false;
  }
  const nvcc = findNvcc();
  if (!nvcc) {
    console.error('[xauto build] native/device: no nvcc found: host backend only (set NVCC=/path/to/nvcc for the CUDA backend)');
    return false;
  }
  const home = cudaHome(nvcc.path);
  // PTX for any GPU from Turing on (JIT-compiled once by the driver), native code for Hopper.
  const arch = (process.env.XAUTO_CUDA_ARCH ?? 'compute_75,code=compute_75 compute_90,code=sm_90').split(' ').flatMap((g) => ['-gencode', `arch=${g}`]);
  console.error(`[xauto build] native/device: CUDA backend: nvcc ${nvcc.version} (${nvcc.path}), toolkit ${home}; no GPU is needed to build it`);
  const clean = gyp('clean');
  const conf = gyp('configure', ...nodedirArgs, '--', '-Dxdev_cuda=1', `-Dcuda_home=${home}`);
  if (clean.status !== 0 || conf.status !== 0) {
    process.stderr.write((conf.stdout ?? '') + (conf.stderr ?? ''));
    console.error('[xauto build] native/device: configure with CUDA failed: host backend only');
    return false;
  }
  const out = join(dir, 'build', 'cuda');
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const obj = join(out, 'backend_cuda.o');
  const cc = spawnSync(nvcc.path, ['-c', '-O2', '-std=c++17', '-Xcompiler', '-fPIC', '--fmad=false', '-DXDEV_CUDA=1', ...arch, '-o', obj, join(dir, 'src', 'backend_cuda.cu')], { encoding: 'utf8' });
  const lib = cc.status === 0 ? spawnSync(nvcc.path, ['-lib', '-o', join(out, 'libxdev_cuda.a'), obj], { encoding: 'utf8' }) : cc;
  if (lib.status !== 0) {
    process.stderr.write((lib.stdout ?? '') + (lib.stderr ?? ''));
    console.error(`[xauto build] native/device: nvcc failed (${lib.error?.message ?? `exit ${lib.status}`}): host backend only`);
    return false;
  }
  console.error(`[xauto build] native/device: CUDA kernels compiled in ${((Date.now() - t0) / 1000).toFixed(0)} s; the CUDA backend is chosen at run time when a CUDA device is found`);
  return true;
}
