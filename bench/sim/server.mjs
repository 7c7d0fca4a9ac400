// The fleet simulator's remote side: ONE ssh2 Server that plays many hosts. The inventory wants
// one address:port per machine, so each simulated host gets a port of its own on 127.0.0.1 (a
// plain TCP listener that hands its sockets to the one ssh2 Server); every exec is answered from a recording of a real host, so the
// control side (the real engine, transports and reporters) does all of its own work while the
// hosts cost nothing. Only the remote side is replayed.
//
// A recording maps each command the engine sent (its random batch marker normalised) to what the
// real host answered. It is made through this same server in "record" mode, which forwards every
// exec to a real sandbox target over SSH: so a recording always matches the engine's current
// probe scripts, whatever they look like.
import { createPrivateKey, sign } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
/**
 * ssh2 for the simulated hosts, its Server taking packets up to OpenSSH's 256 KB: ssh2 drops a connection whose packet
 * exceeds 35,000 bytes (lib/protocol/crypto.js), and the one exec of a host's batch is larger at
 * 70 compose services (34 KB of script), where a real sshd takes it. A copy of ssh2's lib with
 * that one constant changed, kept next to ssh2 in node_modules (its own dependencies resolve from
 * there) and made again when ssh2 changes. Only the simulator uses it (its keys are parsed by the
 * same copy: ssh2 knows a parsed key by a symbol of its own); the control side (the real CLI)
 * runs the unmodified ssh2.
 */
function openSshSizedSsh2() {
  const require = createRequire(import.meta.url);
  const original = dirname(require.resolve('ssh2/package.json'));
  const copy = join(original, '..', '.hostkit-sim-ssh2');
  const source = readFileSync(join(original, 'lib/protocol/crypto.js'), 'utf8');
  const stamp = `${require('ssh2/package.json').version} ${source.length}`;
  if (!existsSync(join(copy, 'stamp')) || readFileSync(join(copy, 'stamp'), 'utf8') !== stamp) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(join(original, 'lib'), join(copy, 'lib'), { recursive: true });
    cpSync(join(original, 'package.json'), join(copy, 'package.json'));
    const patched = source.replace('const MAX_PACKET_SIZE = 35000;', 'const MAX_PACKET_SIZE = 256 * 1024;');
    if (patched === source) throw new Error(`${original}/lib/protocol/crypto.js: MAX_PACKET_SIZE not found (ssh2 changed?)`);
    writeFileSync(join(copy, 'lib/protocol/crypto.js'), patched);
    writeFileSync(join(copy, 'stamp'), stamp);
  }
  return require(copy);
}
const { Client, Server, utils } = openSshSizedSsh2();

// src/engine/gather.ts frames each batch with `@@hostkit-<hex>@@`, new for every batch.
const MARKER = /@@hostkit-[0-9a-f]+@@/g;
const PLACEHOLDER = '@@hostkit-MARKER@@';

/** A command as recorded: the batch marker replaced by a fixed placeholder. */
export function normaliseCommand(command) {
  return command.replace(MARKER, PLACEHOLDER);
}

/** The recorded answer for `command`, with the marker of this batch put back; undefined if none. */
export function replayAnswer(answers, command) {
  const recorded = answers.get(normaliseCommand(command));
  if (!recorded) return undefined;
  const marker = command.match(MARKER)?.[0];
  const put = (s) => (marker ? s.split(PLACEHOLDER).join(marker) : s);
  return { stdout: put(recorded.stdout), stderr: put(recorded.stderr), exitCode: recorded.exitCode };
}

export async function loadRecording(file) {
  const doc = JSON.parse(await readFile(file, 'utf8'));
  if (doc.version !== 1) throw new Error(`${file}: not a hostkit-sim recording (version ${doc.version})`);
  return new Map(Object.entries(doc.answers));
}

export async function saveRecording(file, answers, about) {
  const doc = { version: 1, about, answers: Object.fromEntries(answers) };
  await writeFile(file, `${JSON.stringify(doc, null, 1)}\n`);
}

/** One SSH connection to the real host a recording is made from. */
function connectUpstream(upstream) {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c))
      .once('error', reject)
      .connect({
        host: upstream.address,
        port: upstream.port,
        username: upstream.user,
        privateKey: upstream.privateKey,
        readyTimeout: 20_000,
      });
  });
}

