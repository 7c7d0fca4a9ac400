export * from './types.js';
export { quote, sh } from './quote.js';
export { connect, openTransport, withConnectionOptions, type ConnectOptions, type ConnectionOptions } from './connect.js';
export { SshTransport, type SshOptions } from './ssh.js';
export { LocalTransport, type LocalOptions } from './local.js';
export { DEFAULT_COMMAND_TIMEOUT_MS, atomicWriteScript, commandFailed, commandLabel, shellArgv, shellCommand } from './shell.js';
export * as knownHosts from './known-hosts.js';
