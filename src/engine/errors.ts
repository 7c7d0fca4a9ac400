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

/**
 * A value of the inventory that turned out wrong after loading (in a role's build or plan):
 * `path` is its place in the merged document ("firewall", "rules", 2, "from"), which the engine
 * turns into file:line:col.
 */
export class InventoryValueError extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message);
    this.name = 'InventoryValueError';
  }
}

/**
 * An exception of a role's build, facts or plan as the host's error: host, role and step first
 * (unless the message names the host already), and the inventory position when the error has one.
 */
export function failureWhere(
  err: unknown,
  where: { host: string; role: string; step: string },
  inventory?: { locate?: (path: (string | number)[]) => { file: string; line: number; col: number } },
): string {
  const message = errorMessage(err);
  const located = err instanceof InventoryValueError && inventory?.locate ? inventory.locate(err.path) : undefined;
  const position = located && located.line > 0 ? ` (at ${located.file}:${located.line}:${located.col})` : '';
  if (message.startsWith(`${where.host}: `)) return `${message}${position}`;
  return `${where.host}: ${where.role}: ${where.step}: ${message}${position}`;
}
