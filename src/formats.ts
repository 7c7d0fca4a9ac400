import { UNSAFE_CHARACTERS } from './schema/characters.js';

/**
 * Values rendered into line-based config formats. The schema already refuses every control
 * character (safe text); these are the last guard where a value meets its format, plus that
 * format's own escaping. A refusal here is a bug of the schema, never a user's mistake.
 */

export class UnsafeValueError extends Error {
  constructor(format: string, what: string, value: string) {
    super(`${what}: ${JSON.stringify(value.slice(0, 80))} cannot be written into ${format} (control character or line break)`);
    this.name = 'UnsafeValueError';
  }
}

function oneLine(format: string, what: string, value: string): string {
  if (UNSAFE_CHARACTERS.test(value)) throw new UnsafeValueError(format, what, value);
  return value;
}

/**
 * A value of fail2ban's INI (Python's ConfigParser with universal newlines, `%(name)s`
 * interpolation and ";" inline comments): one line, "%" doubled, no inline comment start, no
 * leading blank (a continuation line starts with one).
 */
export function iniValue(what: string, value: string | number | boolean): string {
  const v = oneLine('an INI file', what, String(value));
  if (/\s[;#]/.test(v) || /^\s/.test(v)) throw new UnsafeValueError('an INI file (inline comment or leading blank)', what, v);
  return v.replace(/%/g, '%%');
}

/**
 * A value of a systemd unit setting: one line, no trailing backslash (a continuation), and no
 * "%" (specifier expansion differs between settings: hostkit writes none).
 */
export function unitValue(what: string, value: string): string {
  const v = oneLine('a systemd unit', what, value);
  if (v.endsWith('\\') || v.includes('%')) throw new UnsafeValueError('a systemd unit ("%" or a trailing "\\")', what, v);
  return v;
}
