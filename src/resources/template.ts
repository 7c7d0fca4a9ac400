import type { ResourceOptions } from '../engine/resource.js';
import { renderTemplate } from '../templates.js';
import { ManagedFile, type ManagedFileSpec } from './file.js';

export interface TemplateSpec extends Omit<ManagedFileSpec, 'content'> {
  /** A template under templates/ ("base/sysctl.conf.hbs") or an absolute path to a .hbs file. */
  template: string;
  /** The values it renders (strict: a missing field is an error, never an empty string). */
  data: object;
}

/**
 * A file rendered from a Handlebars template through the project's one Handlebars instance
 * (src/templates.ts), then planned like any managed file: diff, atomic write, validation.
 */
export class Template extends ManagedFile<ManagedFileSpec & TemplateSpec> {
  protected override readonly kind: string = 'template';

  constructor(spec: TemplateSpec, options?: ResourceOptions) {
    super({ ...spec, content: renderTemplate(spec.template, spec.data) }, options);
  }
}
