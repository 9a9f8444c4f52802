#!/usr/bin/env node
// The `xauto` command line: wires the parts together, nothing more.
import { pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError, launchCommand } from './launch.js';
import { topicCommand } from './topic.js';
import { planCommand } from './plan.js';
import { playCommand } from './play.js';
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
      .command(topCommand)
      .demandCommand(1, 'Give a command, e.g. `xauto launch launch/hello.launch.yaml --frames 100`')
      .strict()
      .help()
      .version(false)
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
    code = user ? 2 : 1;
  }
  return code;
}

class UsageError extends Error {}

// Run when executed directly (bin/xauto.mjs imports this module and calls main itself).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main(hideBin(process.argv)));
}
