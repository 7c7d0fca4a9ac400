import type { Resource, Role } from '../engine/types.js';
import type { HardeningConfig } from './hardening.schema.js';
import { AptPackages } from '../resources/apt-packages.js';
import { ConfigKeys } from '../resources/config-keys.js';
import { Command } from '../resources/command.js';
import { Directory } from '../resources/directory.js';
import { ManagedFile } from '../resources/file.js';
import { KernelSysctl } from '../resources/kernel-sysctl.js';
import { PathMode } from '../resources/path-mode.js';
import { Service } from '../resources/service.js';
import { Sysctl } from '../resources/sysctl.js';
import { renderTemplate } from '../templates.js';

export const LOGIN_DEFS = '/etc/login.defs';
export const MODPROBE_FILE = '/etc/modprobe.d/hostkit-hardening.conf';
export const KERNEL_SYSCTL_FILE = '/etc/sysctl.d/91-hostkit-hardening.conf';
export const NET_SYSCTL_FILE = '/etc/sysctl.d/92-hostkit-hardening-net.conf';
/** ufw applies it at every enable/reload (IPT_SYSCTL in /etc/default/ufw), over the sysctl.d values. */
export const UFW_SYSCTL = '/etc/ufw/sysctl.conf';
export const PROFILE_FILE = '/etc/profile.d/hostkit-hardening.sh';
export const LIMITS_FILE = '/etc/security/limits.d/hostkit-hardening.conf';
export const COREDUMP_DIR = '/etc/systemd/coredump.conf.d';
export const NEEDRESTART_DIR = '/etc/needrestart/conf.d';
/** Sorts after Debian's 99_aide_root, so its exclusions are read last. */
export const AIDE_CONF = '/etc/aide/aide.conf.d/99_zz_hostkit';
export const AIDE_DB = '/var/lib/aide/aide.db';
export const AIDE_MAIN_CONF = '/etc/aide/aide.conf';

const rootFile = (path: string, content: string, requires: readonly Resource[] = []) =>
  new ManagedFile({ path, content, owner: 'root', group: 'root', mode: '0644' }, { requires });
const rootDir = (path: string) => new Directory({ path, owner: 'root', group: 'root', mode: '0755' });

export function modprobeContent(cfg: HardeningConfig): string {
  return renderTemplate('hardening/modprobe.conf.hbs', {
    modules: Object.entries(cfg.disabled_modules).map(([name, reason]) => ({ name, reason })),
  });
}

type Settings = Record<string, { value: string | number; reason: string }>;
const sysctlContent = (section: string, note: string, settings: Settings) =>
  renderTemplate('hardening/sysctl.conf.hbs', {
    section,
    note,
    settings: Object.keys(settings)
      .sort()
      .map((key) => ({ key, value: String(settings[key]?.value), reason: settings[key]?.reason })),
  });

export const kernelSysctlContent = (cfg: HardeningConfig): string =>
  sysctlContent('kernel_sysctl', "Never written inside a container (the kernel is the host's there).", cfg.kernel_sysctl);

export const netSysctlContent = (cfg: HardeningConfig): string =>
  sysctlContent('net_sysctl', 'The same values go into /etc/ufw/sysctl.conf, which ufw applies at each reload.', cfg.net_sysctl);

const values = (settings: Settings) => Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.value]));

