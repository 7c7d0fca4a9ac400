import type { Change, FactSet, PlanContext, Resource, Role } from '../engine/types.js';
import { handler, handlersOf } from '../engine/resource.js';
import { AptPackages } from '../resources/apt-packages.js';
import { Directory } from '../resources/directory.js';
import { ManagedFile, type ManagedFileSpec } from '../resources/file.js';
import { Service } from '../resources/service.js';
import { BACKUP_DIR, BACKUP_SCRIPT, backupModel, type BackupModel } from '../backup/model.js';
import { backupScript, envFile, serviceUnit, timerUnit, unitNames } from '../backup/script.js';
import { loadBackupSecrets, type BackupSecrets } from '../backup/secrets.js';
import { platformOf } from '../platform/model.js';
import { sh } from '../transports/quote.js';

/** A 0600 file holding a secret: planned like any file, but its content is never diffed. */
class SecretFile extends ManagedFile {
  override plan(facts: FactSet, ctx: PlanContext): Change[] {
    return super.plan(facts, ctx).map(({ summary, actions }) => ({ summary, actions }));
  }
}

const reload = handler('systemd daemon-reload (backup units)', [
  { kind: 'exec', script: `systemctl daemon-reload && systemctl restart ${unitNames.run}.timer ${unitNames.check}.timer` },
]);

/** The backup role's input: the backup model and the secrets file its prepare reads. */
export interface BackupRoleConfig {
  model: BackupModel;
  /** The inventory's secrets.file (absolute); --secrets FILE overrides it. */
  secretsFile?: string | undefined;
}

export const backupRole: Role<BackupRoleConfig, BackupSecrets> = {
  name: 'backup',
  description:
    'restic backups: restic from Debian, repository/password/ssh key from the inventory and secrets, database dumps then one tagged snapshot of the data root, retention and periodic check on systemd timers.',
  config(inventory) {
    const model = backupModel(inventory);
    return model && { model, secretsFile: platformOf(inventory).secretsFile };
  },
  prepare: (config, options) => loadBackupSecrets(config.model.config, options.secretsFile ?? config.secretsFile),
  build({ model: m }, host, secrets) {
    const pkg = new AptPackages({ names: ['restic'] });
    const dir = new Directory({ path: BACKUP_DIR, owner: 'root', group: 'root', mode: '0700' });
    const file = (spec: Omit<ManagedFileSpec, 'owner' | 'group'>, secret = false): ManagedFile => {
      const full = { owner: 'root', group: 'root', ...spec };
      return secret ? new SecretFile(full, { requires: [dir] }) : new ManagedFile(full, { requires: [dir] });
    };
    const files: ManagedFile[] = [
      file({ path: `${BACKUP_DIR}/password`, content: `${secrets.password}\n`, mode: '0600' }, true),
      file({ path: `${BACKUP_DIR}/env`, content: envFile(m), mode: '0600' }),
      file({ path: BACKUP_SCRIPT, content: backupScript(m, host.name), mode: '0755' }),
    ];
    if (secrets.sshKey) files.push(file({ path: `${BACKUP_DIR}/ssh_key`, content: secrets.sshKey, mode: '0600' }, true));
    if (m.config.known_hosts)
      files.push(file({ path: `${BACKUP_DIR}/known_hosts`, content: m.config.known_hosts.replace(/\n*$/, '\n'), mode: '0644' }));
    if (secrets.s3) {
      const creds = `[default]\naws_access_key_id = ${secrets.s3.accessKey}\naws_secret_access_key = ${secrets.s3.secretKey}\n`;
      files.push(file({ path: `${BACKUP_DIR}/s3-credentials`, content: creds, mode: '0600' }, true));
    }
    const units: ManagedFile[] = [];
    for (const what of ['run', 'check'] as const) {
      const name = unitNames[what];
      const schedule = what === 'run' ? m.config.schedule : m.config.check_schedule;
      units.push(
        new ManagedFile(
          { path: `/etc/systemd/system/${name}.service`, content: serviceUnit(what), owner: 'root', group: 'root', mode: '0644' },
          { notify: [reload] },
        ),
        new ManagedFile(
          {
            path: `/etc/systemd/system/${name}.timer`,
            content: timerUnit(what, schedule),
            // systemd's own parser has the last word on the calendar spec, before the timer changes.
            validate: sh(['systemd-analyze', 'calendar', schedule]),
            owner: 'root',
            group: 'root',
            mode: '0644',
          },
          { notify: [reload] },
        ),
      );
    }
    const timers = (['run', 'check'] as const).map(
      (what) => new Service({ unit: `${unitNames[what]}.timer`, enabled: true, active: true }, { requires: [...units, pkg] }),
    );
    const resources: Resource[] = [pkg, dir, ...files, ...units, ...timers];
    return { resources, handlers: handlersOf(resources) };
  },
};
