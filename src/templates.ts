import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type FullHandlebars from 'handlebars';
// The runtime only (no compiler, no source-map): templates come precompiled from the cache. With
// its file name: the package has no exports map, so Node's ESM loader (dist/, the public API)
// finds no extension-less subpath. Its own typings declare nothing: the full package's API types it.
import HandlebarsRuntime from 'handlebars/runtime.js';
import { cachedText } from './cache/store.js';

const Handlebars = HandlebarsRuntime as unknown as typeof FullHandlebars;

/**
 * Handlebars' compiler, loaded on a cache miss only (a new or edited template): it and the
 * source-map library it carries cost every run that renders ~15 ms of start-up. Loaded through
 * Node's require so the bundle (esbuild) leaves it out, as a package of node_modules.
 */
let compiler: typeof FullHandlebars | undefined;
const precompile = (source: string): string => {
  compiler ??= createRequire(import.meta.url)('handlebars') as typeof FullHandlebars;
  return String(compiler.precompile(source, OPTIONS));
};

let templatesUrl: URL | undefined;
/**
 * templates/ at the package root, found by walking up: this module runs from src/ under vitest,
 * from dist/ (tsc) and from a chunk of dist/bin/ (the bundled entry points).
 */
function templatesDir(): URL {
  if (templatesUrl) return templatesUrl;
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir)) && existsSync(new URL('templates/', dir)))
      return (templatesUrl = new URL('templates/', dir));
    if (dir.pathname === '/') throw new Error(`no templates/ above ${import.meta.url}`);
  }
}

let instance: typeof Handlebars | undefined;
/** The one Handlebars instance, made at the first render: a script that renders nothing pays nothing. */
function handlebars(): typeof Handlebars {
  if (instance) return instance;
  // Config files, not HTML: no escaping. Strict: a missing field is an error, never an empty string.
  const hb = Handlebars.create();
  hb.registerHelper('join', (list: unknown, sep: unknown) => {
    if (!Array.isArray(list)) throw new Error(`join: expected a list, got ${typeof list}`);
    return list.join(typeof sep === 'string' ? sep : ' ');
  });
  hb.registerHelper('yesno', (v: unknown) => (v ? 'yes' : 'no'));
  // JSON is YAML: the compose template puts every scalar and list through it, so quoting is never
  // the template's problem.
  // Strict mode does not reach helper arguments: a missing field is refused here instead.
  hb.registerHelper('json', (value: unknown) => {
    if (value === undefined) throw new Error('json: the value is not defined (a missing field)');
    return new hb.SafeString(JSON.stringify(value));
  });
  return (instance = hb);
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();
const OPTIONS = { strict: true, noEscape: true } as const;

/**
 * A template from Handlebars' precompiled form (JavaScript), remembered in the control machine's
 * cache by the source and Handlebars' version: compiling the compose and config templates took
 * ~75 ms of every run, evaluating their precompiled form a few.
 */
function compileCached(source: string): Handlebars.TemplateDelegate {
  const hb = handlebars();
  const load = (spec: string) => hb.template(new Function(`return ${spec}`)());
  const spec = cachedText('handlebars', `${Handlebars.VERSION}\0${JSON.stringify(OPTIONS)}\0${source}`, () => precompile(source));
  try {
    return load(spec);
  } catch {
    return load(precompile(source)); // a damaged entry: compiled as without a cache
  }
}

/** Renders templates/<name> (e.g. "fail2ban/jail.local.hbs"), or the .hbs file at an absolute path, with `data`. */
export function renderTemplate(name: string, data: object): string {
  let template = compiled.get(name);
  const source = template ? '' : readFileSync(name.startsWith('/') ? pathToFileURL(name) : new URL(name, templatesDir()), 'utf8');
  try {
    if (!template) {
      // A syntax error surfaces here (precompile is eager), named like an error of the render.
      template = compileCached(source);
      compiled.set(name, template);
    }
    return template(data);
  } catch (err) {
    throw new Error(`template ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
