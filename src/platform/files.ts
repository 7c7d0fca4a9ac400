import { createHmac } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { parseDocument } from 'yaml';
import { cachedBcrypt } from '../cache/bcrypt.js';
import { cachedText } from '../cache/store.js';
import { YAML_ID } from '../cache/yaml-id.js';
import { renderTemplate } from '../templates.js';
import { allServices, type PlatformModel, type ServiceFileModel, type ServiceModel } from './model.js';
import type { FileVar } from './schema.js';
import type { Secrets } from './secrets.js';

/**
 * The services' managed configuration files (Authelia's configuration.yml, rest-server's
 * .htpasswd, ...): templates/ rendered with the file's vars, secrets resolved. Rendered once per
 * run on the control machine (prepare), so a missing template, field or secret stops the run
 * before any host is contacted.
 */

/** A rendered file: what the stacks role writes, and which container it restarts. */
export interface RenderedFile extends ServiceFileModel {
  stack: string;
  service: string;
  containerName: string;
  content: string;
}

/**
 * bcrypt with a salt derived from the value and where it is used: the same secret renders the
 * same file on every run (a second apply changes nothing), and no two files share a salt.
 */
export function bcryptOf(value: string, context: string): string {
  const salt = createHmac('sha256', value).update(`hostkit bcrypt salt: ${context}`).digest().subarray(0, 16);
  return cachedBcrypt(value, `$2b$10$${bcrypt.encodeBase64(salt, 16)}`);
}

/** The vars with every { secret } replaced by its value (or its bcrypt hash); hashes are collected for redaction. */
export function resolveVars(v: FileVar, secrets: Secrets, context: string, hashes: string[] = []): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveVars(x, secrets, context, hashes));
  if (v && typeof v === 'object') {
    if ('secret' in v && typeof v.secret === 'string') {
      const value = secrets.get(v.secret);
      if (value === undefined) throw new Error(`secret ${v.secret} is not loaded`);
      if (v.hash !== 'bcrypt') return value;
      const hash = bcryptOf(value, `${context} ${v.secret}`);
      hashes.push(hash);
      return hash;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveVars(x as FileVar, secrets, context, hashes)]));
  }
  return v;
}

export function renderServiceFile(svc: ServiceModel, file: ServiceFileModel, secrets: Secrets, hashes: string[] = []): string {
  const vars = resolveVars(file.vars, secrets, file.path, hashes);
  const content = renderTemplate(file.template, { service: { stack: svc.stack, key: svc.key, containerName: svc.containerName }, vars });
  if (/\.ya?ml$/.test(file.path)) {
    // Remembered once this exact text parsed clean (an invalid one throws and is never stored).
    cachedText('yaml-valid', `${YAML_ID}\0${content}`, () => {
      const doc = parseDocument(content, { uniqueKeys: true });
      if (doc.errors.length)
        throw new Error(`${file.template} rendered invalid YAML for ${file.path}: ${doc.errors[0]!.message.split('\n')[0]}`);
      return 'ok';
    });
  }
  return content;
}

/** Every service's files rendered, in declaration order; problems (all of them) are returned, not thrown. */
export function renderFiles(platform: PlatformModel, secrets: Secrets): { files: RenderedFile[]; hashes: string[]; problems: string[] } {
  const files: RenderedFile[] = [];
  const hashes: string[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const svc of allServices(platform)) {
    for (const f of svc.files) {
      const where = `${svc.stack}/${svc.key}`;
      const other = seen.get(f.path);
      if (other) problems.push(`file ${f.path}: declared by ${other} and ${where}`);
      seen.set(f.path, where);
      try {
        const content = renderServiceFile(svc, f, secrets, hashes);
        files.push({ ...f, stack: svc.stack, service: svc.key, containerName: svc.containerName, content });
      } catch (err) {
        problems.push(`file ${f.path} of ${where}: ${(err as Error).message}`);
      }
    }
  }
  return { files, hashes, problems };
}
