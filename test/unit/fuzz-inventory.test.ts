import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BackupConfigError } from '../../src/backup/model.js';
import { clearSecrets } from '../../src/engine/redact.js';
import { prepareRole, type RoleInput } from '../../src/engine/role-input.js';
import type { Role } from '../../src/engine/types.js';
import { InventoryError, parseInventory } from '../../src/inventory/index.js';
import type { Inventory } from '../../src/inventory/types.js';
import { PlatformPrepareError } from '../../src/platform/prepare.js';
import { SecretsError } from '../../src/platform/secrets.js';
import { ROLES } from '../../src/roles/index.js';
import { UNSAFE_CHARACTERS } from '../../src/schema/primitives.js';
import { type Artifacts, collectArtifacts } from './fuzz/artifacts.js';
import { baseInventory, baseSecrets } from './fuzz/base-inventory.js';
import { composeProblems, envProblems, iniProblems, JAIL_KEYS, LINE_BREAKS, lineCount, unitProblems } from './fuzz/checks.js';
import { MARKER, markerRuns, type Script, unparsable } from './fuzz/shell.js';

/**
 * Issue 9's fuzz test: hostile text (line breaks, CR, $(), backticks, quotes, %-specifiers,
 * Unicode separators, very long values) in every string field of the inventory and of the
 * secrets file. For each generated inventory: either a positioned validation error, or every
 * generated command parses with `bash -n`, and run in a throwaway shell the marker command hidden
 * in the values never executes; every rendered INI, unit, YAML and .env file parses back with no
 * extra section, key or line. The shell checks are batched after the property run (thousands of
 * scripts in a few bash processes) to stay within the time bound.
 */

const NUM_RUNS = Number(process.env.HOSTKIT_FUZZ_RUNS ?? 10_000);
// ~30 s of CPU on an idle machine; the bound is generous for a shared one, and a run cut short fails.
const TIME_LIMIT_MS = Number(process.env.HOSTKIT_FUZZ_TIME_LIMIT_MS ?? 240_000);

const M = MARKER;
// Each hides the marker the way a shell, an INI or a unit reader could be tricked into running it.
const FRAGMENTS = [
  '\n',
  '\r',
  '\r\n',
  '\u2028',
  '\u2029',
  '\x85',
  '\x1b[2J',
  '\x00',
  '\t',
  '\x7f',
  `$(${M})`,
  `\`${M}\``,
  `;${M};`,
  `&& ${M}`,
  `| ${M}`,
  `'$(${M})'`,
  `"$(${M})"`,
  `'; ${M}; '`,
  `"; ${M}; "`,
  `\n${M}\n`,
  `\rignorecommand = ${M}\r`,
  `\nExecStartPre=/bin/${M}\n`,
  `\n  - ${M}:\n`,
  '%h',
  '%%',
  '%(action_)s',
  '${HOME}',
  '$HOME',
  '$$',
  '\\',
  '\\\n',
  "'",
  '"',
  '#',
  ' ; ',
  ' # ',
  ': ',
  '&',
  '*',
  '~',
  '..',
  '/',
  ' ',
  'x'.repeat(5000),
];

type Doc = Record<string, unknown>;
type Path = (string | number)[];

/** Every string value and every map key of a document, as paths (a key path ends in {key: name}). */
function stringFields(doc: unknown, path: Path = [], out: { path: Path; key: boolean }[] = []): { path: Path; key: boolean }[] {
  if (typeof doc === 'string') out.push({ path, key: false });
  else if (Array.isArray(doc)) for (const [i, v] of doc.entries()) stringFields(v, [...path, i], out);
  else if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if (path.length > 0) out.push({ path: [...path, k], key: true });
      stringFields(v, [...path, k], out);
    }
  }
  return out;
}

const get = (doc: unknown, path: Path): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], doc);

