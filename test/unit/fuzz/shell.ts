import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Batched bash checks for the fuzz test: thousands of generated scripts are parsed in a few
 * `bash -n` runs (each script wrapped as a function body) and executed in ONE throwaway,
 * unprivileged bash where no external command exists: every command name is "not found" and a
 * no-op, except the marker HKMARK, whose execution is recorded with the script that ran it.
 */
export const MARKER = 'HKMARK';

export interface Script {
  name: string;
  text: string;
  /** run: executed with `. script run`; source: an env file read with `set -a; . file`. */
  mode: 'run' | 'source';
}

/** Scripts that do not parse (bash -n), by name. */
export function unparsable(scripts: Script[], chunk = 400): string[] {
  const bad: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hostkit-fuzz-parse-'));
  const check = (list: Script[]): boolean => {
    const body = list.map((s, i) => `__hk_${i}() {\n${s.text}\n}\n`).join('');
    const file = join(dir, 'chunk.sh');
    writeFileSync(file, body);
    return spawnSync('bash', ['-n', file], { stdio: 'ignore' }).status === 0;
  };
  for (let i = 0; i < scripts.length; i += chunk) {
    const part = scripts.slice(i, i + chunk);
    if (check(part)) continue;
    // One bad script may spoil its neighbours' parse: find the ones that fail on their own.
    for (const s of part) {
      const file = join(dir, 'one.sh');
      writeFileSync(file, s.text);
      if (spawnSync('bash', ['-n', file], { stdio: 'ignore' }).status !== 0) bad.push(s.name);
    }
  }
  return bad;
}

const RUNNER = `
marks=$1; list=$2; work=$3
command_not_found_handle() { if [ "$1" = ${MARKER} ]; then printf '%s\\n' "$HK_SCRIPT" >>"$marks"; fi; return 0; }
mktemp() { printf '%s\\n' "$work/tmp.$RANDOM"; }
sleep() { HK_SLEEPS=$((\${HK_SLEEPS:-0} + 1)); [ "$HK_SLEEPS" -lt 20 ] || exit 97; }
PATH=/nonexistent
cd "$work" || exit 1
while IFS= read -r f; do
  HK_SCRIPT=$f
  case "$f" in
    *.source) ( set -a; . "$f"; set +a ) </dev/null >/dev/null 2>&1 ;;
    *) ( . "$f" run ) </dev/null >/dev/null 2>&1 ;;
  esac
done <"$list"
echo done >>"$marks.end"
`;

/** Runs every script; returns the names of the scripts in which the marker command ran. */
export function markerRuns(scripts: Script[]): { fired: string[]; completed: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'hostkit-fuzz-run-'));
  chmodSync(dir, 0o755);
  const work = join(dir, 'work');
  mkdirSync(work, { mode: 0o777 });
  chmodSync(work, 0o777);
  const names = new Map<string, string>();
  const files = scripts.map((s, i) => {
    const file = join(dir, `s${i}.${s.mode === 'source' ? 'source' : 'sh'}`);
    writeFileSync(file, s.text, { mode: 0o644 });
    names.set(file, s.name);
    return file;
  });
  const list = join(dir, 'list');
  writeFileSync(list, `${files.join('\n')}\n`, { mode: 0o644 });
  const marks = join(work, 'marks');
  writeFileSync(marks, '');
  chmodSync(marks, 0o666);
  writeFileSync(join(dir, 'runner.sh'), RUNNER, { mode: 0o644 });
  // Unprivileged when we are root: a hostile value that did run could not touch the machine.
  const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
  const argv = [...asNobody, 'bash', '--noprofile', '--norc', join(dir, 'runner.sh'), marks, list, work];
  spawnSync(argv[0]!, argv.slice(1), {
    stdio: 'ignore',
    timeout: 120_000,
    env: { HOME: work, LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const fired = readFileSync(marks, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((f) => names.get(f) ?? f);
  let completed = false;
  try {
    completed = readFileSync(`${marks}.end`, 'utf8').includes('done');
  } catch {
    completed = false;
  }
  return { fired: [...new Set(fired)], completed };
}
