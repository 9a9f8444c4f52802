#!/usr/bin/env node
// The `xauto` command line: wires the parts together, nothing more.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../util/paths.js';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { StageFailedError } from './errors.js';
import { describeError, launchCommand } from './launch.js';
import { topicCommand } from './topic.js';
import { planCommand } from './plan.js';
import { playCommand } from './play.js';
import { recordCommand } from './record.js';
import { topCommand } from './top.js';
import { profileCommand } from './profile.js';
import { xpuCommand } from './xpu.js';

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  try {
    await yargs(argv)
      .scriptName('xauto')
      .usage('$0 <command> [options]')
      .command(launchCommand)
      .command(profileCommand)
      .command(planCommand)
      .command(xpuCommand)
      .command(topicCommand)
      .command(playCommand)
      .command(recordCommand)
      .command(topCommand)
      .demandCommand(1, 'Give a command, e.g. `xauto launch launch/hello.launch.yaml --frames 100`')
      .strict()
      .middleware((parsed) => checkNumbers(parsed, argv))
      .help()
      .version(version())
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
      .parseAsync();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`xauto: ${e.message}\nRun 'xauto --help' for usage.\n`);
      return 2;
    }
    const { message, user } = describeError(e);
    process.stderr.write(`xauto: ${message}\n`);
    code = e instanceof StageFailedError ? e.exitCode : user ? 2 : 1;
  }
  return code;
}

class UsageError extends Error {}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** What each numeric option accepts; yargs reads `abc` as NaN and takes any sign. */
const NUMBER_RULES: Record<string, { int?: boolean; min: number; strict?: boolean; max?: number }> = {
  frames: { int: true, min: 1 },
  times: { int: true, min: 1 },
  reports: { int: true, min: 1 },
  window: { int: true, min: 1 },
  workers: { int: true, min: 1, max: 1024 },
  warmup: { int: true, min: 0 },
  domain: { int: true, min: 0, max: 232 },
  duration: { min: 0, strict: true },
  rate: { min: 0, strict: true },
  'spin-time': { min: 0 },
  timeout: { min: 0 },
  wait: { min: 0 },
  'keep-alive': { min: 0 },
};

/** Rejects a numeric option that is not a number of the expected kind (exit 2). */
function checkNumbers(argv: Record<string, unknown>, words: string[]): void {
  for (const [name, rule] of Object.entries(NUMBER_RULES)) {
    if (!(name in argv) || argv[name] === undefined) continue;
    const raw = argv[name];
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    const want = `${rule.int ? 'an integer' : 'a number'} ${rule.strict ? '>' : '>='} ${rule.min}${rule.max !== undefined ? ` and <= ${rule.max}` : ''}`;
    const ok = typeof v === 'number' && Number.isFinite(v) && (rule.int ? Number.isInteger(v) : true) && (rule.strict ? v > rule.min : v >= rule.min) && (rule.max === undefined || v <= rule.max);
    if (ok) continue;
    // Show the word as typed (yargs has made `abc` NaN by now).
    const i = words.lastIndexOf(`--${name}`);
    const eq = words.findLast((w) => w.startsWith(`--${name}=`));
    const typed = i !== -1 && i + 1 < words.length ? words[i + 1] : eq ? eq.slice(name.length + 3) : String(v);
    throw new UsageError(`--${name} ${typed}: expected ${want}`);
  }
}

// Run when executed directly (bin/xauto.mjs imports this module and calls main itself).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main(hideBin(process.argv)));
}
