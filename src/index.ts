/**
 * hostkit's public API: what a user role (roles/<name>.mjs) or a script of your own imports
 * (`import { main, defineRole, Template, ... } from '../dist/index.js'`). The built-in role
 * scripts import their modules directly instead: start-up is most of a cron check's time.
 * test/unit/public-api.test.ts checks that every name README documents is here.
 */

// Running: the entry point with the exit-code contract, and the engine under it.
export { main } from './cli/main.js';
export { parseRunOptions, USAGE, UsageError } from './cli/options.js';
export { cliReporter, loadTargets } from './cli/session.js';
export { exitCodeOf, playbookOptions, type PlaybookOptions, type RunResult, runPlaybook } from './engine/run.js';
export { type RoleRunOptions, runRole } from './engine/run-role.js';
export { buildRole, prepareRole, type RoleInput } from './engine/role-input.js';
export { fanOut, type Reporter, type RoleEvent, type RunEvent } from './engine/events.js';
export { errorMessage, RefusedError, StepError } from './engine/errors.js';
export { redact, registerSecrets } from './engine/redact.js';
export { type RollbackSpec, rollbackSafeguard } from './engine/safeguard.js';
export type * from './engine/types.js';

// Roles: your own (defineRole, with its schema slice) and the built-in ones in provisioning order.
export { defineRole, roleSections, type UserRoleSpec } from './roles/define.js';
export {
  backupRole,
  baseRole,
  dataRole,
  dockerRole,
  fail2banRole,
  firewallRole,
  networksRole,
  ROLES,
  rolesByName,
  sshRole,
  stacksRole,
} from './roles/index.js';

// The resource contract and the public resource kinds.
export { BaseResource, handler, handlersOf, type ResourceOptions, resourceId } from './engine/resource.js';
export { ManagedFile, type ManagedFileSpec } from './resources/file.js';
export { Template, type TemplateSpec } from './resources/template.js';
export { Directory, type DirectorySpec } from './resources/directory.js';
export { AptPackages, type PackagesSpec } from './resources/apt-packages.js';
export { Service, type ServiceSpec } from './resources/service.js';
export { Command, type CommandSpec } from './resources/command.js';

// Facts: the helper that makes one (key derived from name + arguments) and the built-in ones.
export { defineFact, type FactArg, factKey } from './facts/define.js';
export { buildFact, FACTS } from './facts/index.js';
export { type FileState, fileFact } from './facts/file.js';
export { type FileContent, fileContentFact } from './facts/file-content.js';
export { type PathState, pathFact } from './facts/stat.js';
export { type PackageState, packagesFact } from './facts/packages.js';
export { type UnitState, unitFact } from './facts/systemd.js';
export { succeedsFact } from './facts/command.js';

// Schema slices: zod itself (one instance with the loader's) and the shared value types.
export { z } from 'zod';
export { ipOrNet, octalMode, port, posixName } from './schema/primitives.js';

// Inventory, transports, templates, reporters.
export {
  expandHome,
  formatProblem,
  type HostConfig,
  type Inventory,
  InventoryError,
  type LoadOptions,
  loadInventory,
  parseInventorySources,
  type RoleSections,
  selectHosts,
} from './inventory/index.js';
export { type ConnectionOptions, openTransport } from './transports/connect.js';
export { quote, sh } from './transports/quote.js';
export { renderTemplate } from './templates.js';
export { ConsoleReporter } from './report/console.js';
export { JsonReporter } from './report/json.js';
export { JunitReporter, junitXml } from './report/junit.js';
