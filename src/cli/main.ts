import type { Role } from '../engine/types.js';
import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { playbookOptions, runPlaybook } from '../engine/run.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { cliReporter, loadTargets, reportFailure } from './session.js';
import { interruptOnSignals } from './signals.js';
import { preconnect } from './preconnect.js';

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
    const { inventory, hosts, skipped } = await loadTargets(options, roles);
    // The handshakes start now and overlap with the run's preparation (src/cli/preconnect.ts).
    const ahead = preconnect(hosts, roles, playbookOptions(options));
    const result = await runPlaybook(inventory, roles, {
      ...playbookOptions(options),
      hosts,
      skipped,
      reporter,
      signal: interrupt.signal,
      ...(ahead ? { openTransport: ahead.open } : {}),
    }).finally(() => ahead?.close());
    await reporter.close?.();
    process.exit(result.exitCode);
  } catch (err) {
    if (reporter) await reportFailure(reporter, err);
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
    process.exit(1);
  }
}
