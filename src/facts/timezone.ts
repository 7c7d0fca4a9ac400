import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote } from '../transports/quote.js';

export interface TimezoneState {
  /** Zone named by the /etc/localtime symlink ("Etc/UTC"); undefined when it is not a zoneinfo link. */
  zone?: string;
  /** /etc/localtime and the wanted zone file resolve to the same file (UTC == Etc/UTC). */
  sameAsWanted: boolean;
  /** The wanted zone exists in /usr/share/zoneinfo. */
  wantedExists: boolean;
  /** Legacy /etc/timezone content, when the file exists. */
  legacy?: string;
}

const ZONEINFO = '/usr/share/zoneinfo/';

/** The zone of /etc/localtime compared with `wanted` (the fact is keyed by it). */
export function timezoneFact(wanted: string): Fact<TimezoneState> {
  const w = quote(ZONEINFO + wanted);
  return defineFact(
    'host.timezone',
    [wanted],
    'printf "link=%s\\n" "$(readlink /etc/localtime 2>/dev/null)"; ' +
      `if [ -f ${w} ]; then echo wanted=yes; ` +
      `[ "$(realpath /etc/localtime 2>/dev/null)" = "$(realpath ${w})" ] && echo same=yes || echo same=no; else echo wanted=no; echo same=no; fi; ` +
      'if [ -f /etc/timezone ]; then printf "legacy=%s\\n" "$(head -n1 /etc/timezone)"; fi',
    ({ stdout }) => parseTimezoneProbe(stdout),
  );
}

export function parseTimezoneProbe(stdout: string): TimezoneState {
  const lines = stdout.split('\n');
  const value = (k: string) =>
    lines
      .find((l) => l.startsWith(`${k}=`))
      ?.slice(k.length + 1)
      .trim();
  const link = value('link');
  if (link === undefined || value('wanted') === undefined) throw new Error(`unexpected timezone probe output: ${stdout.slice(0, 200)}`);
  const at = link.indexOf('zoneinfo/');
  const legacy = value('legacy');
  return {
    ...(at >= 0 ? { zone: link.slice(at + 'zoneinfo/'.length) } : {}),
    sameAsWanted: value('same') === 'yes',
    wantedExists: value('wanted') === 'yes',
    ...(legacy !== undefined ? { legacy } : {}),
  };
}
