import { describe, expect, it } from 'vitest';
import { changedCount as changed, drifts, parseReport as report, runRole, useTarget } from './harness.js';

const log = (...args: unknown[]) => console.log('[user-role.test]', ...args);

// roles/example-motd.mjs: a user role on the public API (src/index.ts), with its own section.
const SECTION = `roles:
  example-motd:
    message: "Sandbox web server: changes go through hostkit"
    contact: ops@example.org
    packages: [figlet]
`;
const UNAME = '/etc/update-motd.d/10-uname';

describe('a user role (roles/example-motd.mjs) on a fresh sandbox server', () => {
  const sb = useTarget({ platformYaml: SECTION });
  const t = (cmd: string) => sb.target.exec(cmd).then((r) => r.stdout.trim());

  it('applies, a second apply changes nothing, --check exits 0; a hand change is drift (exit 2) and repaired', async () => {
    // Debian's base-files ships the uname script executable: the guarded command has work to do.
    expect(await t(`test -x ${UNAME} && echo executable`)).toBe('executable');

    const first = await runRole('example-motd', ['--json'], { inventory: sb.inventory });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const firstReport = report(first.stdout);
    expect(firstReport.hosts.map((h) => h.role)).toEqual(['example-motd']);
    expect(
      firstReport.hosts[0]!.resources.filter((r) => r.status === 'changed')
        .map((r) => r.id)
        .sort(),
    ).toEqual([`command chmod -x ${UNAME}`, 'package figlet', 'template /etc/motd']);

    expect(await t('cat /etc/motd')).toBe(
      [
        `${sb.target.name}: Sandbox web server: changes go through hostkit`,
        'Contact: ops@example.org',
        'This file is managed by hostkit (roles/example-motd.mjs): edits by hand are reverted.',
      ].join('\n'),
    );
    expect(await t("stat -c '%a %U:%G' /etc/motd")).toBe('644 root:root');
    expect(await t("dpkg-query -W -f='${db:Status-Abbrev}' figlet")).toBe('ii');
    expect(await t(`test -x ${UNAME} || echo not-executable`)).toBe('not-executable');

    const second = await runRole('example-motd', ['--json'], { inventory: sb.inventory });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);
    const check = await runRole('example-motd', ['--check'], { inventory: sb.inventory });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    log(
      `timings: apply ${first.durationMs.toFixed(0)} ms, second apply ${second.durationMs.toFixed(0)} ms, check ${check.durationMs.toFixed(0)} ms`,
    );

    // Hand changes: the file edited, the script made executable again.
    await sb.target.exec(`echo 'edited by hand' >> /etc/motd && chmod +x ${UNAME}`);
    const drifted = await runRole('example-motd', ['--check', '--json'], { inventory: sb.inventory });
    expect(drifted.exitCode, drifted.stderr).toBe(2);
    const found = drifts(report(drifted.stdout));
    expect(found).toHaveLength(2);
    expect(found.join('\n')).toMatch(/\/etc\/motd/);
    expect(found.join('\n')).toContain(`chmod -x ${UNAME}`);

    const repair = await runRole('example-motd', ['--json'], { inventory: sb.inventory });
    expect(repair.exitCode, repair.stderr).toBe(0);
    expect(changed(report(repair.stdout))).toBe(2);
    expect(await t('cat /etc/motd')).not.toContain('edited by hand');
    const clean = await runRole('example-motd', ['--check'], { inventory: sb.inventory });
    expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
  });

  it('a typo in its section is an inventory error with file:line:col, before any host is contacted', async () => {
    await sb.writeInventory({ platformYaml: `${SECTION}    motd_typo: 1\n` });
    const r = await runRole('example-motd', ['--check'], { inventory: sb.inventory });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/inventory\.yaml:\d+:\d+: roles\.example-motd\.motd_typo: unknown key "motd_typo"/);
    expect(r.stdout).not.toMatch(/example-motd on /);
    await sb.writeInventory();
  });
});