function mutate(doc: Doc, field: { path: Path; key: boolean }, text: (old: string) => string): void {
  const parent = get(doc, field.path.slice(0, -1)) as Record<string | number, unknown>;
  const last = field.path[field.path.length - 1]!;
  if (!field.key) {
    parent[last] = text(parent[last] as string);
    return;
  }
  // Rename the key, keeping the key order (so nothing but the name changes).
  const entries = Object.entries(parent).map(([k, v]) => [k === last ? text(k) : k, v] as const);
  for (const k of Object.keys(parent)) delete parent[k];
  for (const [k, v] of entries) parent[k] = v;
}

// Half the cases use printable fragments only: safe text that many fields accept, so the shell
// quoting and the format escaping (not only the schema) are what stand between them and a host.
// biome-ignore lint/suspicious/noControlCharactersInRegex: picks the fragments with control characters.
const PRINTABLE = FRAGMENTS.filter((f) => !/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(f));
const fragments = (list: string[]) =>
  fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...list) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), {
    minLength: 1,
    maxLength: 4,
  });
const hostile = fc.oneof(fragments(FRAGMENTS), fragments(PRINTABLE));
const placement = fc.constantFrom('replace', 'append', 'prepend', 'middle');
const apply = (how: string, old: string, add: string) =>
  how === 'replace' ? add : how === 'append' ? old + add : how === 'prepend' ? add + old : old.slice(0, 1) + add + old.slice(1);

/**
 * The sections a case's inventory declares: `all` and those its mutations touched, with what they
 * need (the stacks their data directories and secrets; the backup its stacks). A smaller document
 * parses faster, and roles of undeclared sections build nothing, so each case costs what it tests.
 */
const PLATFORM = ['data', 'secrets', 'compose', 'stacks'];
const SECTIONS: Record<string, string[]> = {
  data: PLATFORM,
  stacks: PLATFORM,
  compose: PLATFORM,
  secrets: PLATFORM,
  backup: [...PLATFORM, 'backup'],
  '@secrets': [...PLATFORM, 'backup'],
};
const sectionsOf = (touched: Set<string>, all: string[]): string[] =>
  touched.has('all') ? all : [...new Set([...touched].flatMap((t) => SECTIONS[t] ?? [t]))].sort();
const subset = (doc: Doc, sections: string[]): Doc =>
  Object.fromEntries(Object.entries(doc).filter(([k]) => k === 'all' || sections.includes(k)));

interface Outcome {
  rejected: number;
  accepted: number;
  /** Accepted inventories with the marker in some value: proof the shell checks had work to do. */
  markerAccepted: number;
  problems: string[];
  scripts: Map<string, Script>;
}

function record(out: Outcome, where: string, problems: string[]): void {
  for (const p of problems) if (out.problems.length < 50) out.problems.push(`${where}: ${p}`);
}

/** Checks of one accepted inventory's files; scripts are queued for the batched bash checks. */
function checkArtifacts(out: Outcome, inv: Inventory, a: Artifacts, base: Artifacts, label: string): void {
  for (const [key, f] of a.files) {
    const multiLine = /\/(known_hosts|ssh_key|password)$/.test(f.path);
    const before = base.files.get(key);
    if (!multiLine && before && lineCount(f.content) !== lineCount(before.content))
      record(out, label, [`${f.path}: ${lineCount(f.content)} lines, ${lineCount(before.content)} expected`]);
    if (UNSAFE_CHARACTERS.test(f.content.replace(/[\n\t]/g, '')) && !/ssh_key$/.test(f.path))
      record(out, label, [`${f.path}: a control character or Unicode line separator was written`]);
    if (f.path === '/etc/fail2ban/jail.local')
      record(
        out,
        `${label} ${f.path}`,
        iniProblems(
          f.content,
          JAIL_KEYS,
          (inv.doc.fail2ban?.jails ?? []).map((j) => j.name),
        ),
      );
    if (/\.(timer|service)$/.test(f.path)) {
      const cal = f.path.endsWith('-check.timer')
        ? inv.doc.backup?.check_schedule
        : f.path.endsWith('.timer')
          ? inv.doc.backup?.schedule
          : undefined;
      record(out, `${label} ${f.path}`, unitProblems(f.content, cal));
    }
    if (f.path.endsWith('compose.yaml')) {
      const stack = Object.entries(inv.doc.stacks ?? {}).find(
        ([name]) => f.path.endsWith(`/${name}/compose.yaml`) || f.path === `${name}/compose.yaml`,
      );
      if (stack) record(out, `${label} ${f.path}`, composeProblems(f.content, stack[1].services as never));
    }
    if (f.path.endsWith('/.env')) record(out, `${label} ${f.path}`, envProblems(f.content));
    const shell = f.path === '/etc/hostkit/backup/env' ? 'source' : /^#!\/bin\/(ba)?sh/.test(f.content) ? 'run' : undefined;
    if (shell) queue(out, `${label} ${f.path}`, f.content, shell);
  }
  for (const [key, s] of a.scripts) queue(out, `${label} ${key}`, s, 'run');
}

