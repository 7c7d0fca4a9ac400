import { readFile } from 'node:fs/promises';
import { isMap, isScalar, parseDocument } from 'yaml';
import { UNSAFE_CHARACTERS } from '../schema/characters.js';
import { allServices, fileVarSecrets, secretsOf, secretVariable, type PlatformModel, type StackModel } from './model.js';

/** Secret name -> value, read from the secrets file (never from the repository). */
export type Secrets = ReadonlyMap<string, string>;

/** A problem with the secrets: every missing or unusable secret is listed, nothing was touched. */
export class SecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsError';
  }
}

/** Every secret the platform uses, with where: name -> ["stack/service VAR", ...]. */
export function secretUses(platform: PlatformModel): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  for (const svc of allServices(platform)) {
    for (const e of svc.environment) {
      if (!('secret' in e)) continue;
      uses.set(e.secret, [...(uses.get(e.secret) ?? []), `${svc.stack}/${svc.key} ${e.name}`]);
    }
    for (const f of svc.files)
      for (const name of new Set(fileVarSecrets(f.vars)))
        uses.set(name, [...(uses.get(name) ?? []), `${svc.stack}/${svc.key} file ${f.path}`]);
    for (const r of svc.database?.roles ?? [])
      uses.set(r.secret, [...(uses.get(r.secret) ?? []), `${svc.stack}/${svc.key} role ${r.name}`]);
  }
  return uses;
}

/**
 * One line of safe text (a password, a token), or a PEM/OpenSSH key block whose only control
 * characters are its LF line breaks: nothing that could end a line of .env, INI or a password file.
 */
function isSafeSecret(value: string): boolean {
  if (/^-----BEGIN [A-Z0-9 ]+-----\n/.test(value)) return !UNSAFE_CHARACTERS.test(value.replace(/\n/g, ''));
  return !UNSAFE_CHARACTERS.test(value);
}

/** Shorter secrets are refused: a short value would also be guessable from its redaction. */
export const MIN_SECRET_LENGTH = 8;

/**
 * Parses the secrets file: a YAML map of name: string. Numbers and booleans are refused (YAML
 * would turn 0123 into 123, 1e3 into 1000, big integers into rounded ones: the value on the server
 * would differ from the operator's copy), and so are values shorter than MIN_SECRET_LENGTH.
 * Errors name keys, never values. An empty value reads as absent (reported where it is used).
 */
export function parseSecretsFile(text: string, file: string): Map<string, string> {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new SecretsError(`${file}: YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (doc.contents === null) return new Map();
  if (!isMap(doc.contents)) throw new SecretsError(`${file}: expected a map of secret name: value`);
  const out = new Map<string, string>();
  const notString: string[] = [];
  const short: string[] = [];
  const unsafe: string[] = [];
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    const value = isScalar(pair.value) ? pair.value.value : pair.value;
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string') notString.push(key);
    else if (value.length < MIN_SECRET_LENGTH) short.push(key);
    else if (!isSafeSecret(value)) unsafe.push(key);
    else out.set(key, value);
  }
  const problems = [
    ...(notString.length ? [`secrets must be YAML strings (quote numbers and booleans): ${notString.join(', ')}`] : []),
    ...(short.length ? [`secrets must have at least ${MIN_SECRET_LENGTH} characters: ${short.join(', ')}`] : []),
    ...(unsafe.length
      ? [`secrets must be one line without control characters (a "-----BEGIN" key block may have line breaks): ${unsafe.join(', ')}`]
      : []),
  ];
  if (problems.length) throw new SecretsError(`${file}: ${problems.join('; ')} (values are never printed)`);
  return out;
}

/**
 * Loads the secrets the platform uses and checks all of them at once: a missing file, missing or
 * empty values, and values a .env file cannot carry are one error listing every name (values are
 * never printed). Returns only the secrets in use.
 */
export async function loadSecrets(platform: PlatformModel, file: string | undefined): Promise<Secrets> {
  const uses = secretUses(platform);
  if (uses.size === 0) return new Map();
  const list = (names: string[]) => names.map((n) => `  ${n} (${uses.get(n)!.join(', ')})`).join('\n');
  const needed = [...uses.keys()].sort();
  if (!file) {
    throw new SecretsError(
      `the inventory uses ${needed.length} secrets but names no secrets file (secrets.file or --secrets FILE):\n${list(needed)}`,
    );
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SecretsError(
      `cannot read the secrets file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it must define:\n${list(needed)}`,
    );
  }
  const values = parseSecretsFile(text, file);
  const missing = needed.filter((n) => !values.get(n));
  if (missing.length)
    throw new SecretsError(`${file}: ${missing.length} missing secret${missing.length === 1 ? '' : 's'}:\n${list(missing)}`);
  // Single-quoted in .env: literal, except that it cannot hold a quote or a line break.
  const unusable = needed.filter((n) => /['\n]/.test(values.get(n)!));
  if (unusable.length) throw new SecretsError(`${file}: values may not contain a single quote or a line break:\n${list(unusable)}`);
  return new Map(needed.map((n) => [n, values.get(n)!]));
}

/** Secret names a stack's containers use, sorted. */
export function stackSecrets(stack: StackModel): string[] {
  return [...new Set(stack.services.flatMap(secretsOf))].sort();
}

/** The stack's .env (mode 600 on the server): one VAR='value' line per secret it uses. */
export function renderEnvFile(stack: StackModel, secrets: Secrets): string {
  const names = stackSecrets(stack);
  const header = `# Generated by hostkit for stack ${stack.name}: secrets referenced by compose.yaml. Mode 600; never commit.\n`;
  return header + names.map((n) => `${secretVariable(n)}='${secrets.get(n) ?? ''}'\n`).join('');
}

/** VAR=value pairs of a .env file (comments and blank lines skipped, quotes removed). */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) continue;
    const value = line.slice(eq + 1);
    out.set(line.slice(0, eq).trim(), /^'.*'$|^".*"$/.test(value) ? value.slice(1, -1) : value);
  }
  return out;
}

/**
 * A diff of two .env files that names variables and never shows a value: the drift a secret
 * change produces in --check.
 */
export function redactedEnvDiff(path: string, current: string | undefined, desired: string): string {
  const before = current === undefined ? new Map<string, string>() : parseEnvFile(current);
  const after = parseEnvFile(desired);
  const lines = [`--- ${path}${current === undefined ? ' (absent)' : ''}`, `+++ ${path} (desired)`];
  for (const k of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(k);
    const a = after.get(k);
    if (b === a) continue;
    if (b !== undefined) lines.push(`-${k}=*** ${a === undefined ? '(removed)' : '(old value)'}`);
    if (a !== undefined) lines.push(`+${k}=*** ${b === undefined ? '(added)' : '(new value)'}`);
  }
  return lines.join('\n') + '\n';
}
