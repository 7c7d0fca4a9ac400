import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote } from '../transports/quote.js';
import { DOCKER_API_SOCKET, PLAIN_NAME, apiGet, unlessDockerdStopped } from './docker.js';

/**
 * The roles and databases a database server has, read with the server's own client through
 * `docker exec` as one JSON document (psql's json_agg, MariaDB's JSON_ARRAYAGG). A server that is
 * absent, not running or not healthy yet is described, not an error: its objects are unknown.
 */
export type DbServerEngine = 'postgres' | 'mariadb';

export type DatabaseObjects =
  | { state: 'ok'; roles: string[]; databases: { name: string; owner?: string }[] }
  | { state: 'no-docker' | 'absent' | 'not-ready' | 'error'; detail: string };

const PG_QUERY =
  "SELECT json_build_object('roles', (SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]') FROM pg_roles)," +
  " 'databases', (SELECT coalesce(json_agg(json_build_object('name', datname, 'owner', pg_get_userbyid(datdba)) ORDER BY datname), '[]') FROM pg_database WHERE NOT datistemplate))";
const MARIADB_QUERY =
  "SELECT JSON_OBJECT('roles', (SELECT JSON_ARRAYAGG(DISTINCT User) FROM mysql.user)," +
  " 'databases', (SELECT JSON_ARRAYAGG(JSON_OBJECT('name', SCHEMA_NAME)) FROM information_schema.SCHEMATA))";

/** The server's own client inside the container, as the admin user over its socket (quoted for sh). */
export function dbClient(engine: DbServerEngine, adminUser: string): string {
  return engine === 'postgres'
    ? `psql -X -q -v ON_ERROR_STOP=1 -U ${quote(adminUser)} -d postgres`
    : `mariadb -u${quote(adminUser)} --batch --skip-column-names`;
}

/**
 * The container's state as `docker inspect -f '{{.State.Status}} {{with index .State "Health"}}{{.Status}}{{end}}'`
 * prints it ("running healthy", "running ", "exited "), from the Engine API's JSON of it (one
 * line) in one sed: State's first field is its Status, Health (absent without a healthcheck) starts
 * with its own; a JSON string cannot hold those keys (its quotes are escaped).
 */
const STATE_FROM_JSON = `s/.*"State":{"Status":"\\([a-z]*\\)".*"Health":{"Status":"\\([a-z]*\\)".*/\\1 \\2/p; t; s/.*"State":{"Status":"\\([a-z]*\\)".*/\\1 /p`;

export const databaseObjectsFact = (container: string, engine: DbServerEngine, adminUser: string): Fact<DatabaseObjects> => {
  const c = quote(container);
  const query = engine === 'postgres' ? PG_QUERY : MARIADB_QUERY;
  const client = engine === 'postgres' ? `${dbClient(engine, adminUser)} -tA -c` : `${dbClient(engine, adminUser)} -e`;
  const inspect = `st=$(docker inspect -f '{{.State.Status}} {{with index .State "Health"}}{{.Status}}{{end}}' ${c} 2>/dev/null) || { echo '{"state":"absent","detail":"no container"}'; exit 0; }`;
  return defineFact(
    'db.objects',
    [container, engine, adminUser],
    [
      `command -v docker >/dev/null 2>&1 || { echo '{"state":"no-docker","detail":"docker is not installed"}'; exit 0; }`,
      // Asking a daemon that is not running would START it through an active docker.socket (socket
      // activation): a probe never does; the server is not ready, as it cannot be running.
      unlessDockerdStopped(`echo '{"state":"not-ready","detail":"docker.service is not running"}'; exit 0`),
      // The state from the Engine API where the CLI would ask that socket (one curl, not the CLI's
      // Go start; a 404 falls back, for the CLI's verdict), the docker CLI otherwise.
      ...(PLAIN_NAME.test(container)
        ? [
            ...DOCKER_API_SOCKET,
            `if ${apiGet(`/containers/${container}/json`)}; then st=$(printf '%s\\n' "$api" | sed -n '${STATE_FROM_JSON}')`,
            `else ${inspect}`,
            'fi',
          ]
        : [inspect]),
      `case "$st" in "running healthy"|"running ") ;; *) printf '{"state":"not-ready","detail":"%s"}\\n' "$st"; exit 0;; esac`,
      `if out=$(docker exec ${c} ${client} ${quote(query)} 2>&1); then printf '%s\\n' "$out"; else echo '#error'; printf '%s\\n' "$out" | tail -n 3; fi`,
    ].join('\n'),
    ({ stdout }): DatabaseObjects => {
      const text = stdout.trim();
      if (text.startsWith('#error') || !text) return { state: 'error', detail: text.replace(/^#error\n?/, '').trim() || 'no output' };
      const doc = JSON.parse(text.split('\n').pop()!) as {
        state?: string;
        detail?: string;
        roles?: string[] | null;
        databases?: { name: string; owner?: string }[] | null;
      };
      if (doc.state) return { state: doc.state as 'absent', detail: (doc.detail ?? '').trim() };
      return { state: 'ok', roles: doc.roles ?? [], databases: doc.databases ?? [] };
    },
  );
};
