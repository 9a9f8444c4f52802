#!/usr/bin/env node
// Runs the built CLI (dist/), or the TypeScript sources through tsx when not built.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'runtime', 'cli', 'main.js');
let entry = built;
if (!existsSync(built)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(root, 'runtime', 'cli', 'main.ts');
}
const { main } = await import(pathToFileURL(entry).href);
// Exit once done: open handles (DDS, timers of stopped stages) must not keep the process up.
process.exit(await main(process.argv.slice(2)));
