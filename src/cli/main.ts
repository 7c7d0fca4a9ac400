import type { Role } from '../engine/types.js';
import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { cliReporter, reportFailure, runTargets } from './session.js';
import { interruptOnSignals } from './signals.js';

/**
 * Entry point shared by every role script and playbook: parse options, run, exit with the
 * contract (0 ok, 2 drift in --check, 1 error, 130 interrupted). Called from roles/*.mjs with
 * import.meta.url; user roles (defineRole) run through it alike, their inventory sections validated
 * on load. It owns SIGINT/SIGTERM (src/cli/signals.ts); the engine gets an AbortSignal.
 */
export async function main(scriptUrl: string, roles: Role[], about: string): Promise<never> {
  let reporter: ReturnType<typeof cliReporter> | undefined;
  try {
    const { options, help } = parseRunOptions(scriptArgs(scriptUrl));
    if (help) {
      process.stdout.write(`${about}\n\n${USAGE}\n`);
      process.exit(0);
    }
    const interrupt = interruptOnSignals(cliReporter(options));
    reporter = interrupt.reporter;
    const result = await runTargets(options, roles, reporter, interrupt.signal);
    await reporter.close?.();
    process.exit(result.exitCode);
  } catch (err) {
    if (reporter) await reportFailure(reporter, err);
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
    process.exit(1);
  }
}
