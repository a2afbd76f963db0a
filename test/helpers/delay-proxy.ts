// A TCP proxy that delays every chunk by a fixed time in each direction: the multi-host rig's
// slow link (this kernel has no netem). Run as a process of its own, so the test's event loop
// never adds to the delay:
//   node --import tsx test/helpers/delay-proxy.ts <listen address> <target address> <target port> <delay ms> [listen port]
// Prints "listening <port>" once it accepts connections. Each chunk is sent on `delay` ms after
// it arrived; every timer has the same duration, so chunks keep their order. Exits on SIGTERM or,
// when its stdin is a pipe, once that pipe closes.
import { fstatSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

const [listenAddress, targetAddress, targetPortText, delayText, listenPortText] = process.argv.slice(2);
const targetPort = Number(targetPortText);
const delayMs = Number(delayText);
if (!listenAddress || !targetAddress || !Number.isInteger(targetPort) || !(delayMs >= 0)) {
  console.error('usage: delay-proxy.ts <listen address> <target address> <target port> <delay ms>');
  process.exit(2);
}

const sockets = new Set<Socket>();

function pipeDelayed(from: Socket, to: Socket): void {
  from.on('data', (chunk) => {
    // Delay 0 (a plain forwarder): no timer at all, as a timer would add a millisecond or so.
    if (delayMs === 0) to.write(chunk);
    else
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delayMs + 1));
}

const server = createServer((client) => {
  const upstream = connect({ host: targetAddress, port: targetPort });
  for (const s of [client, upstream]) {
    s.setNoDelay(true);
    s.setKeepAlive(true, 10_000);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  }
  pipeDelayed(client, upstream);
  pipeDelayed(upstream, client);
});

server.listen(Number(listenPortText ?? 0), listenAddress, () => {
  const { port } = server.address() as { port: number };
  console.log(`listening ${port}`);
});

const shutdown = () => {
  server.close();
  for (const s of sockets) s.destroy();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
if (fstatSync(0).isFIFO()) {
  // Started with a pipe as stdin (the rig does): the parent's end closes it.
  process.stdin.on('end', shutdown);
  process.stdin.resume();
}
