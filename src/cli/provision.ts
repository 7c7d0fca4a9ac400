import { ROLES, rolesByName } from '../roles/index.js';
import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { cliReporter, reportFailure, runTargets } from './session.js';
import { interruptOnSignals } from './signals.js';
import type { ExitCode, RunOptions } from '../engine/types.js';

const ABOUT = `scripts/provision.mjs: provision hosts with every role in order (${ROLES.map((r) => r.name).join(', ')}).
  --only ROLE[,ROLE]   run only these roles (still in provisioning order)
  --sandbox            no real host: start (or reuse) a local sandbox server and show the whole
                       flow on it: plan (--dry-run), apply, a second apply, and --check`;

/** The full-server playbook; with --sandbox, the guided demo on a local sandbox server. */
export async function provisionMain(scriptUrl: string, defaults: { check?: boolean } = {}): Promise<never> {
  let reporter: ReturnType<typeof cliReporter> | undefined;
  try {
    const { options, values, help } = parseRunOptions(scriptArgs(scriptUrl), {
      only: { type: 'string' },
      sandbox: { type: 'boolean' },
    });
    if (help) {
      process.stdout.write(`${ABOUT}\n\n${USAGE}\n`);
      process.exit(0);
    }
    if (defaults.check) {
      // scripts/audit.mjs: the full audit, always --check (exit 0 clean, 2 drift, 1 error).
      if (options.mode === 'dry-run') throw new UsageError('the audit is --check; --dry-run does not apply');
      options.mode = 'check';
    }
    const only =
      typeof values.only === 'string'
        ? values.only
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined;
    const roles = only ? ROLES.filter((r) => rolesByName(only).includes(r)) : [...ROLES];
    const play = async (o: RunOptions) => {
      const interrupt = interruptOnSignals(cliReporter(o));
      reporter = interrupt.reporter;
      try {
        const result = await runTargets(o, roles, reporter, interrupt.signal);
        await reporter.close?.();
        reporter = undefined;
        return result.exitCode;
      } finally {
        interrupt.dispose();
      }
    };
    if (!values.sandbox) process.exit(await play(options));

    // Loaded for --sandbox only: the sandbox code and execa cost the audit ~25 ms of start-up.
    const { prepareSandboxInventory } = await import('../sandbox/demo.js');
    const inventoryPaths = await prepareSandboxInventory(options.inventoryPaths);
    const base: RunOptions = { ...options, inventoryPaths, limit: undefined };
    const steps: [string, RunOptions][] =
      options.mode === 'apply'
        ? [
            ['1/4 plan (--dry-run): what would change', { ...base, mode: 'dry-run' }],
            ['2/4 apply', { ...base, mode: 'apply' }],
            ['3/4 apply again: expect 0 changed', { ...base, mode: 'apply' }],
            ['4/4 audit (--check): expect exit 0', { ...base, mode: 'check' }],
          ]
        : [[options.mode, base]];
    let exitCode: ExitCode = 0;
    for (const [title, stepOptions] of steps) {
      process.stdout.write(`\n### ${title}\n`);
      exitCode = await play(stepOptions);
      if (exitCode === 1 || exitCode === 130) break;
    }
    process.stdout.write(`\nsandbox inventory: ${inventoryPaths.join(' + ')}\n`);
    process.exit(exitCode);
  } catch (err) {
    if (reporter) await reportFailure(reporter, err);
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${ABOUT}\n\n${USAGE}\n`);
    process.exit(1);
  }
}
