/**
 * The one place that turns argv into a POSIX shell string. Every command that reaches a host
 * is built from argv through `sh` below, so no caller ever concatenates untrusted text.
 */
const SAFE = /^[A-Za-z0-9_/.,:=@%+-]+$/;

export function quote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** sh`...`-free helper: sh(['ufw', 'allow', rule]) -> "ufw allow '22/tcp'" */
export function sh(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}