/** The hardening section as resources, in apply order (configuration that a package reads comes before the package). */
export function hardeningResources(cfg: HardeningConfig): Resource[] {
  const resources: Resource[] = [];
  if (cfg.needrestart_mode) {
    // Before the packages: needrestart's apt hook already runs at the end of its own installation.
    const dir = rootDir(NEEDRESTART_DIR);
    resources.push(
      dir,
      rootFile(
        `${NEEDRESTART_DIR}/hostkit.conf`,
        renderTemplate('hardening/needrestart.conf.hbs', { mode: cfg.needrestart_mode.value, reason: cfg.needrestart_mode.reason }),
        [dir],
      ),
    );
  }
  const packages = Object.keys(cfg.packages);
  const pkg = packages.length ? new AptPackages({ names: packages, label: 'hardening' }) : undefined;
  if (pkg) resources.push(pkg);
  const afterPkg = pkg ? [pkg] : [];

  const loginDefs = Object.entries(cfg.login_defs).map(([key, s]) => ({ key, value: String(s.value), reason: s.reason }));
  if (loginDefs.length) resources.push(new ConfigKeys({ path: LOGIN_DEFS, keys: loginDefs }));
  for (const [file, keys] of Object.entries(cfg.etc_default)) {
    const entries = Object.entries(keys).map(([key, s]) => ({ key, value: String(s.value), reason: s.reason }));
    resources.push(new ConfigKeys({ path: `/etc/default/${file}`, keys: entries, style: 'equals' }, { requires: afterPkg }));
  }
  if (Object.keys(cfg.disabled_modules).length) {
    const dir = rootDir('/etc/modprobe.d'); // kmod's; absent on a minimal image without it
    resources.push(dir, rootFile(MODPROBE_FILE, modprobeContent(cfg), [dir]));
  }
  if (Object.keys(cfg.net_sysctl).length) {
    const ufwKeys = Object.entries(cfg.net_sysctl).map(([k, s]) => ({
      key: k.replaceAll('.', '/'),
      value: String(s.value),
      reason: s.reason,
    }));
    const ufw = new ConfigKeys({ path: UFW_SYSCTL, keys: ufwKeys, style: 'equals', ifPresent: true });
    resources.push(
      rootFile(NET_SYSCTL_FILE, netSysctlContent(cfg)),
      ufw,
      new Sysctl({ settings: values(cfg.net_sysctl) }, { requires: [ufw] }),
    );
  }
  if (Object.keys(cfg.kernel_sysctl).length)
    resources.push(new KernelSysctl({ path: KERNEL_SYSCTL_FILE, content: kernelSysctlContent(cfg), settings: values(cfg.kernel_sysctl) }));
  if (cfg.banner) {
    const text = cfg.banner.value.replace(/\n*$/, '');
    for (const path of ['/etc/issue', '/etc/issue.net']) resources.push(rootFile(path, renderTemplate('hardening/issue.hbs', { text })));
  }
  if (cfg.shell_timeout || cfg.core_dumps_disabled) {
    resources.push(
      rootFile(
        PROFILE_FILE,
        renderTemplate('hardening/profile.sh.hbs', { timeout: cfg.shell_timeout ?? null, core_dumps: cfg.core_dumps_disabled ?? null }),
      ),
    );
  }
  if (cfg.core_dumps_disabled) {
    const reason = cfg.core_dumps_disabled;
    const dir = rootDir(COREDUMP_DIR);
    resources.push(
      rootFile(LIMITS_FILE, renderTemplate('hardening/limits.conf.hbs', { reason })),
      dir,
      rootFile(`${COREDUMP_DIR}/hostkit.conf`, renderTemplate('hardening/coredump.conf.hbs', { reason }), [dir]),
    );
  }
  if (cfg.file_integrity) {
    const exclude = Object.entries(cfg.file_integrity.exclude).map(([path, reason]) => ({ path, reason }));
    const conf = rootFile(AIDE_CONF, renderTemplate('hardening/aide.conf.hbs', { reason: cfg.file_integrity.reason, exclude }), afterPkg);
    // The baseline is built once (aideinit, ~1 min): later changes are what AIDE's daily check reports.
    resources.push(conf);
    const before: Resource[] = [conf];
    const sums = cfg.file_integrity.checksums;
    if (sums) {
      const main = new ConfigKeys(
        { path: AIDE_MAIN_CONF, keys: [{ key: 'Checksums', value: sums.value, reason: sums.reason }], style: 'spaced-equals' },
        { requires: afterPkg },
      );
      resources.push(main);
      before.push(main);
    }
    resources.push(
      new Command(
        { command: 'aideinit -y -f >/dev/null', creates: AIDE_DB, name: 'build the AIDE baseline (aideinit)' },
        { requires: before },
      ),
    );
  }
  for (const [path, s] of Object.entries(cfg.permissions)) {
    resources.push(new PathMode({ path, owner: 'root', group: 'root', mode: s.value }, { requires: afterPkg }));
  }
  for (const unit of Object.keys(cfg.services)) {
    resources.push(new Service({ unit, enabled: true, active: true }, { requires: afterPkg }));
  }
  return resources;
}

export const hardeningRole: Role<HardeningConfig> = {
  name: 'hardening',
  description:
    'Host hardening beyond base and ssh (Lynis): audit packages, login.defs, disabled modules, kernel parameters, banners, core dumps, permissions.',
  config: (inventory) => inventory.doc.hardening,
  build: (cfg) => ({ resources: hardeningResources(cfg) }),
};
