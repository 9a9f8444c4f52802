import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The xauto package root (the folder with package.json), from sources or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith(`${'/'}dist`)) {
    const up = dirname(dir);
    if (up === dir) throw new Error('xauto: cannot find the package root');
    dir = up;
  }
  root = dir;
  return dir;
}
