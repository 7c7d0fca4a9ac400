import { readFile } from 'node:fs/promises';
import type { Action } from './types.js';
import type { Transport } from '../transports/types.js';
import { StepError } from './errors.js';

/** Runs one action on the host; a non-zero exit becomes a StepError naming the step. */
export async function runAction(transport: Transport, step: string, action: Action): Promise<void> {
  if (action.kind === 'call') {
    await action.run(transport);
    return;
  }
  if (action.kind === 'write') {
    await transport.writeFile(action.path, action.content, {
      mode: action.mode,
      owner: action.owner,
      group: action.group,
    });
    return;
  }
  const stdin =
    action.stdin !== undefined && typeof action.stdin === 'object' && 'file' in action.stdin
      ? await readFile(action.stdin.file)
      : action.stdin;
  const result = await transport.exec(action.script, stdin !== undefined ? { stdin } : {});
  if (result.exitCode !== 0) {
    throw new StepError(transport.host, step, action.display ?? action.script, result.exitCode, result.stderr || result.stdout);
  }
}
