// Finds XNODE packages: the type `pkg/name` lives in xnodes/<pkg>/index, which exports
// `xnodes`; users may name extra modules. Only the packages a launch file uses are loaded
// (each may pull in heavy libraries). The runtime itself knows no concrete stage.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { XNodeRegistry } from '../xnode/registry.js';
import type { XNodeDef } from '../xnode/types.js';

const fromSource = import.meta.url.endsWith('.ts');
const xnodesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'xnodes');

const packageModule = (pkg: string) => join(xnodesDir, pkg, `index.${fromSource ? 'ts' : 'js'}`);

async function importXNodes(file: string): Promise<XNodeDef[]> {
  const mod = (await import(pathToFileURL(file).href)) as { xnodes?: XNodeDef[] };
  if (!Array.isArray(mod.xnodes)) throw new Error(`${file}: expected an exported array 'xnodes' of defineXNode() results`);
  return mod.xnodes;
}

export interface RegistryOptions {
  /** XNODE types needed (`pkg/name`): only their packages are loaded. Default: every package. */
  types?: string[];
  /** Extra modules exporting `xnodes`. */
  extra?: string[];
}

export async function loadRegistry(opts: RegistryOptions = {}): Promise<XNodeRegistry> {
  const registry = new XNodeRegistry();
  const all = existsSync(xnodesDir) ? readdirSync(xnodesDir).sort().filter((pkg) => existsSync(packageModule(pkg))) : [];
  const wanted = opts.types ? [...new Set(opts.types.map((t) => t.split('/')[0]!))].filter((p) => all.includes(p)) : all;
  for (const pkg of wanted) registry.register(...(await importXNodes(packageModule(pkg))));
  for (const file of opts.extra ?? []) registry.register(...(await importXNodes(resolve(file))));
  // A type no package provides: load the rest (best effort) so the error can suggest names.
  if (opts.types?.some((t) => !registry.get(t))) {
    for (const pkg of all.filter((p) => !wanted.includes(p))) {
      try {
        registry.register(...(await importXNodes(packageModule(pkg))));
      } catch {
        // a broken package must not hide the real error
      }
    }
  }
  return registry;
}
