import type { HostReport, Mode, ResourceReport } from '../engine/types.js';

const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const green = paint('32');
const yellow = paint('33');
const red = paint('31');
const dim = paint('2');
const bold = paint('1');

const LABEL: Record<ResourceReport['status'], string> = {
  ok: green('ok      '),
  changed: yellow('changed '),
  'would-change': yellow('drift   '),
  failed: red('failed  '),
  skipped: dim('skipped '),
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** Human output, one line per resource, changes and diffs indented under it. */
export class ConsoleReporter {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly opts: { mode: Mode; diff: boolean },
  ) {}

  notice(message: string): void {
    this.out.write(`${yellow('notice')} ${message}\n`);
  }

  roleStart(host: string, role: string): void {
    const mode = this.opts.mode === 'apply' ? '' : ` (${this.opts.mode})`;
    this.out.write(`${bold(`== ${role}`)} on ${bold(host)}${mode}\n`);
  }

  resource(r: ResourceReport): void {
    const label = r.status === 'would-change' && this.opts.mode === 'dry-run' ? yellow('would   ') : LABEL[r.status];
    this.out.write(`  ${label} ${r.id}${r.durationMs >= 50 ? dim(`  ${seconds(r.durationMs)}`) : ''}\n`);
    const showDiff = this.opts.diff || this.opts.mode !== 'apply';
    for (const c of r.changes) {
      const after = c.after?.length ? dim(` (would change after ${c.after.join(', ')})`) : '';
      this.out.write(`      ${r.status === 'changed' ? '~' : '>'} ${c.summary}${after}\n`);
      if (showDiff && c.diff) this.out.write(indentDiff(c.diff));
    }
    for (const n of r.notes ?? []) this.out.write(`      ${n.startsWith('warning:') ? yellow(n) : dim(n)}\n`);
    if (r.error) this.out.write(red(indent(r.error, 6)) + '\n');
  }

  hostDone(report: HostReport): void {
    for (const h of report.handlers) {
      const label = h.status === 'failed' ? red('failed  ') : h.status === 'ran' ? yellow('handler ') : yellow('would   ');
      this.out.write(`  ${label} handler ${h.id}\n`);
      if (h.error) this.out.write(red(indent(h.error, 6)) + '\n');
    }
    const sg = report.safeguard;
    if (sg) {
      const label = sg.status === 'confirmed' ? green('confirm ') : red(sg.status === 'reverted' ? 'reverted' : 'failed  ');
      this.out.write(`  ${label} safeguard ${sg.id}: ${sg.detail}\n`);
    }
    // A safeguard that did not confirm is printed above with its detail: no second copy.
    if (report.error && !report.resources.some((r) => r.status === 'failed') && (!sg || sg.status === 'confirmed')) {
      this.out.write(red(indent(report.error, 2)) + '\n');
    }
  }

  recap(reports: HostReport[]): void {
    this.out.write(bold('RECAP') + '\n');
    const byHost = new Map<string, HostReport[]>();
    for (const r of reports) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    for (const [host, rs] of byHost) {
      const all = rs.flatMap((r) => r.resources);
      const count = (s: ResourceReport['status']) => all.filter((r) => r.status === s).length;
      const failed = count('failed') + rs.filter((r) => r.error && !r.resources.some((x) => x.status === 'failed')).length;
      const changedWord = this.opts.mode === 'apply' ? `changed=${count('changed')}` : `drift=${count('would-change')}`;
      const time = rs.reduce((t, r) => t + r.durationMs, 0);
      const last = rs[rs.length - 1]!;
      const line = `${host.padEnd(24)} ok=${count('ok')} ${changedWord} failed=${failed} skipped=${count('skipped')}`;
      const color = failed ? red : count('changed') + count('would-change') ? yellow : green;
      this.out.write(
        `  ${color(line)}  ${dim(`${seconds(time)}, ${last.stats.connections} connection(s), ${last.stats.execs} command(s)`)}\n`,
      );
      if (rs.length > 1) {
        for (const r of rs) this.out.write(dim(`      ${r.role.padEnd(12)} ${seconds(r.durationMs)}\n`));
      }
    }
  }
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

function indentDiff(diff: string): string {
  return (
    diff
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => {
        const line = `        ${l}`;
        if (l.startsWith('+') && !l.startsWith('+++')) return green(line);
        if (l.startsWith('-') && !l.startsWith('---')) return red(line);
        return dim(line);
      })
      .join('\n') + '\n'
  );
}
