import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote } from '../transports/quote.js';

export interface UnitState {
  unit: string;
  /** loaded, not-found, masked, ... */
  load: string;
  /** active, inactive, failed, activating, ... */
  active: string;
  /** enabled, disabled, static, masked, "" (unknown unit), ... */
  unitFile: string;
}

/** A systemd unit's load, active and unit-file states from `systemctl show` (key=value, no prose). */
export function unitFact(unit: string): Fact<UnitState> {
  return defineFact(
    'systemd.unit',
    [unit],
    `systemctl show -p LoadState,ActiveState,UnitFileState -- ${quote(unit)} 2>&1 || true`,
    ({ stdout }) => parseSystemctlShow(unit, stdout),
  );
}

export function parseSystemctlShow(unit: string, stdout: string): UnitState {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const load = values.get('LoadState');
  const active = values.get('ActiveState');
  if (load === undefined || active === undefined) throw new Error(`unexpected systemctl show output: ${stdout.trim().slice(0, 200)}`);
  return { unit, load, active, unitFile: values.get('UnitFileState') ?? '' };
}
