// A real S3-protocol server (s3rver) for tests, in a process of its own: s3rver signs listing
// continuation tokens with DES, which Node's OpenSSL 3 only offers with --openssl-legacy-provider,
// a flag the test workers themselves should not run with.
import S3rver from 's3rver';

const { directory, buckets } = JSON.parse(process.argv[2] ?? '{}');
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
// The test process went away without stopping us: stop too.
process.stdin.on('end', stop);
process.stdin.resume();
