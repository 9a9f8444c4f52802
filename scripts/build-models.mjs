// Generates the project's ONNX models from explicit weights (nothing is downloaded).
// Each generator lives in models/ as <name>.gen.mjs and writes into models/generated/.
import { existsSync, readdirSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'models');
if (existsSync(dir)) {
  mkdirSync(join(dir, 'generated'), { recursive: true });
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.gen.mjs')).sort()) {
    console.error(`[xauto build] models/${f}`);
    await (await import(pathToFileURL(join(dir, f)).href)).default(join(dir, 'generated'));
  }
}
