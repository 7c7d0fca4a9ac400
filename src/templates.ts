import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';

/** templates/ at the repository root (from src/ under vitest, from dist/ at run time). */
const TEMPLATES = new URL('../templates/', import.meta.url);

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

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<name> (e.g. "fail2ban/jail.local.hbs"), or the .hbs file at an absolute path, with `data`. */
export function renderTemplate(name: string, data: object): string {
  let template = compiled.get(name);
  if (!template) {
    const source = readFileSync(new URL(name, TEMPLATES), 'utf8');
    template = hb.compile(source, { strict: true, noEscape: true });
    compiled.set(name, template);
  }
  try {
    return template(data);
  } catch (err) {
    throw new Error(`template ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
