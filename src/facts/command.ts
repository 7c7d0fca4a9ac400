import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';

/**
 * Whether a read-only guard command succeeds (exit 0): the `unless` of a Command resource.
 * Its output is discarded; only the exit code is the answer.
 */
export function succeedsFact(command: string): Fact<boolean> {
  return defineFact('command.succeeds', [command], `{ ${command}\n} >/dev/null`, ({ exitCode }) => exitCode === 0);
}
