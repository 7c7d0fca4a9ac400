import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseInventory } from '../../src/inventory/index.js';
import { renderPlatformDoc } from '../../src/report/platform.js';
import { repoRoot } from '../../src/sandbox/paths.js';

describe('docs/platform.md: the seed as documentation that cannot drift', () => {
  it('is current: regenerate with `npx zx scripts/report.mjs` after changing inventory.yaml', async () => {
    const inventory = await loadInventory([join(repoRoot(), 'inventory.yaml')]);
    const committed = readFileSync(join(repoRoot(), 'docs', 'platform.md'), 'utf8');
    // One assertion on the whole text: the diff vitest prints is the change to regenerate.
    expect(committed, 'docs/platform.md is not current: run `npx zx scripts/report.mjs`').toBe(renderPlatformDoc(inventory.doc));
  });

  it('shows the true count, every container, NPM connections, domains and the data layout', async () => {
    const doc = renderPlatformDoc((await loadInventory([join(repoRoot(), 'inventory.yaml')])).doc);
    expect(doc).toContain('**7 stacks, 35 containers in 3 layers**');
    expect(doc.match(/^\| `[a-z0-9-]+` \| [a-z0-9-]+ \| `[^`]+` \|/gm)).toHaveLength(35);
    expect(doc.match(/^docker network connect \S+ pro-0kt-nginx$/gm)).toHaveLength(7);
    expect(doc).toContain('| seller1.ru | `seller1-prod-web` | 80 | seller1-prod-stack |');
    expect(doc).toContain('└── seller1-prod/ ');
    expect(doc).toContain('```mermaid');
  });

  it('changes when the inventory changes (what makes the first test fail)', () => {
    const text = readFileSync(join(repoRoot(), 'inventory.yaml'), 'utf8').replace(
      'container_name: python-tst',
      'container_name: python-test',
    );
    const changed = renderPlatformDoc(parseInventory(text, 'inventory.yaml').doc);
    expect(changed).toContain('`python-test`');
    expect(changed).not.toBe(readFileSync(join(repoRoot(), 'docs', 'platform.md'), 'utf8'));
  });
});
