import { fanOut, type Reporter } from '../engine/events.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import type { Role, RunOptions } from '../engine/types.js';
import { playbookOptions, runPlaybook, type RunResult } from '../engine/run.js';
import { preconnect } from './preconnect.js';
// Not inventory/index.js: its synchronous parsers import every schema slice (see inventory/load.ts).
// loader.ts loads zod, yaml and the schema only when its validated cache cannot answer.
import { loadInventory } from '../inventory/loader.js';
import { selectHosts } from '../inventory/select.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import { ConsoleReporter } from '../report/console.js';
import { JsonReporter } from '../report/json.js';
import { JunitReporter } from '../report/junit.js';
import { roleSections } from '../roles/define.js';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}
const STDIO: Io = { out: process.stdout, err: process.stderr };

/** The reporters the command line asks for: console (stderr with --json), JSON, JUnit. */
export function cliReporter(options: RunOptions, io: Io = STDIO): Reporter {
  const reporters: Reporter[] = [
    new ConsoleReporter(options.json ? io.err : io.out, { mode: options.mode, diff: options.diff, recap: !options.json }),
  ];
  if (options.json) reporters.push(new JsonReporter(io.out, options.mode));
  if (options.junitFile) reporters.push(new JunitReporter(options.junitFile, options.mode));
  return fanOut(reporters);
}

/**
 * Loading and host selection: the cli's part, before the engine runs. `roles`: the roles the
 * script runs; the inventory is validated for them only (their sections, user roles' roles.<name>);
 * without them, every section.
 */
export async function loadTargets(
  options: RunOptions,
  roles?: readonly Role[],
): Promise<{ inventory: Inventory; hosts: HostConfig[]; skipped: { host: string; reason: string }[] }> {
  const inventory = await loadInventory(options.inventoryPaths, roles ? { roles, roleSections: roleSections(roles) } : {});
  const { hosts, skipped } = selectHosts(inventory, { limit: options.limit, local: options.local });
  return { inventory, hosts, skipped };
}

/** A run that failed outside the engine's reports: the reporters say so (JSON error object, JUnit error). */
export async function reportFailure(reporter: Reporter, err: unknown, where: { host?: string; step?: string } = {}): Promise<void> {
  reporter.on({ type: 'run-failed', error: redact(errorMessage(err)), ...where });
  await reporter.close?.();
}

/**
 * A script's run once its options are parsed: load and select the hosts, open their connections
 * ahead where nothing left can stop the run before a host (src/cli/preconnect.ts), run the roles.
 */
export async function runTargets(options: RunOptions, roles: Role[], reporter: Reporter, signal: AbortSignal): Promise<RunResult> {
  const { inventory, hosts, skipped } = await loadTargets(options, roles);
  const ahead = preconnect(hosts, roles, playbookOptions(options));
  return runPlaybook(inventory, roles, {
    ...playbookOptions(options),
    hosts,
    skipped,
    reporter,
    signal,
    ...(ahead ? { openTransport: ahead.open } : {}),
  }).finally(() => ahead?.close());
}