function queue(out: Outcome, name: string, text: string, mode: Script['mode']): void {
  const id = createHash('sha1').update(mode).update(text).digest('hex');
  if (!out.scripts.has(id)) out.scripts.set(id, { name, text, mode });
}

async function inputsFor(inv: Inventory, secretsFile: string, roles: readonly Role[]): Promise<Map<Role, RoleInput>> {
  const inputs = new Map<Role, RoleInput>();
  for (const role of roles) inputs.set(role, await prepareRole(role, inv, { secretsFile }));
  return inputs;
}

describe('fuzz: hostile text in every string field of the inventory and the secrets file', () => {
  it(`${NUM_RUNS} generated inventories: a positioned error, or safe commands and files`, { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostkit-fuzz-'));
    const invFile = join(dir, 'inventory.yaml');
    const baseSecretsFile = join(dir, 'secrets.yaml');
    writeFileSync(baseSecretsFile, stringify(baseSecrets()));
    const fields = stringFields(baseInventory());
    const secretFields = Object.keys(baseSecrets());

    const out: Outcome = { rejected: 0, accepted: 0, markerAccepted: 0, problems: [], scripts: new Map() };
    // What each declared subset renders unmutated: the reference for line counts.
    const baselines = new Map<string, Artifacts>();
    const baselineFor = async (sections: string[]): Promise<Artifacts> => {
      const id = sections.join();
      let found = baselines.get(id);
      if (!found) {
        const inv = parseInventory(JSON.stringify(subset(baseInventory(), sections)), invFile);
        found = collectArtifacts(inv, await inputsFor(inv, baseSecretsFile, ROLES));
        baselines.set(id, found);
        for (const [key, s] of found.scripts) queue(out, `baseline ${key}`, s, 'run');
      }
      return found;
    };
    const everything = Object.keys(baseInventory()).filter((k) => k !== 'all');
    const full = await baselineFor(everything);
    expect(full.files.size).toBeGreaterThan(15);
    expect(full.scripts.size).toBeGreaterThan(40);

    const mutation = fc.record({
      inInventory: fc.boolean(),
      field: fc.nat(),
      text: hostile,
      how: placement,
    });
    const started = Date.now();
    const result = await fc.check(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const doc = baseInventory() as Doc;
        const secrets = baseSecrets() as Record<string, string>;
        const touched = new Set<string>();
        const labels: string[] = [];
        for (const m of mutations) {
          const add = m.text.join('');
          if (m.inInventory) {
            const f = fields[m.field % fields.length]!;
            // Skip a field an earlier mutation renamed away.
            const parent = get(doc, f.path.slice(0, -1));
            const at = f.path[f.path.length - 1]!;
            if (!parent || typeof parent !== 'object' || !Object.hasOwn(parent, at)) continue;
            if (!f.key && typeof (parent as Record<string | number, unknown>)[at] !== 'string') continue;
            mutate(doc, f, (old) => apply(m.how, old, add));
            touched.add(String(f.path[0]));
            labels.push(`${f.path.join('.')}${f.key ? ' (key)' : ''}`);
          } else {
            const name = secretFields[m.field % secretFields.length]!;
            secrets[name] = apply(m.how, secrets[name]!, add);
            touched.add('@secrets');
            labels.push(`secret ${name}`);
          }
        }
        const label = `[${labels.join(', ')}]`;
        let secretsFile = baseSecretsFile;
        if (touched.has('@secrets')) {
          secretsFile = join(dir, 'secrets-case.yaml');
          writeFileSync(secretsFile, stringify(secrets));
        }
        const sections = sectionsOf(touched, everything);
        const declared = subset(doc, sections);
        let inv: Inventory;
        try {
          inv = parseInventory(JSON.stringify(declared), invFile); // JSON is YAML, and cheap to write
        } catch (err) {
          if (!(err instanceof InventoryError)) throw err;
          const unpositioned = err.problems.filter((p) => p.file !== invFile || p.line < 1 || p.col < 1);
          if (unpositioned.length) record(out, label, [`unpositioned problem: ${unpositioned[0]!.message}`]);
          out.rejected++;
          return;
        }
        let artifacts: Artifacts;
        try {
          artifacts = collectArtifacts(inv, await inputsFor(inv, secretsFile, ROLES));
        } catch (err) {
          // Control-machine checks: the secrets file, the backup's databases. Values never printed.
          if (!(err instanceof SecretsError || err instanceof BackupConfigError || err instanceof PlatformPrepareError)) throw err;
          for (const v of Object.values(secrets))
            if (v.length >= 8 && err.message.includes(v)) record(out, label, ['a secret value was printed']);
          out.rejected++;
          return;
        } finally {
          clearSecrets();
        }
        out.accepted++;
        if (JSON.stringify(declared).includes(MARKER)) out.markerAccepted++;
        checkArtifacts(out, inv, artifacts, await baselineFor(sections), label);
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, seed: Number(process.env.HOSTKIT_FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    const propertyMs = Date.now() - started;
    if (result.failed)
      throw new Error(`${fc.defaultReportMessage(result)}\n${String((result.errorInstance as Error)?.stack ?? result.errorInstance)}`);
    expect(result.interrupted, `only ${result.numRuns} cases within ${TIME_LIMIT_MS} ms`).toBe(false);
    expect(result.numRuns).toBeGreaterThanOrEqual(NUM_RUNS);

    const scripts = [...out.scripts.values()];
    const t1 = Date.now();
    const bad = unparsable(scripts);
    const t2 = Date.now();
    const runs = markerRuns(scripts);
    const t3 = Date.now();
    console.log(
      `fuzz: ${result.numRuns} cases (seed ${result.seed}): ${out.rejected} rejected with positions, ${out.accepted} accepted (${out.markerAccepted} with the marker in a value); ` +
        `${scripts.length} distinct scripts; property ${propertyMs} ms, bash -n ${t2 - t1} ms, execution ${t3 - t2} ms`,
    );
    expect(out.problems).toEqual([]);
    expect(bad).toEqual([]);
    expect(runs.completed, 'the throwaway shell ran every script').toBe(true);
    expect(runs.fired).toEqual([]);
    expect(out.accepted).toBeGreaterThan(NUM_RUNS / 20);
    expect(out.rejected).toBeGreaterThan(NUM_RUNS / 20);
    expect(out.markerAccepted).toBeGreaterThan(NUM_RUNS / 300);
  });

  it('the batched checks catch what they are for (positive controls)', () => {
    const controls: Script[] = [
      { name: 'injected', text: `echo "x"; ${MARKER}\n`, mode: 'run' },
      { name: 'env', text: `A=$(${MARKER})\n`, mode: 'source' },
      { name: 'quoted', text: `echo '$(${MARKER})'\n`, mode: 'run' },
    ];
    expect(markerRuns(controls).fired.sort()).toEqual(['env', 'injected']);
    expect(unparsable([{ name: 'broken', text: "echo 'x\n", mode: 'run' }, ...controls])).toEqual(['broken']);
    expect(lineCount('a\rb\u2028c')).toBe(2);
    expect('a\r\nb'.split(LINE_BREAKS)).toEqual(['a', 'b']);
  });
});
