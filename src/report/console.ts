import type { Reporter, RunEvent } from '../engine/events.js';
import type { HostReport, Mode, ResourceReport } from '../engine/types.js';
import { flushedWrite } from './json.js';

export interface ConsoleOptions {
  mode: Mode;
  diff: boolean;
  /** Print the RECAP table at the end (off when --json owns stdout). */
  recap?: boolean;
  /** A live status line (default: the stream is a TTY and CI is not set). */
  live?: boolean;
  /** ANSI colours (default: the stream is a TTY and NO_COLOR is not set). */
  color?: boolean;
  /** How often the live line is redrawn while a step runs (ms). */
  refreshMs?: number;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** What the environment asks for: live line and colour only on a terminal; CI and NO_COLOR turn them off. */
export function consoleDefaults(stream: Stream, env: NodeJS.ProcessEnv = process.env): { live: boolean; color: boolean } {
  const tty = Boolean(stream.isTTY);
  return { live: tty && !env.CI, color: tty && env.NO_COLOR === undefined };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
const CLEAR_LINE = '\r\x1b[2K';

interface Activity {
  host: string;
  role: string;
  what: string;
  since: number;
}

/**
 * Human output from the event stream: one line per resource, changes and diffs indented under
 * it, a RECAP per host. On a terminal a live line at the bottom says what runs now (host, role,
 * resource, step, elapsed time), redrawn every second, so a long step (apt, `compose up --wait`,
 * an image load, a restore) is never silent; it is erased before every permanent line.
 */
export class ConsoleReporter implements Reporter {
  private readonly live: boolean;
  private readonly color: boolean;
  private readonly activity = new Map<string, Activity>();
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private readonly out: Stream,
    private readonly opts: ConsoleOptions,
  ) {
    const d = consoleDefaults(out);
    this.live = opts.live ?? d.live;
    this.color = opts.color ?? d.color;
  }

  private paint(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }
  private green = (s: string) => this.paint('32', s);
  private yellow = (s: string) => this.paint('33', s);
  private red = (s: string) => this.paint('31', s);
  private dim = (s: string) => this.paint('2', s);
  private bold = (s: string) => this.paint('1', s);

  on(e: RunEvent): void {
    switch (e.type) {
      case 'notice':
        this.write(`${this.yellow('notice')} ${e.message}\n`);
        break;
      case 'role-started': {
        const mode = this.opts.mode === 'apply' ? '' : ` (${this.opts.mode})`;
        this.write(`${this.bold(`== ${e.role}`)} on ${this.bold(e.host)}${mode}\n`);
        this.track(e.host, e.role, 'connecting, gathering facts');
        break;
      }
      case 'host-connected':
        this.track(e.host, this.activity.get(e.host)?.role ?? '', 'gathering facts');
        break;
      case 'resource-planned':
        this.track(e.host, e.role, 'planning');
        break;
      case 'resource-started':
        this.track(e.host, e.role, `${e.id}: ${e.step}`);
        break;
      case 'resource-done':
        this.resource(e.report);
        this.track(e.host, e.role, 'applying');
        break;
      case 'handler': {
        const label = e.status === 'failed' ? this.red('failed  ') : e.status === 'ran' ? this.yellow('handler ') : this.yellow('would   ');
        this.write(`  ${label} handler ${e.id}\n`);
        if (e.error) this.write(`${this.red(indent(e.error, 6))}\n`);
        break;
      }
      case 'safeguard': {
        const sg = e.report;
        const label = sg.status === 'confirmed' ? this.green('confirm ') : this.red(sg.status === 'reverted' ? 'reverted' : 'failed  ');
        this.write(`  ${label} safeguard ${sg.id}: ${sg.detail}\n`);
        break;
      }
      case 'role-done': {
        const report = e.report;
        const sg = report.safeguard;
        // A failed resource or a safeguard that did not confirm is printed with its detail: no second copy.
        if (report.error && !report.resources.some((r) => r.status === 'failed') && (!sg || sg.status === 'confirmed')) {
          this.write(`${this.red(indent(report.error, 2))}\n`);
        }
        break;
      }
      case 'host-done':
        this.activity.delete(e.host);
        this.redraw();
        break;
      case 'interrupt':
        this.write(`${this.red(`interrupted (${e.signal})`)}: ${interruptText(e.running, e.graceSeconds)}\n`);
        break;
      case 'run-done':
        this.stop();
        if (this.opts.recap !== false) this.recap(e.reports);
        if (e.exitCode === 130)
          this.write(`${this.red('INTERRUPTED')}: the rest was not started; a re-run continues where this one stopped (exit 130)\n`);
        break;
      case 'run-failed':
        this.stop();
        break;
      default:
        break;
    }
  }

  /** Ends the live line and waits until every line has reached the OS (the cli exits next). */
  close(): Promise<void> {
    this.stop();
    return flushedWrite(this.out, '');
  }

  /** The live line: what runs now on which host, and for how long. */
  statusLine(now = Date.now()): string {
    const all = [...this.activity.values()];
    const a = all.sort((x, y) => y.since - x.since)[0];
    if (!a) return '';
    const more = all.length > 1 ? ` (+${all.length - 1} host${all.length > 2 ? 's' : ''})` : '';
    // Elapsed time first: a narrow terminal cuts the end of the line, never the clock.
    const line = `… ${Math.floor((now - a.since) / 1000)}s ${a.host} ${a.role}: ${a.what}${more}`;
    const width = (this.out.columns ?? 120) - 1;
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  }

  private track(host: string, role: string, what: string): void {
    if (!this.live) return;
    this.activity.set(host, { host, role, what, since: Date.now() });
    if (!this.timer) {
      this.timer = setInterval(() => this.redraw(), this.opts.refreshMs ?? 1000);
      this.timer.unref();
    }
    this.redraw();
  }

  private redraw(): void {
    if (!this.live) return;
    const line = this.statusLine();
    if (!line && !this.shown) return;
    this.out.write(`${CLEAR_LINE}${this.dim(line)}`);
    this.shown = line !== '';
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.activity.clear();
    if (this.shown) this.out.write(CLEAR_LINE);
    this.shown = false;
  }

  /** A permanent line: the live line is erased first and drawn again below it. */
  private write(text: string): void {
    if (this.shown) {
      this.out.write(CLEAR_LINE);
      this.shown = false;
    }
    this.out.write(text);
    if (this.live && this.activity.size) this.redraw();
  }

  private resource(r: ResourceReport): void {
    const LABEL: Record<ResourceReport['status'], string> = {
      ok: this.green('ok      '),
      changed: this.yellow('changed '),
      'would-change': this.yellow('drift   '),
      failed: this.red('failed  '),
      skipped: this.dim('skipped '),
    };
    const label = r.status === 'would-change' && this.opts.mode === 'dry-run' ? this.yellow('would   ') : LABEL[r.status];
    let text = `  ${label} ${r.id}${r.durationMs >= 50 ? this.dim(`  ${seconds(r.durationMs)}`) : ''}\n`;
    const showDiff = this.opts.diff || this.opts.mode !== 'apply';
    for (const c of r.changes) {
      const after = c.after?.length ? this.dim(` (would change after ${c.after.join(', ')})`) : '';
      text += `      ${r.status === 'changed' ? '~' : '>'} ${c.summary}${after}\n`;
      if (showDiff && c.diff) text += this.indentDiff(c.diff);
    }
    for (const n of r.notes ?? []) text += `      ${n.startsWith('warning:') ? this.yellow(n) : this.dim(n)}\n`;
    if (r.error) text += `${this.red(indent(r.error, 6))}\n`;
    this.write(text);
  }

  private recap(reports: HostReport[]): void {
    let text = `${this.bold('RECAP')}\n`;
    const byHost = new Map<string, HostReport[]>();
    for (const r of reports) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    for (const [host, rs] of byHost) {
      const all = rs.flatMap((r) => r.resources);
      const count = (s: ResourceReport['status']) => all.filter((r) => r.status === s).length;
      const failed = count('failed') + rs.filter((r) => r.error && !r.resources.some((x) => x.status === 'failed')).length;
      const changedWord = this.opts.mode === 'apply' ? `changed=${count('changed')}` : `drift=${count('would-change')}`;
      const time = rs.reduce((t, r) => t + r.durationMs, 0);
      const last = rs[rs.length - 1]!;
      const stopped = rs.some((r) => r.interrupted) ? ' interrupted' : '';
      const line = `${host.padEnd(24)} ok=${count('ok')} ${changedWord} failed=${failed} skipped=${count('skipped')}${stopped}`;
      const color = failed ? this.red : count('changed') + count('would-change') ? this.yellow : this.green;
      text += `  ${color(line)}  ${this.dim(`${seconds(time)}, ${last.stats.connections} connection(s), ${last.stats.execs} command(s)`)}\n`;
      if (rs.length > 1) {
        for (const r of rs) text += this.dim(`      ${r.role.padEnd(12)} ${seconds(r.durationMs)}\n`);
      }
    }
    this.write(text);
  }

  private indentDiff(diff: string): string {
    return `${diff
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => {
        const line = `        ${l}`;
        if (l.startsWith('+') && !l.startsWith('+++')) return this.green(line);
        if (l.startsWith('-') && !l.startsWith('---')) return this.red(line);
        return this.dim(line);
      })
      .join('\n')}\n`;
  }
}

/** What the first interrupt says: what is let finish, what happens next, how to abort at once. */
export function interruptText(running: { host: string; role: string; id: string; step: string }[], graceSeconds: number): string {
  const what = running.length
    ? `finishing ${running.map((r) => `${r.host} ${r.role}: ${r.id} (${r.step})`).join('; ')} (at most ${graceSeconds} s)`
    : 'no step is running';
  return `${what}; nothing new starts; the handlers of what changed run; press Ctrl-C again to abort at once`;
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
