// The Node.js ceiling for the Trust Center bench: a bare node:http server answering with the very bytes and
// headers Candor sent for the page (its 200 and its 304), plus a fresh request id each time as Candor does.
// It runs in its own process, like Candor, so it never shares an event loop with the load generator.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Recorded {
  body: string;
  etag: string;
  full: Record<string, string>;
  notModified: Record<string, string>;
}

const recorded = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Recorded;
const body = Buffer.from(recorded.body);

const server = http.createServer((request, response) => {
  const notModified = request.headers['if-none-match'] === recorded.etag;
  response.writeHead(notModified ? 304 : 200, {
    ...(notModified ? recorded.notModified : recorded.full),
    'x-request-id': randomUUID(),
    ...(notModified ? {} : { 'content-length': body.length }),
  });
  response.end(notModified ? undefined : body);
});
server.keepAliveTimeout = 5_000;

server.listen(0, '127.0.0.1', () => {
  // The bench reads the port from this line.
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});

process.once('SIGTERM', () => server.close(() => process.exit(0)));
