// `node --import ./bench/first-byte.mjs roles/firewall.mjs --check ...`: prints to stderr, at exit,
// when the process (Node's own start included: performance.now() counts from the process' time
// origin) first wrote to a TCP socket, i.e. sent the SSH identification line, and when the first
// byte came back. Used by bench/check.sh; changes nothing of the run.
import net from 'node:net';

const marks = {};
const mark = (name) => {
  marks[name] ??= performance.now();
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
  process.stderr.write(
    `first-byte: connect ${ms('connect')} ms, first SSH byte sent ${ms('firstWrite')} ms, first byte received ${ms('firstRead')} ms\n`,
  );
});
