/**
 * Cross-field rules a schema cannot express, run on the validated inventory document by the
 * loader. A section's owner declares its own (the platform's: src/platform/checks.ts); the
 * inventory schema lists them. Structural types: a check needs no import of the inventory.
 */
export type Path = (string | number)[];

/** Where something was written in the inventory files; line and col are 1-based. */
export interface Position {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the value ("stacks.app.services.web.ports[0]"). */
  path: string;
}

/** The loader's locator: the position of a value (or of its key) of the merged document. */
export interface Where {
  value(path: Path): Position;
  key(path: Path): Position;
}

/** One problem, reported at the value to edit; the message is printed as written. */
export type Finding = Position & { message: string };

export type DocumentCheck<Doc> = (doc: Doc, where: Where) => Finding[];
