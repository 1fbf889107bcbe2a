// Creates an embedded database directory in a short-lived process of its own. PGlite's initdb leaves
// several hundred MB of WebAssembly memory behind in the process that ran it; the server then opens the
// finished directory and stays small.
import { PGlite } from '@electric-sql/pglite';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: pglite-init.mjs DATA_DIR\n');
  process.exit(2);
}
const db = await PGlite.create(dataDir);
await db.close();
