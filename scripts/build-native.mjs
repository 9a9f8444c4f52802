// Builds every native addon under native/<name>/binding.gyp with node-gyp.
// An addon may ship native/<name>/prereq.mjs whose default export returns null when the
// system libraries it needs are present, or a one-line reason when they are not: the addon
// is then skipped with that reason (and the build fails instead when CI is set).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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
  console.error(`[xauto build] native/${name}: node-gyp rebuild`);
  const [cmd, args] = nodeGyp ? [process.execPath, [nodeGyp]] : ['node-gyp', []];
  const r = spawnSync(cmd, [...args, 'rebuild', '-j', '2', ...nodedirArgs], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`[xauto build] native/${name}: node-gyp failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
