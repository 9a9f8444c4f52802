#!/usr/bin/env -S node --initial-old-space-size=128
// Runs the built CLI (dist/), or the TypeScript sources through tsx when there is no build
// or the sources changed after it (a working checkout never runs stale code).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'runtime', 'cli', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const stale = () => Math.max(newestSource(join(root, 'runtime')), newestSource(join(root, 'xnodes'))) > statSync(built).mtimeMs;
let entry = built;
if (!existsSync(built) || stale()) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(root, 'runtime', 'cli', 'main.ts');
}
const { main } = await import(pathToFileURL(entry).href);
// Exit once done: open handles (DDS, timers of stopped stages) must not keep the process up.
process.exit(await main(process.argv.slice(2)));
