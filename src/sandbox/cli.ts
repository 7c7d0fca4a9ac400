#!/usr/bin/env node
/**
 * hostkit sandbox: disposable Debian servers for the demo and for poking at roles by hand.
 *   node dist/sandbox/cli.js up [--name N] [--count K] [--inventory FILE] [--user root|admin] [--suite S] [--bare]
 *   node dist/sandbox/cli.js down [NAME...|--all|--run ID]
 *   node dist/sandbox/cli.js ls
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureImage } from './image.js';
import { defaultPlatformYaml, writeSandboxInventory } from './inventory.js';
import { sandboxDir } from './paths.js';
import { listTargets, removeAllTargets, removeTarget, startTarget, type Target } from './targets.js';

const USAGE = `usage: sandbox up [--name N] [--count K] [--inventory FILE] [--user root|admin] [--suite S] [--bare]
       sandbox down [NAME...|--all|--run ID|--run any]
       sandbox ls`;

function sshCommand(t: Target, user: string): string {
  return `ssh -i ${t.keyFile} -o UserKnownHostsFile=${t.knownHosts} -o StrictHostKeyChecking=yes -p ${t.port} ${user}@${t.address}`;
}

async function up(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      count: { type: 'string', default: '1' },
      inventory: { type: 'string' },
      user: { type: 'string', default: 'root' },
      suite: { type: 'string', default: 'trixie' },
      bare: { type: 'boolean', default: false }, // no firewall:/data: sections
    },
  });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count: a positive integer, not ${values.count}`);
  if (values.user !== 'root' && values.user !== 'admin') throw new Error(`--user: root or admin, not ${values.user}`);
  const user = values.user;
  // Build first, with progress shown: a cold build takes minutes, then the starts are parallel.
  await ensureImage(values.suite, { verbose: true });
  const names = Array.from({ length: count }, (_, i) => (values.name ? (count > 1 ? `${values.name}-${i + 1}` : values.name) : undefined));
  const settled = await Promise.allSettled(
    names.map((name) => startTarget({ ...(name ? { name } : {}), suite: values.suite, runId: 'cli' })),
  );
  const targets = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  for (const f of failures) console.error(`error: ${f.message}`);
  if (targets.length === 0) return 1;
  const path = await writeSandboxInventory(targets, {
    path: values.inventory ?? join(sandboxDir(), 'inventory.yaml'),
    user,
    ...(values.bare ? {} : { platformYaml: defaultPlatformYaml() }),
  });
  console.log(`# ${path}\n${await readFile(path, 'utf8')}`);
  for (const t of targets) console.log(`# ${t.name}:\n${sshCommand(t, user)}`);
  return failures.length ? 1 : 0;
}

/**
 * `down --all` removes the targets `up` started (run "cli") only: test runs of other engineers
 * share the Docker engine, and their targets carry their own run id. `--run ID` removes one run's
 * leftovers (see `ls`), `--run any` every sandbox container.
 */
async function down(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { all: { type: 'boolean', default: false }, run: { type: 'string' } },
  });
  const bulk = values.all || values.run !== undefined;
  if (bulk === positionals.length > 0) throw new Error('down: name targets, or give --all / --run ID');
  if (bulk) {
    const run = values.run ?? 'cli';
    for (const n of await removeAllTargets(run === 'any' ? {} : { runId: run })) console.log(`removed ${n}`);
    return 0;
  }
  let missing = 0;
  for (const n of positionals) {
    if (await removeTarget(n)) console.log(`removed ${n}`);
    else {
      missing++;
      console.error(`${n}: no such target`);
    }
  }
  return missing ? 1 : 0;
}

async function ls(): Promise<number> {
  const rows = (await listTargets()).map((t) => [t.name, t.state, t.port ? `127.0.0.1:${t.port}` : '-', t.runId, t.image]);
  const all = [['NAME', 'STATE', 'SSH', 'RUN', 'IMAGE'], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const r of all)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up':
      return up(rest);
    case 'down':
      return down(rest);
    case 'ls':
      return ls();
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === '-h' || cmd === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
