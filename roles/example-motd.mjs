#!/usr/bin/env zx
// An example of a role of your own, run like the built-in ones (apply, --dry-run, --check,
// --json, --junit, exit 0/2/1): the login message, from the inventory's `roles.example-motd`:
//
//   roles:
//     example-motd:
//       message: "Production web server: changes go through hostkit"
//       contact: ops@example.org       # optional
//       packages: [figlet]             # optional, default none
//       dynamic_uname: false           # optional: Debian's update-motd.d/10-uname line off (default)
//
// Copy it to roles/<name>.mjs and change what it declares; see "Write your own role" in README.md.
import { AptPackages, Command, defineRole, main, posixName, Template, z } from '../dist/index.js';

const UNAME_SCRIPT = '/etc/update-motd.d/10-uname';

const motdRole = defineRole({
  name: 'example-motd',
  description: "the login message (/etc/motd) from a template, its packages, and the uname line of Debian's motd off",
  // The role's schema slice: strict, so a typo in the inventory is an error with its file:line:col.
  schema: z
    .object({
      message: z.string().min(1),
      contact: z.string().optional(),
      packages: z.array(posixName).default([]),
      dynamic_uname: z.boolean().default(false),
    })
    .strict(),
  build(config, host) {
    const resources = [];
    if (config.packages.length) resources.push(new AptPackages({ names: config.packages }));
    resources.push(
      new Template({
        path: '/etc/motd',
        template: 'example-motd/motd.hbs', // under templates/, or an absolute path
        data: { host: host.name, message: config.message, contact: config.contact ?? '' },
        owner: 'root',
        group: 'root',
        mode: '0644',
      }),
    );
    if (!config.dynamic_uname) {
      // The rare imperative step, guarded: it runs only while the probe fails, so a second
      // apply changes nothing and --check reports it as drift until it ran.
      resources.push(
        new Command({
          name: `chmod -x ${UNAME_SCRIPT}`,
          command: `chmod -x ${UNAME_SCRIPT}`,
          unless: `test ! -x ${UNAME_SCRIPT}`,
        }),
      );
    }
    return resources;
  },
});

await main(import.meta.url, [motdRole], `roles/example-motd.mjs: ${motdRole.description}`);
