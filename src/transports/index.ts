export * from './types.js';
export { quote, sh } from './quote.js';
export { connect, openTransport, withConnectionOptions, type ConnectOptions, type ConnectionOptions } from './connect.js';
export { SshTransport, connectSsh, type SshOptions } from './ssh.js';
export {
  LocalTransport,
  type LocalOptions,
  DEFAULT_COMMAND_TIMEOUT_MS,
  atomicWriteScript,
  commandFailed,
  commandLabel,
  shellArgv,
  shellCommand,
} from './local.js';
export * as knownHosts from './known-hosts.js';
