#!/usr/bin/env node
// Inventory load time against the number of hosts (issue 9: linear, a 200,000-host file in
// seconds). Usage: node bench/inventory-load.mjs [hosts ...] (after `npx tsc -p tsconfig.json`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../dist/inventory/index.js';

export function bigInventory(n) {
  const lines = ['all:', '  hosts:'];
  for (let i = 0; i < n; i++) lines.push(`    h${i}: { address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}, port: 22 }`);
  return `${lines.join('\n')}\n`;
}

const sizes = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'hostkit-bench-'));
try {
  for (const n of sizes.length ? sizes : [20_000, 200_000]) {
    const file = join(dir, `hosts-${n}.yaml`);
    writeFileSync(file, bigInventory(n));
    const t0 = process.hrtime.bigint();
    const inv = await loadInventory([file]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`${n} hosts: ${ms.toFixed(0)} ms (${((ms * 1000) / n).toFixed(1)} us/host), ${inv.hosts.length} loaded`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
