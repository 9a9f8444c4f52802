// `xauto xpu list [--xpus profiles/X.yaml ...]`: the XPUs this host really has, plus declared
// (simulated) ones, each marked real or simulated.
import { availableParallelism } from 'node:os';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { table } from '../trace/report.js';
import { DeclaredError, loadDeclaredBoard } from '../xpu/declared.js';
import { discoverXpus } from '../xpu/discover.js';
import type { XpuInfo } from '../xpu/types.js';
import { UserError } from './errors.js';

export interface XpuArgs {
  action: string;
  xpus: string[];
  workers?: number;
  json: boolean;
}

export async function listXpus(files: string[], workers?: number): Promise<XpuInfo[]> {
  const out = await discoverXpus({ workers });
  for (const f of files) {
    try {
      out.push(...loadDeclaredBoard(f).xpus);
    } catch (e) {
      if (e instanceof DeclaredError) throw new UserError(e.message);
      throw e;
    }
  }
  return out;
}

export function renderXpus(xpus: XpuInfo[]): string {
  const rows = [['id', 'kind', 'backend', 'lanes', 'real/simulated', 'what']];
  for (const x of xpus) rows.push([x.id, x.kind, x.backend, String(x.lanes), x.real ? 'real' : 'simulated', x.note]);
  // The real CPU XPUs are threads of one machine: their lanes add up to more than it has.
  const real = xpus.filter((x) => x.real && x.kind === 'cpu');
  const lanes = real.reduce((n, x) => n + x.lanes, 0);
  const cores = availableParallelism();
  const shared = real.length ? `\nthe real cpu XPUs (${real.map((x) => x.id).join(', ')}: ${lanes} lanes) share this machine's ${cores} core${cores === 1 ? '' : 's'}; lanes beyond that run by turns` : '';
  return table(rows, 99) + shared;
}

export const xpuCommand: CommandModule<object, XpuArgs> = {
  command: 'xpu <action>',
  describe: 'List XPUs: this host\'s (real) and declared ones (simulated)',
  builder: (y: Argv) =>
    y
      .positional('action', { type: 'string', choices: ['list'], demandOption: true })
      .option('xpus', { type: 'string', array: true, default: [], describe: 'board profile(s) declaring simulated XPUs, e.g. profiles/board.yaml' })
      .option('workers', { type: 'number', describe: 'worker-pool size (default: cores - 1)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<XpuArgs>,
  handler: async (a: ArgumentsCamelCase<XpuArgs>) => {
    if (a.workers !== undefined && !(Number.isInteger(a.workers) && a.workers >= 1)) throw new UserError(`--workers ${a.workers}: expected an integer >= 1`);
    const xpus = await listXpus(a.xpus, a.workers);
    process.stdout.write((a.json ? JSON.stringify(xpus, null, 2) : renderXpus(xpus)) + '\n');
  },
};
