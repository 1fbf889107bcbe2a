// The reference for /healthz throughput: a bare node:http server answering the same bytes Candor does.
// It runs in its own process, like Candor, so it never shares an event loop with the load generator.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = JSON.stringify({ status: 'ok' });

const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
  response.end(BODY);
});

server.listen(0, '127.0.0.1', () => {
  // The bench reads the port from this line.
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});

process.once('SIGTERM', () => server.close(() => process.exit(0)));
