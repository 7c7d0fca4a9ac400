import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadInventory } from '../inventory/index.js';
import { renderPlatformDoc } from '../report/platform.js';
import { errorMessage } from '../engine/errors.js';
import { scriptArgs } from './options.js';

const USAGE = `scripts/report.mjs: render the platform document (container inventory, port map, networks,
domains, /mnt/data layout, Mermaid diagram) from the inventory.
  -i, --inventory FILE  inventory (repeat to overlay; default inventory.yaml)
  -o, --out FILE        where to write (default docs/platform.md; "-" for stdout)
      --check           write nothing; exit 1 when the file is not current
  -h, --help            this text`;

export async function reportMain(scriptUrl: string): Promise<never> {
  try {
    const { values } = parseArgs({
      args: scriptArgs(scriptUrl),
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        out: { type: 'string', short: 'o' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const inventory = await loadInventory(values.inventory ?? ['inventory.yaml']);
    const text = renderPlatformDoc(inventory.doc);
    const out = values.out ?? 'docs/platform.md';
    if (out === '-') {
      process.stdout.write(text);
      process.exit(0);
    }
    if (values.check) {
      const current = await readFile(out, 'utf8').catch(() => '');
      if (current !== text) {
        process.stderr.write(`${out} is not current: run node scripts/report.mjs\n`);
        process.exit(1);
      }
      process.stdout.write(`${out} is current\n`);
      process.exit(0);
    }
    await writeFile(out, text);
    process.stdout.write(`wrote ${out}\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n\n${USAGE}\n`);
    process.exit(1);
  }
}
