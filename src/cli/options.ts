import { parseArgs } from 'node:util';
import type { RunOptions } from '../engine/types.js';

export const USAGE = `Options (every role and playbook):
  -i, --inventory FILE   inventory file; repeat to overlay files (default: inventory.yaml)
  -l, --limit PATTERN    Ansible host pattern: web, web:db, web:&prod, web:!db1, web*, ~regex, @file
                         (a protected host must be named exactly here)
      --check            audit only: exit 0 when the host matches, 2 on drift, 1 on error
      --dry-run          show every change (with diffs) that apply would make; change nothing
      --diff             show file and rule diffs in apply mode too
      --json             print a machine-readable JSON report on stdout instead of text (also
                         a JSON error object when the run fails)
      --junit FILE       also write a JUnit XML report (testsuite per host and role, testcase
                         per resource; drift in --check is a failure) for CI test reporters
      --local            run on this machine with the local transport (on the server itself)
      --forks N          hosts processed at once (default 50)
      --secrets FILE     secrets file (YAML name: value) instead of the inventory's secrets.file
      --accept-new-host-keys  record unknown SSH host keys (a changed key is still refused)
      --connect-timeout S     seconds to wait for an SSH session (default: the inventory's connect_timeout)
  -h, --help             this text`;

export class UsageError extends Error {}

/** Parses the common options; `extra` lets a script add its own flags. */
export function parseRunOptions(
  argv: string[],
  extra: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {},
): { options: RunOptions; values: Record<string, unknown>; positionals: string[]; help: boolean } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      // A stray word ("--limit a b", a mistyped flag value) is an error, never silently ignored.
      allowPositionals: false,
      strict: true,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        limit: { type: 'string', short: 'l' },
        check: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        diff: { type: 'boolean' },
        json: { type: 'boolean' },
        junit: { type: 'string' },
        local: { type: 'boolean' },
        forks: { type: 'string' },
        secrets: { type: 'string' },
        'accept-new-host-keys': { type: 'boolean' },
        'connect-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values as Record<string, unknown>;
  if (v.check && v['dry-run']) throw new UsageError('--check and --dry-run exclude each other');
  // Digits only: Number() would read "1e3", "0x10" and " 5 " as integers too.
  if (v.forks !== undefined && !/^[1-9][0-9]{0,3}$/.test(String(v.forks)))
    throw new UsageError(`--forks takes a positive integer (1..9999), got ${JSON.stringify(v.forks)}`);
  const forks = v.forks === undefined ? 50 : Number(v.forks); // DEFAULT_FORKS of src/engine/run.ts
  const timeout = v['connect-timeout'] === undefined ? undefined : Number(v['connect-timeout']);
  if (timeout !== undefined && !(timeout > 0))
    throw new UsageError(`--connect-timeout takes seconds (> 0), got ${String(v['connect-timeout'])}`);
  const options: RunOptions = {
    mode: v.check ? 'check' : v['dry-run'] ? 'dry-run' : 'apply',
    diff: Boolean(v.diff),
    json: Boolean(v.json),
    forks,
    local: Boolean(v.local),
    limit: v.limit as string | undefined,
    inventoryPaths: (v.inventory as string[] | undefined) ?? ['inventory.yaml'],
    acceptNewHostKeys: Boolean(v['accept-new-host-keys']),
    ...(timeout !== undefined ? { connectTimeoutMs: Math.round(timeout * 1000) } : {}),
    ...(typeof v.junit === 'string' ? { junitFile: v.junit } : {}),
    ...(typeof v.secrets === 'string' ? { secretsFile: v.secrets } : {}),
  };
  return { options, values: v, positionals: parsed.positionals, help: Boolean(v.help) };
}

/** The arguments given to a zx script: everything after the script's own path in argv. */
export function scriptArgs(scriptUrl: string, argv: string[] = process.argv): string[] {
  const script = new URL(scriptUrl).pathname;
  const i = argv.findIndex((a) => a === script || (a.length > 0 && script.endsWith('/' + a.replace(/^\.\//, ''))));
  return i >= 0 ? argv.slice(i + 1) : argv.slice(2);
}
