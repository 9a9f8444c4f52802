// Finds the XNODE packages: every xnodes/<pkg>/index module exporting `xnodes`, plus any
// extra module a user names. The runtime itself knows no concrete stage.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { XNodeRegistry } from '../xnode/registry.js';
import type { XNodeDef } from '../xnode/types.js';

const fromSource = import.meta.url.endsWith('.ts');
const xnodesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'xnodes');

export async function loadRegistry(extra: string[] = []): Promise<XNodeRegistry> {
  const registry = new XNodeRegistry();
  const ext = fromSource ? 'ts' : 'js';
  const modules = existsSync(xnodesDir)
    ? readdirSync(xnodesDir)
        .sort()
        .map((pkg) => join(xnodesDir, pkg, `index.${ext}`))
        .filter(existsSync)
    : [];
  for (const file of [...modules, ...extra.map((f) => resolve(f))]) {
    const mod = (await import(pathToFileURL(file).href)) as { xnodes?: XNodeDef[] };
    if (!Array.isArray(mod.xnodes)) throw new Error(`${file}: expected an exported array 'xnodes' of defineXNode() results`);
    registry.register(...mod.xnodes);
  }
  return registry;
}