function execUpstream(client, command) {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      const out = [];
      const errOut = [];
      let exitCode = 255;
      ch.on('data', (d) => out.push(d));
      ch.stderr.on('data', (d) => errOut.push(d));
      ch.on('exit', (code) => {
        if (typeof code === 'number') exitCode = code;
      });
      ch.on('close', () =>
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), exitCode }),
      );
      ch.end();
    });
  });
}

/**
 * Starts the simulator on 127.0.0.1 (an ephemeral port unless `port`).
 *   answers: Map from normalised command to { stdout, stderr, exitCode } (replay; record adds to it)
 *   upstream: { address, port, user, privateKey } to record from a real host instead of replaying
 *   delayMs: added before every answer, to stand in for the time probes take on a real host
 *   hosts: how many hosts (ports) to listen for
 *   hostKey: { private, public } (ed25519KeyPair()), to reuse one across runs; default a new one
 * Returns { ports, hostKey ("ssh-ed25519 AAAA..."), stats, close() }.
 */
/**
 * An ed25519 key pair ssh2 can read back. ssh2's generateKeyPairSync drops the leading zero
 * bytes of the public key, so about 1 in 256 pairs fails to parse (mscdex/ssh2#1390, #1513): a
 * benchmark of 1,000 hosts met it as "Malformed OpenSSH private key". Such pairs are drawn again.
 */
export function ed25519KeyPair() {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

/**
 * The host key, parsed once, signing with one KeyObject: ssh2's own sign hands the key's PEM to
 * crypto.sign, which parses it again for every connection (a quarter of the simulator's CPU at
 * 1,000 hosts). Same key, same signatures; the wrapper keeps ssh2's parsed key as its prototype.
 */
function fastHostKey(privateText) {
  const parsed = utils.parseKey(privateText);
  const keyObject = createPrivateKey(parsed.getPrivatePEM());
  const key = Object.create(parsed);
  key.sign = (data) => {
    try {
      return sign(null, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
    } catch (err) {
      return err;
    }
  };
  return key;
}

export async function startSimServer({ answers = new Map(), upstream, delayMs = 0, hosts = 1, hostKey = ed25519KeyPair() } = {}) {
  const stats = { connections: 0, execs: 0, unanswered: 0, hosts: new Set() };
  let upstreamClient;
  const upstreamReady = upstream ? connectUpstream(upstream).then((c) => (upstreamClient = c)) : undefined;

  const answer = async (command) => {
    if (upstreamReady) {
      await upstreamReady;
      const result = await execUpstream(upstreamClient, command);
      const marker = command.match(MARKER)?.[0];
      const strip = (t) => (marker ? t.split(marker).join(PLACEHOLDER) : t);
      answers.set(normaliseCommand(command), { stdout: strip(result.stdout), stderr: strip(result.stderr), exitCode: result.exitCode });
      return result;
    }
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const replayed = replayAnswer(answers, command);
    if (replayed) return replayed;
    stats.unanswered++;
    const first = command.split('\n')[0].slice(0, 120);
    return { stdout: '', stderr: `hostkit-sim: nothing recorded for this command (re-record): ${first}\n`, exitCode: 127 };
  };

  const clients = new Set();
  const server = new Server({ hostKeys: [{ key: fastHostKey(hostKey.private) }] }, (client) => {
    stats.connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      // Any user, any key: the user name is the simulated host.
      stats.hosts.add(ctx.username);
      ctx.accept();
    });
    client.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec, _reject, info) => {
        const ch = acceptExec();
        stats.execs++;
        ch.on('error', () => undefined);
        answer(info.command).then(
          (r) => {
            if (r.stdout) ch.write(r.stdout);
            if (r.stderr) ch.stderr.write(r.stderr);
            ch.exit(r.exitCode);
            ch.end();
          },
          (err) => {
            ch.stderr.write(`hostkit-sim: ${err.message}\n`);
            ch.exit(255);
            ch.end();
          },
        );
      });
    });
  });
  const listeners = await Promise.all(
    Array.from(
      { length: hosts },
      () =>
        new Promise((resolve, reject) => {
          const l = createServer((socket) => server.injectSocket(socket));
          l.once('error', reject).listen(0, '127.0.0.1', () => resolve(l));
        }),
    ),
  );
  return {
    ports: listeners.map((l) => l.address().port),
    hostKey: hostKey.public.trim().split(/\s+/).slice(0, 2).join(' '),
    stats,
    answers,
    close: async () => {
      upstreamClient?.end();
      for (const c of clients) c.end();
      await Promise.all(listeners.map((l) => new Promise((r) => l.close(() => r()))));
    },
  };
}
