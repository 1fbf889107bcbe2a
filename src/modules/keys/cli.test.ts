import { randomBytes } from 'node:crypto';
import { renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCandor, startCandor, tempDataDir } from '../../../test/cli.ts';
import { testEngine } from '../../../test/db.ts';
import { masterKeyFromFile } from '../../platform/crypto/master-key.ts';

// Real `candor` processes on the embedded engine (the generated key file exists only there).
const onPglite = describe.skipIf(testEngine !== 'pglite');
// Each test starts several processes one after another; a busy machine makes each take seconds.
const SLOW = 300_000;

/** The one line a refused start prints, asserting it is the only one. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

onPglite('the master key of an embedded install', () => {
  it(
    'is generated on first start into the data directory, owner-only, with a loud warning; without it a restart refuses',
    async () => {
      const dataDir = tempDataDir();
      const server = await startCandor({ dataDir, startTimeoutMs: 150_000 });
      await server.stop();
      expect(server.output()).toContain('!!! Candor generated a new master key');
      const keyFile = path.join(dataDir, 'master.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);

      // The key file is gone but the data is there: never a new key, a clear refusal instead.
      renameSync(keyFile, `${keyFile}.away`);
      const refused = await runCandor(['start'], { CANDOR_DATA_DIR: dataDir, PORT: '0' });
      expect(refused.code).toBe(1);
      expect(oneLine(refused.stderr)).toMatch(
        /^candor: no master key: .*master\.key is missing and CANDOR_MASTER_KEY is not set, but the data directory holds data; restore the key you backed up$/,
      );
      expect(() => statSync(keyFile)).toThrow();

      // A wrong key in the environment is refused too, naming where it came from.
      const wrong = await runCandor(['start'], {
        CANDOR_DATA_DIR: dataDir,
        PORT: '0',
        CANDOR_MASTER_KEY: randomBytes(32).toString('base64'),
      });
      expect(wrong.code).toBe(1);
      expect(oneLine(wrong.stderr)).toMatch(
        /^candor: the master key from CANDOR_MASTER_KEY \(id [0-9a-f]{16}\) is not the key this database was encrypted with \(id [0-9a-f]{16}\); Candor will not start with it$/,
      );
      const garbled = await runCandor(['keys', 'status'], { CANDOR_DATA_DIR: dataDir, CANDOR_MASTER_KEY: 'not base64!' });
      expect(garbled.code).toBe(1);
      expect(oneLine(garbled.stderr)).toBe('candor: CANDOR_MASTER_KEY: the master key must be base64 (32 bytes)');

      renameSync(`${keyFile}.away`, keyFile);
      const status = await runCandor(['keys', 'status'], { CANDOR_DATA_DIR: dataDir });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`from ${keyFile}`);
    },
    SLOW,
  );

  it(
    'is replaced through a running server, which switches at once; a restart needs the new key and refuses the old',
    async () => {
      const dataDir = tempDataDir();
      const newKeyFile = path.join(path.dirname(dataDir), 'new-master.key');
      writeFileSync(newKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
      const next = masterKeyFromFile(newKeyFile);
      const env = { CANDOR_DATA_DIR: dataDir };
      const server = await startCandor({ dataDir, startTimeoutMs: 150_000 });
      try {
        // Through the control socket: the server holds the data directory.
        const rotated = await runCandor(['keys', 'rotate', '--tenant', 'default', '--wait'], env);
        expect(rotated.stdout).toContain('default: new writes now use data key v2 (from v1).');
        const rewrapped = await runCandor(['keys', 'rotate', '--new-master-key-file', newKeyFile], env);
        expect(rewrapped.code).toBe(0);
        expect(rewrapped.stdout).toContain(`Re-wrapped 3 tenant keys of 1 tenant under master key ${next.id}`);
        expect(rewrapped.stderr).toContain(`set CANDOR_MASTER_KEY_FILE=${newKeyFile}`);
        expect(rewrapped.stderr).toContain(`or replace ${path.join(dataDir, 'master.key')} with the new key`);
        // The running server already works with the new key.
        const after = await runCandor(['keys', 'rotate', '--tenant', 'default', '--wait'], env);
        expect(after.code).toBe(0);
        expect(after.stdout).toContain('default: new writes now use data key v3 (from v2).');
        const status = await runCandor(['keys', 'status'], env);
        expect(status.stdout.split('\n')[0]).toBe(`master key ${next.id} from ${newKeyFile}`);
      } finally {
        await server.stop();
      }

      const old = await runCandor(['start'], { ...env, PORT: '0' });
      expect(old.code).toBe(1);
      expect(oneLine(old.stderr)).toMatch(new RegExp(`is not the key this database was encrypted with \\(id ${next.id}\\)`));
      const restarted = await startCandor({ dataDir, env: { CANDOR_MASTER_KEY_FILE: newKeyFile }, startTimeoutMs: 150_000 });
      await restarted.stop();
      const status = await runCandor(['keys', 'status'], { ...env, CANDOR_MASTER_KEY_FILE: newKeyFile });
      expect(status.stdout).toMatch(/default\tdata key v1 retired, v2 retired, v3 active\tup to date/);
    },
    SLOW,
  );
});
