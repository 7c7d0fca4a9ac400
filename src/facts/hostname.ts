import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';

export interface HostnameState {
  /** The running (kernel) hostname. */
  kernel: string;
  /** First line of /etc/hostname; undefined when the file is missing. */
  file?: string;
  /** /etc/hosts as it is ("" when missing). */
  hosts: string;
}

/** The running hostname, /etc/hostname and /etc/hosts (base64: it is rewritten from this copy). */
export const hostnameFact: Fact<HostnameState> = defineFact(
  'host.hostname',
  [],
  'printf "kernel=%s\\n" "$(hostname)"; ' +
    'if [ -f /etc/hostname ]; then printf "file=%s\\n" "$(head -n1 /etc/hostname)"; else echo "file!"; fi; ' +
    'printf "hosts="; base64 -w0 /etc/hosts 2>/dev/null; echo',
  ({ stdout }) => parseHostnameProbe(stdout),
);

export function parseHostnameProbe(stdout: string): HostnameState {
  const lines = stdout.split('\n');
  const value = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  const kernel = value('kernel=');
  const hosts = value('hosts=');
  if (kernel === undefined || hosts === undefined) throw new Error(`unexpected hostname probe output: ${stdout.slice(0, 200)}`);
  const file = value('file=');
  return {
    kernel: kernel.trim(),
    ...(file !== undefined ? { file: file.trim() } : {}),
    hosts: Buffer.from(hosts.trim(), 'base64').toString('utf8'),
  };
}

/** True when a non-comment line of /etc/hosts maps `name` to some address. */
export function hostsResolves(hosts: string, name: string): boolean {
  return hosts.split('\n').some((line) => {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    return fields.length > 1 && fields.slice(1).includes(name);
  });
}
