import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote } from '../transports/quote.js';

export interface SshdEffective {
  /** `sshd -T` worked (the on-disk configuration parses). */
  ok: boolean;
  /** Its error output when it did not. */
  error?: string;
  /** Lowercase keyword -> values, one per line sshd printed (AllowUsers, Port repeat). */
  settings: Map<string, string[]>;
  /** "file:line:text" for each line setting a watched keyword, in sshd's reading order. */
  setBy: string[];
}

/**
 * The configuration sshd would run with (`sshd -T`: every file, first value wins, defaults
 * filled in) and where the watched keywords are set, to name the file that overrides a drop-in.
 */
export function sshdEffectiveFact(watched: readonly string[]): Fact<SshdEffective> {
  const keys = [...new Set(watched.map((k) => k.toLowerCase()))].sort();
  const pattern = `^[[:space:]]*(${keys.join('|')})[[:space:]]`;
  return defineFact(
    'sshd.effective',
    [keys],
    [
      'PATH="$PATH:/usr/sbin:/sbin"',
      'out=$(sshd -T 2>&1); rc=$?',
      'echo "@@rc $rc"; printf "%s\\n" "$out"',
      'echo "@@set"',
      // Debian includes sshd_config.d/*.conf first; glob order is sshd's order.
      `grep -H -n -i -E ${quote(pattern)} /etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config 2>/dev/null || true`,
    ].join('\n'),
    ({ stdout }) => parseSshdEffective(stdout),
  );
}

export function parseSshdEffective(stdout: string): SshdEffective {
  const rcAt = stdout.indexOf('@@rc ');
  const setAt = stdout.indexOf('\n@@set\n');
  if (rcAt < 0 || setAt < 0) throw new Error(`unexpected sshd probe output: ${stdout.slice(0, 200)}`);
  const body = stdout.slice(rcAt, setAt);
  const [first = '', ...lines] = body.split('\n');
  const rc = Number(first.slice('@@rc '.length));
  const setBy = stdout
    .slice(setAt + '\n@@set\n'.length)
    .split('\n')
    .filter(Boolean);
  if (rc !== 0) return { ok: false, error: lines.join('\n').trim(), settings: new Map(), setBy };
  const settings = new Map<string, string[]>();
  for (const line of lines) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    settings.set(key, [...(settings.get(key) ?? []), m[2]!]);
  }
  return { ok: true, settings, setBy };
}
