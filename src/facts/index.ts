import type { Fact } from '../engine/types.js';
import { succeedsFact } from './command.js';
import { composeConfigHashesFact, composeHashesFact, composeProjectsFact } from './compose.js';
import { containersFact } from './containers.js';
import { databaseObjectsFact } from './databases.js';
import { containerHttpFact } from './container-http.js';
import { dockerEngineFact, osReleaseFact } from './docker.js';
import { dockerUserFact } from './docker-user.js';
import { fail2banFact } from './fail2ban.js';
import { fileFact } from './file.js';
import { fileContentFact } from './file-content.js';
import { hostnameFact } from './hostname.js';
import { imagesFact } from './images.js';
import { listenersFact, publishedPortsFact } from './listeners.js';
import { networksFact } from './networks.js';
import { packagesFact } from './packages.js';
import { sshSessionFact } from './ssh-session.js';
import { sshdEffectiveFact } from './sshd.js';
import { pathFact, pathIdsFact } from './stat.js';
import { sysctlFact } from './sysctl.js';
import { unitFact } from './systemd.js';
import { timezoneFact } from './timezone.js';
import { ufwState } from './ufw.js';
import { containerFact } from './virt.js';

/**
 * Every fact by its name: the factory of a fact with arguments, the Fact itself when it has none.
 * The fixture runner (test/unit/fact-fixtures.test.ts) replays test/fixtures/facts/<name>/*.json
 * through these, and fails when a fact exported from src/facts is missing here.
 */
export const FACTS = {
  'apt.packages': packagesFact,
  'command.succeeds': succeedsFact,
  'db.objects': databaseObjectsFact,
  'docker.compose-config-hashes': composeConfigHashesFact,
  'container.http': containerHttpFact,
  'docker.compose-hashes': composeHashesFact,
  'docker.compose-projects': composeProjectsFact,
  'docker.containers': containersFact,
  'docker.engine': dockerEngineFact,
  'docker.images': imagesFact,
  'docker.networks': networksFact,
  'docker.published': publishedPortsFact,
  'docker.user-chains': dockerUserFact,
  'fail2ban.state': fail2banFact,
  'file.bytes': fileFact,
  'file.content': fileContentFact,
  'host.container': containerFact,
  'host.hostname': hostnameFact,
  'host.listeners': listenersFact,
  'host.sysctl': sysctlFact,
  'host.timezone': timezoneFact,
  'os.release': osReleaseFact,
  'path.stat': pathFact,
  'path.stat-ids': pathIdsFact,
  'ssh.session': sshSessionFact,
  'sshd.effective': sshdEffectiveFact,
  'systemd.unit': unitFact,
  'ufw.state': ufwState,
} satisfies Record<string, Fact<unknown> | ((...args: never[]) => Fact<unknown>)>;

type FactRegistry = Record<string, Fact<unknown> | ((...args: never[]) => Fact<unknown>)>;

/**
 * The fact NAME built from ARGS (as a fixture stores them), from FACTS or from the registries of
 * facts that live in higher layers (src/backup/facts.ts's BACKUP_FACTS).
 */
export function buildFact(name: string, args: readonly unknown[], ...more: FactRegistry[]): Fact<unknown> {
  const registry = Object.assign({}, FACTS, ...more) as Record<string, Fact<unknown> | ((...a: unknown[]) => Fact<unknown>)>;
  const entry = registry[name];
  if (!entry) throw new Error(`unknown fact ${name}`);
  if (typeof entry === 'function') return entry(...args);
  if (args.length > 0) throw new Error(`fact ${name} takes no arguments`);
  return entry;
}
