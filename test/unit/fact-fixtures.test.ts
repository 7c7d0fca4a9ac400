// ONE runner for every fact fixture (pyinfra's tests/facts shape): test/fixtures/facts/<fact>/<case>.json
// = { args, command?, stdout, stderr, exitCode, fact | error }. The fact is built from its name and
// args, its command must equal the recorded one (else re-record), and its parser must turn the
// recorded output into `fact` (or throw `error`). See test/fixtures/facts/README.md.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUP_FACTS } from '../../src/backup/facts.js';
import { splitBatchOutput } from '../../src/engine/gather.js';
import type { Fact, ProbeOutput } from '../../src/engine/types.js';
import { type HttpMember, splitContainerHttp } from '../../src/facts/container-http.js';
import { buildFact, FACTS } from '../../src/facts/index.js';
import { type PathMember, splitPaths } from '../../src/facts/paths.js';
import { factFixtureCases, factFixtureNames, readFactFixture, toPlain } from '../fixtures/facts/fixture.mjs';

/** Fixture folders that exercise a parser which is not a fact of its own. */
const PARSER_FOLDERS: Record<string, (args: unknown[], out: ProbeOutput) => unknown> = {
  'gather.batch': ([count, marker], out) => splitBatchOutput(out.stdout, count as number, marker as string),
  // The paths probe of [fact name, path] members (test/fixtures/paths/record.mjs): each member's own output.
  'host.paths': ([members], out) =>
    splitPaths(
      out,
      (members as [string, string][]).map(([name, path]) => buildFact(name, [path]).group!.member as PathMember),
    ),
  // The container.http probe of members given by their facts' args (test/fixtures/container-http/record.mjs).
  'host.container-http': ([members], out) =>
    splitContainerHttp(
      out,
      (members as unknown[][]).map((args) => buildFact('container.http', args).group!.member as HttpMember),
    ),
};

/**
 * Every exported parser (parse* / split*) and the fixture folder whose cases run it: the fact
 * built on it, or its own folder. A new parser without an entry here fails the coverage test.
 */
const PARSER_CASES: Record<string, string> = {
  parseComposeLs: 'docker.compose-projects',
  parseComposeHashes: 'docker.compose-hashes',
  parseComposeConfigHashesProbe: 'docker.compose-config-hashes',
  parseContainers: 'docker.containers',
  parseApiAnswers: 'docker.containers',
  parseContainerHttp: 'container.http',
  splitContainerHttp: 'host.container-http',
  parseDockerUserProbe: 'docker.user-chains',
  splitSections: 'docker.engine',
  parseDockerEngineProbe: 'docker.engine',
  parseOsRelease: 'os.release',
  parseFail2banProbe: 'fail2ban.state',
  parseServerStatus: 'fail2ban.state',
  parseJailActions: 'fail2ban.state',
  parseJailStatus: 'fail2ban.state',
  parseFileContent: 'file.content',
  parseFileProbe: 'file.bytes',
  parseHostnameProbe: 'host.hostname',
  parseImages: 'docker.images',
  parseSsLine: 'host.listeners',
  parseSs: 'host.listeners',
  parsePublishedProbe: 'docker.published',
  parseInspectLine: 'docker.published',
  parseContainerList: 'docker.published',
  parseNetworks: 'docker.networks',
  parseDpkgQuery: 'apt.packages',
  parseSshSession: 'ssh.session',
  parseSshdEffective: 'sshd.effective',
  parseStat: 'path.stat',
  parseSysctl: 'host.sysctl',
  parseSystemctlShow: 'systemd.unit',
  parseTimezoneProbe: 'host.timezone',
  parseUfwTuples: 'ufw.state',
  parseUfwStatusVerbose: 'ufw.state',
  parseDefaultUfw: 'ufw.state',
  parseUfwConf: 'ufw.state',
  splitUfwProbe: 'ufw.state',
  parseUfwProbe: 'ufw.state',
  splitBatchOutput: 'gather.batch',
  splitPaths: 'host.paths',
  parseBackupState: 'backup.state',
  parseSnapshots: 'backup.state',
  parseLastRun: 'backup.state',
};

