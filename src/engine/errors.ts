/** A host-side step that failed: names the host, the step, the command, exit code and stderr tail. */
export class StepError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-8).join('\n');
    super(
      `${host}: ${step}: command failed with exit code ${exitCode}\n` +
        `  command: ${command.split('\n')[0]}${command.includes('\n') ? ' …' : ''}` +
        (tail ? `\n  stderr: ${tail.replace(/\n/g, '\n          ')}` : ''),
    );
    this.name = 'StepError';
  }
}

/** A plan the engine refuses to apply (lockout guard, invalid state); nothing was changed. */
export class RefusedError extends Error {
  constructor(host: string, step: string, reason: string) {
    super(`${host}: ${step}: refused: ${reason}`);
    this.name = 'RefusedError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
