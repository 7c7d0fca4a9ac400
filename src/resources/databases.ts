import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { databaseObjectsFact, dbClient, type DatabaseObjects, type DbServerEngine } from '../facts/databases.js';
import { quote } from '../transports/quote.js';
import { driftsWithOneAction } from './changes.js';
import { composeUpArgv, composeUpCondition } from './container-start.js';

/**
 * The databases and roles a database server must have (inventory `database:` on its service):
 * probed with the server's own client through `docker exec`, created when missing (PostgreSQL: a
 * database owned by the wrong role gets its owner back), never dropped. Init scripts are not
 * enough: they run only on an empty data directory. The apply first brings the server itself up
 * (`docker compose up --wait <service>`, healthy), so it runs before the server's consumers start;
 * its SQL is guarded server-side (IF NOT EXISTS), so it is idempotent whatever the facts said.
 */
export interface DatabasesSpec {
  stack: string;
  /** The stack's directory (compose.yaml) and the server's compose service. */
  dir: string;
  service: string;
  container: string;
  engine: DbServerEngine;
  adminUser: string;
  /** Password values resolved from the secrets (they travel on stdin, never in argv). */
  roles: { name: string; secret: string; password: string }[];
  databases: { name: string; owner: string }[];
  waitTimeoutS: number;
}

/** Seconds the SQL is retried while the server does not accept connections yet. */
const RETRIES = 60;

const pgIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const pgLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
const myLiteral = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const myIdent = (s: string) => `\`${s.replace(/`/g, '``')}\``;

/** Guarded SQL for the given objects (each statement a no-op when its object is already right). */
export function ensureSql(engine: DbServerEngine, spec: Pick<DatabasesSpec, 'roles' | 'databases'>): string {
  if (engine === 'postgres') {
    return [
      ...spec.roles.map(
        (r) =>
          `DO $hostkit$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${pgLiteral(r.name)}) THEN CREATE ROLE ${pgIdent(r.name)} LOGIN PASSWORD ${pgLiteral(r.password)}; END IF; END $hostkit$;`,
      ),
      ...spec.databases.flatMap((d) => [
        `SELECT format('CREATE DATABASE %I OWNER %I', ${pgLiteral(d.name)}, ${pgLiteral(d.owner)}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${pgLiteral(d.name)})\\gexec`,
        `ALTER DATABASE ${pgIdent(d.name)} OWNER TO ${pgIdent(d.owner)};`,
      ]),
    ].join('\n');
  }
  return [
    ...spec.roles.map((r) => `CREATE USER IF NOT EXISTS ${myLiteral(r.name)}@'%' IDENTIFIED BY ${myLiteral(r.password)};`),
    ...spec.databases.flatMap((d) => [
      `CREATE DATABASE IF NOT EXISTS ${myIdent(d.name)};`,
      `GRANT ALL ON ${myIdent(d.name)}.* TO ${myLiteral(d.owner)}@'%';`,
    ]),
  ].join('\n');
}

export class Databases extends BaseResource<DatabasesSpec> {
  protected readonly kind = 'databases';
  private readonly fact;

  constructor(spec: DatabasesSpec, options?: ResourceOptions) {
    super(spec, options);
    this.fact = databaseObjectsFact(spec.container, spec.engine, spec.adminUser);
  }

  protected override identity() {
    return this.spec.container;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    const { container, roles, databases } = this.spec;
    const objects: DatabaseObjects = facts.get(this.fact);
    if (objects.state !== 'ok') {
      // Unknown until the server runs: everything declared is ensured once it is up.
      const why = `${container} ${objects.state === 'error' ? `cannot be queried: ${objects.detail}` : `not readable now (${objects.detail})`}`;
      const drifts = [
        ...roles.map((r) => ({ summary: `role ${r.name} on ${container}: ensure it exists (${why})` })),
        ...databases.map((d) => ({ summary: `database ${d.name} on ${container}: ensure it exists, owner ${d.owner} (${why})` })),
      ];
      return drifts.length ? driftsWithOneAction(drifts, [this.action({ roles, databases })]) : [];
    }
    const have = new Set(objects.roles);
    const missingRoles = roles.filter((r) => !have.has(r.name));
    const byName = new Map(objects.databases.map((d) => [d.name, d]));
    const missingDbs = databases.filter((d) => !byName.has(d.name));
    const wrongOwner =
      this.spec.engine === 'postgres' ? databases.filter((d) => byName.has(d.name) && byName.get(d.name)!.owner !== d.owner) : [];
    const drifts = [
      ...missingRoles.map((r) => ({ summary: `role ${r.name} missing on ${container}: create (login, password from secret ${r.secret})` })),
      ...missingDbs.map((d) => ({ summary: `database ${d.name} missing on ${container}: create (owner ${d.owner})` })),
      ...wrongOwner.map((d) => ({
        summary: `database ${d.name} on ${container} is owned by ${byName.get(d.name)!.owner}, not ${d.owner}: change its owner`,
      })),
    ];
    if (!drifts.length) return [];
    return driftsWithOneAction(drifts, [this.action({ roles: missingRoles, databases: [...missingDbs, ...wrongOwner] })]);
  }

  private action(objects: Pick<DatabasesSpec, 'roles' | 'databases'>) {
    const { dir, service, container, engine, adminUser, waitTimeoutS } = this.spec;
    const up = composeUpArgv(waitTimeoutS, service);
    const script = [
      `cd ${quote(dir)} || exit 1`,
      // The server first, healthy (compose leaves it alone when it already runs as declared).
      'log=$(mktemp)',
      `if ! ${composeUpCondition(up, '"$log"')}; then tail -n 3 "$log" >&2; rm -f "$log"; echo ${quote(`${container} did not become healthy`)} >&2; exit 1; fi`,
      'rm -f "$log"',
      // Retried while the server is not accepting connections yet: "healthy" can be reported by an
      // image's temporary init server (socket only) that is about to shut down.
      'sql=$(cat); i=0',
      'while :; do',
      `  err=$(printf '%s\\n' "$sql" | docker exec -i ${quote(container)} ${dbClient(engine, adminUser)} 2>&1 >/dev/null) && exit 0`,
      // psql exits 2 when the connection failed or was ended; MariaDB's client names it.
      `  case "$?:$err" in 2:*|*"Can't connect"*|*'Lost connection'*|*'server has gone away'*) ;; *) printf '%s\\n' "$err" >&2; exit 1;; esac`,
      `  i=$((i + 1)); if [ "$i" -ge ${RETRIES} ]; then printf '%s\\n' "$err" >&2; exit 1; fi; sleep 1`,
      'done',
    ].join('\n');
    const names = [...objects.roles.map((r) => `role ${r.name}`), ...objects.databases.map((d) => `database ${d.name}`)];
    return {
      kind: 'exec' as const,
      script,
      stdin: `${ensureSql(engine, objects)}\n`,
      display: `${up.join(' ')}; ${engine === 'postgres' ? 'psql' : 'mariadb'} in ${container}: ensure ${names.join(', ')}`,
    };
  }
}