/** Facts of higher layers (they read what those layers define), registered beside FACTS. */
const REGISTRY: Record<string, unknown> = { ...FACTS, ...BACKUP_FACTS };

const folders = factFixtureNames();

for (const name of folders) {
  describe(name, () => {
    for (const kase of factFixtureCases(name)) {
      it(kase, () => {
        const fx = readFactFixture(name, kase);
        const out: ProbeOutput = { stdout: fx.stdout, stderr: fx.stderr, exitCode: fx.exitCode };
        let parse: () => unknown;
        if (name in PARSER_FOLDERS) {
          parse = () => PARSER_FOLDERS[name]!(fx.args, out);
        } else {
          const fact = buildFact(name, fx.args, BACKUP_FACTS);
          expect(fact.name).toBe(name);
          if (fx.command !== undefined) expect(fact.command, 'the probe changed since this case was recorded').toBe(fx.command);
          parse = () => fact.parse(out);
        }
        expect('fact' in fx !== 'error' in fx, 'a case has exactly one of fact, error').toBe(true);
        if ('error' in fx) expect(parse).toThrow(fx.error);
        // An absent fact (undefined) is stored as null: JSON has no undefined.
        else expect(toPlain(parse()) ?? null).toEqual(fx.fact);
      });
    }
  });
}

const factModules = import.meta.glob<Record<string, unknown>>('../../src/facts/*.ts', { eager: true });
const gatherModule = import.meta.glob<Record<string, unknown>>('../../src/engine/gather.ts', { eager: true });
// The backup layer's facts and parsers (src/backup/facts.ts registers them as BACKUP_FACTS).
const backupModules = import.meta.glob<Record<string, unknown>>(['../../src/backup/facts.ts', '../../src/backup/snapshots.ts'], {
  eager: true,
});
// define.ts (the helper) and index.ts (the registry) build facts, they are not facts.
const exported = Object.entries({ ...factModules, ...gatherModule, ...backupModules })
  .filter(([file]) => !/\/(define|index)\.ts$/.test(file))
  .flatMap(([file, mod]) => Object.entries(mod).map(([exportName, value]) => ({ file, exportName, value })));
const isFact = (v: unknown): v is Fact<unknown> => typeof v === 'object' && v !== null && 'key' in v && 'command' in v && 'parse' in v;

describe('coverage', () => {
  const registered = new Set<unknown>(Object.values(REGISTRY));

  it('every exported fact is registered in FACTS under its own name and has cases', () => {
    const facts = exported.filter(({ exportName, value }) => isFact(value) || (typeof value === 'function' && /Fact$/.test(exportName)));
    expect(facts.length).toBeGreaterThan(20);
    const missing = facts.filter(({ value }) => !registered.has(value)).map(({ file, exportName }) => `${file}: ${exportName}`);
    expect(missing, 'exported facts missing from FACTS (src/facts/index.ts) or BACKUP_FACTS (src/backup/facts.ts)').toEqual([]);
    for (const [name, entry] of Object.entries(REGISTRY)) {
      if (isFact(entry)) expect(entry.name).toBe(name);
      expect(folders, `test/fixtures/facts/${name}/ has no case`).toContain(name);
      expect(factFixtureCases(name).length).toBeGreaterThan(0);
    }
  });

  it('every exported parser has fixture cases', () => {
    const parsers = exported.filter(({ exportName, value }) => typeof value === 'function' && /^(parse|split)[A-Z]/.test(exportName));
    const missing = parsers.filter(({ exportName }) => !PARSER_CASES[exportName]).map(({ file, exportName }) => `${file}: ${exportName}`);
    expect(missing, 'parsers without an entry in PARSER_CASES').toEqual([]);
    for (const folder of new Set(Object.values(PARSER_CASES))) expect(factFixtureCases(folder).length).toBeGreaterThan(0);
    // No stale entries: each one names a parser that still exists.
    const names = new Set(parsers.map((p) => p.exportName));
    expect(Object.keys(PARSER_CASES).filter((p) => !names.has(p))).toEqual([]);
  });

  it('no fixture folder is orphaned', () => {
    for (const name of folders) expect(name in REGISTRY || name in PARSER_FOLDERS, name).toBe(true);
    expect(readdirSync(join(import.meta.dirname, '../fixtures/facts')).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});
