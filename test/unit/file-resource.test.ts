import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseFileProbe, fileFact } from '../../src/facts/file.js';
import { planFile, validatedWriteScript, ManagedFile, type ManagedFileSpec } from '../../src/resources/file.js';
import { parseSystemctlShow } from '../../src/facts/systemd.js';
import { planService } from '../../src/resources/service.js';
import { factSetFrom } from '../../src/engine/gather.js';
import { RefusedError } from '../../src/engine/errors.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const spec: ManagedFileSpec = { path: '/etc/x.conf', content: 'a = 1\nb = 2\n', owner: 'root', group: 'root', mode: '0644' };
const write = { kind: 'write' as const, path: spec.path, content: spec.content };

describe('file probe parser', () => {
  it('regular file: bytes from base64, owner, group, 4-digit mode', () => {
    const s = parseFileProbe('/etc/x.conf', `file|root|adm|640\n${b64('a = 1\n\xff')}\n`);
    expect(s).toMatchObject({ exists: true, type: 'file', owner: 'root', group: 'adm', mode: '0640' });
    expect(s.exists && s.type === 'file' && s.content.toString()).toBe('a = 1\n\xff');
  });
  it('empty file, absent, a symlink or a directory', () => {
    expect(parseFileProbe('/e', 'file|root|root|644\n\n')).toMatchObject({ type: 'file', content: Buffer.alloc(0) });
    expect(parseFileProbe('/e', 'absent\n')).toEqual({ path: '/e', exists: false });
    expect(parseFileProbe('/e', 'other|symbolic link\n')).toEqual({ path: '/e', exists: true, type: 'other', kind: 'symbolic link' });
    expect(parseFileProbe('/e', 'other|directory\n')).toMatchObject({ kind: 'directory' });
  });
  it('refuses garbage', () => {
    expect(() => parseFileProbe('/e', 'what\n')).toThrow(/unexpected file probe output/);
    expect(() => parseFileProbe('/e', 'file|root|root|644\nnot base64!\n')).toThrow(/not base64/);
  });
  it('the probe runs locally: a real file, a missing one, a symlink', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-file-'));
    try {
      await writeFile(join(dir, 'f'), 'hello\n', { mode: 0o600 });
      await execa('ln', ['-s', 'f', join(dir, 'l')]);
      const probe = async (p: string) => {
        const r = await execa('sh', ['-c', fileFact(p).command]);
        return fileFact(p).parse({ stdout: r.stdout + '\n', stderr: r.stderr, exitCode: r.exitCode ?? 0 });
      };
      expect(await probe(join(dir, 'f'))).toMatchObject({ type: 'file', mode: '0600', content: Buffer.from('hello\n') });
      expect(await probe(join(dir, 'missing'))).toMatchObject({ exists: false });
      expect(await probe(join(dir, 'l'))).toMatchObject({ type: 'other', kind: 'symbolic link' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('file planner', () => {
  const cur = (content: string, meta: Partial<{ owner: string; group: string; mode: string }> = {}) =>
    ({
      path: spec.path,
      exists: true,
      type: 'file',
      owner: 'root',
      group: 'root',
      mode: '0644',
      content: Buffer.from(content),
      ...meta,
    }) as const;

  it('converged: nothing', () => {
    expect(planFile(spec, cur(spec.content), write)).toEqual([]);
  });
  it('absent: create, with the whole content as a diff', () => {
    const [c] = planFile(spec, { path: spec.path, exists: false }, write);
    expect(c!.summary).toBe('create /etc/x.conf (root:root 0644)');
    expect(c!.diff).toContain('+a = 1\n+b = 2');
    expect(c!.actions).toEqual([write]);
  });
  it('content drift: a unified diff and the line counts', () => {
    const [c, ...rest] = planFile(spec, cur('a = 1\nb = 3\n', { mode: '0600' }), write);
    expect(rest).toEqual([]); // the write fixes the mode too
    expect(c!.summary).toBe('content of /etc/x.conf differs (+1 -1 lines)');
    expect(c!.diff).toMatch(/--- \/etc\/x\.conf\tcurrent\n\+\+\+ \/etc\/x\.conf\tdeclared\n@@ .* @@\n a = 1\n-b = 3\n\+b = 2\n/);
  });
  it('owner and mode drift only', () => {
    expect(planFile(spec, cur(spec.content, { owner: 'admin', mode: '0666' }), write).map((c) => [c.summary, c.actions])).toEqual([
      ['owner of /etc/x.conf admin:root -> root:root', [{ kind: 'exec', script: 'chown root:root /etc/x.conf' }]],
      ['mode of /etc/x.conf 0666 -> 0644', [{ kind: 'exec', script: 'chmod 0644 /etc/x.conf' }]],
    ]);
  });
  it('never replaces something that is not a regular file', () => {
    expect(() => planFile(spec, { path: spec.path, exists: true, type: 'other', kind: 'directory' }, write)).toThrow(RefusedError);
  });
  it('a validated file is written by one host-side script, not the plain write', () => {
    const r = new ManagedFile({ ...spec, validate: 'sshd -t' });
    const [c] = r.plan(factSetFrom([[fileFact(spec.path), { value: { path: spec.path, exists: false } }]]), {
      host: { name: 'h' },
    } as never);
    expect(c!.actions[0]).toMatchObject({ kind: 'exec', display: 'write /etc/x.conf (0644 root:root) after `sshd -t`' });
  });
});

describe('validated write (the script, run locally)', () => {
  const me = userInfo().username;
  const group = async () => (await execa('id', ['-gn'])).stdout.trim();

  async function scenario(validate: string, existing?: string) {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-vw-'));
    const path = join(dir, 'app.conf');
    if (existing !== undefined) await writeFile(path, existing);
    const script = validatedWriteScript({
      path,
      content: 'new\n',
      owner: me,
      group: await group(),
      mode: '0640',
      validate: validate.replace('DIR', dir),
    });
    const r = await execa('sh', ['-c', script], { reject: false });
    const content = await readFile(path, 'utf8').catch(() => undefined);
    const mode = await stat(path)
      .then((s) => (s.mode & 0o777).toString(8))
      .catch(() => undefined);
    const left = (await readdir(dir)).filter((f) => f !== 'app.conf');
    await rm(dir, { recursive: true, force: true });
    return { exitCode: r.exitCode, stderr: r.stderr, content, mode, left };
  }

  it('in place: accepted content stays, with its mode; no temp or backup left', async () => {
    expect(await scenario('grep -q new DIR/app.conf', 'old\n')).toMatchObject({ exitCode: 0, content: 'new\n', mode: '640', left: [] });
  });
  it('in place: rejected content is reported and the previous file put back', async () => {
    const r = await scenario('echo "line 3: bad option" >&2; false', 'old\n');
    expect(r).toMatchObject({ exitCode: 1, content: 'old\n', left: [] });
    expect(r.stderr).toContain('line 3: bad option');
    expect(r.stderr).toMatch(/rejected the new .*app\.conf; the previous file was put back/);
  });
  it('in place: rejected content of a new file leaves no file', async () => {
    expect(await scenario('false')).toMatchObject({ exitCode: 1, content: undefined, left: [] });
  });
  it('with %s: the temp copy is checked before the file is touched', async () => {
    expect(await scenario('grep -q new %s && ! grep -q new DIR/app.conf', 'old\n')).toMatchObject({
      exitCode: 0,
      content: 'new\n',
      left: [],
    });
    const r = await scenario('grep -q nothing %s', 'old\n');
    expect(r).toMatchObject({ exitCode: 1, content: 'old\n', left: [] });
    expect(r.stderr).toContain('the file was left as it was');
  });
});

describe('systemd unit facts and the service planner', () => {
  const show = (load: string, active: string, file: string) =>
    parseSystemctlShow('fail2ban', `LoadState=${load}\nActiveState=${active}\nUnitFileState=${file}\n`);

  it('parses systemctl show', () => {
    expect(show('loaded', 'active', 'enabled')).toEqual({ unit: 'fail2ban', load: 'loaded', active: 'active', unitFile: 'enabled' });
    expect(() => parseSystemctlShow('x', 'Failed to connect to bus')).toThrow(/unexpected systemctl show output/);
  });
  it('plans enable and start, naming the current state', () => {
    const want = { unit: 'fail2ban', enabled: true, active: true };
    expect(planService(want, show('loaded', 'active', 'enabled'))).toEqual([]);
    expect(planService(want, show('loaded', 'active', 'static'))).toEqual([]);
    expect(planService(want, show('loaded', 'failed', 'disabled')).map((c) => [c.summary, c.actions])).toEqual([
      ['enable fail2ban (disabled)', [{ kind: 'exec', script: 'systemctl enable -- fail2ban' }]],
      ['start fail2ban (failed)', [{ kind: 'exec', script: 'systemctl start -- fail2ban' }]],
    ]);
    expect(planService(want, show('not-found', 'inactive', '')).map((c) => c.summary)).toEqual([
      'enable fail2ban (not installed)',
      'start fail2ban (not installed)',
    ]);
    expect(planService({ unit: 'x', enabled: false, active: false }, show('loaded', 'active', 'enabled')).map((c) => c.summary)).toEqual([
      'disable x (enabled)',
      'stop x (active)',
    ]);
  });
});
