import type { Role } from '../engine/types.js';
import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { runPlaybook } from '../engine/run.js';
import { errorMessage } from '../engine/errors.js';

/**
 * Entry point shared by every role script and playbook: parse options, run, exit with the
 * contract (0 ok, 2 drift in --check, 1 error). Called from roles/*.mjs with import.meta.url.
 */
export async function main(scriptUrl: string, roles: Role[], about: string): Promise<never> {
  try {
    const { options, help } = parseRunOptions(scriptArgs(scriptUrl));
    if (help) {
      process.stdout.write(`${about}\n\n${USAGE}\n`);
      process.exit(0);
    }
    const result = await runPlaybook(roles, options);
    process.exit(result.exitCode);
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
    process.exit(1);
  }
}
