// `node --import ./bench/first-byte.mjs roles/firewall.mjs --check ...`: prints to stderr, at exit,
// when the process (Node's own start included: performance.now() counts from the process' time
// origin) first wrote to a TCP socket, i.e. sent the SSH identification line, and when the first
// byte came back; and the CPU time (user + system) the process had used by then, which a loaded
// machine stretches less than the wall time. Used by bench/check.sh; changes nothing of the run.
import net from 'node:net';

const marks = {};
const cpu = {};
const mark = (name) => {
  if (marks[name] !== undefined) return;
  marks[name] = performance.now();
  const { user, system } = process.cpuUsage();
  cpu[name] = (user + system) / 1000;
};
const { write, connect } = net.Socket.prototype;
net.Socket.prototype.connect = function (...args) {
  mark('connect');
  this.once('data', () => mark('firstRead'));
  return connect.apply(this, args);
};
net.Socket.prototype.write = function (...args) {
  if (this.remotePort) mark('firstWrite');
  return write.apply(this, args);
};
process.on('exit', () => {
  const ms = (k) => (marks[k] === undefined ? '-' : marks[k].toFixed(0));
  const cpuMs = cpu.firstWrite === undefined ? '-' : cpu.firstWrite.toFixed(0);
  process.stderr.write(
    `first-byte: connect ${ms('connect')} ms, first SSH byte sent ${ms('firstWrite')} ms (cpu ${cpuMs} ms), first byte received ${ms('firstRead')} ms\n`,
  );
});
