import type { Resource, Role } from '../engine/types.js';
import type { BaseConfig } from './base.schema.js';
import { AptPackages } from '../resources/apt-packages.js';
import { ManagedFile } from '../resources/file.js';
import { Hostname } from '../resources/hostname.js';
import { Timezone } from '../resources/timezone.js';
import { Service } from '../resources/service.js';
import { Sysctl } from '../resources/sysctl.js';
import { renderTemplate } from '../templates.js';

export const AUTO_UPGRADES = '/etc/apt/apt.conf.d/20auto-upgrades';
export const SYSCTL_FILE = '/etc/sysctl.d/90-hostkit.conf';

/** Declared packages, plus unattended-upgrades when the inventory wants security upgrades. */
export function basePackages(cfg: BaseConfig): string[] {
  return [...new Set([...cfg.packages, ...(cfg.unattended_upgrades ? ['unattended-upgrades'] : [])])];
}

export function sysctlFileContent(cfg: BaseConfig): string {
  return renderTemplate('base/sysctl.conf.hbs', {
    settings: Object.keys(cfg.sysctl)
      .sort()
      .map((key) => ({ key, value: String(cfg.sysctl[key]) })),
  });
}

const file = (path: string, content: string, requires: Resource[] = []) =>
  new ManagedFile({ path, content, owner: 'root', group: 'root', mode: '0644' }, { requires });

export const baseRole: Role<BaseConfig> = {
  name: 'base',
  description: 'Base system: packages, hostname, timezone, unattended security upgrades, sysctl.',
  config: (inventory) => inventory.doc.base,
  build(cfg) {
    const resources: Resource[] = [];
    const packages = basePackages(cfg);
    const pkg = packages.length ? new AptPackages({ names: packages, label: '' }) : undefined;
    const afterPkg = pkg ? [pkg] : [];
    if (pkg) resources.push(pkg);
    if (cfg.hostname) resources.push(new Hostname({ name: cfg.hostname }));
    resources.push(new Timezone({ zone: cfg.timezone }, { requires: afterPkg })); // tzdata may be among the packages
    resources.push(
      file(AUTO_UPGRADES, renderTemplate('base/20auto-upgrades.hbs', { flag: cfg.unattended_upgrades ? '1' : '0' }), afterPkg),
    );
    if (cfg.unattended_upgrades) {
      // APT::Periodic only acts when these timers fire.
      for (const unit of ['apt-daily.timer', 'apt-daily-upgrade.timer']) resources.push(new Service({ unit, enabled: true, active: true }));
    }
    resources.push(file(SYSCTL_FILE, sysctlFileContent(cfg)));
    if (Object.keys(cfg.sysctl).length) resources.push(new Sysctl({ settings: cfg.sysctl }));
    return { resources };
  },
};
