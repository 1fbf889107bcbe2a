import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonValue } from './canonical.ts';
import { ed25519PublicKey, verifyLines } from './verify.ts';

// The published test vectors (docs/audit-log-test-vectors.jsonl) must stay valid for this code, and the
// examples quoted in docs/audit-log-format.md must stay true.
const lines = readFileSync(new URL('../../../docs/audit-log-test-vectors.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n');
const doc = readFileSync(new URL('../../../docs/audit-log-format.md', import.meta.url), 'utf8');
const RFC8032_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex').toString('base64');

describe('published audit format test vectors', () => {
  it('verify against the RFC 8032 test key', async () => {
    const result = await verifyLines(lines, ed25519PublicKey(RFC8032_PUBLIC));
    expect(result).toMatchObject({ ok: true, events: 3, checkpoints: 1, anchor: 'genesis', signaturesTrusted: true });
  });

  it('match the canonical form and hashes quoted in the format document', () => {
    const { kind: _k, hash, ...first } = JSON.parse(lines[1] ?? '{}') as Record<string, JsonValue>;
    expect(doc).toContain(canonicalJson(first));
    expect(doc).toContain(String(hash));
    for (const line of lines.slice(2, 4)) expect(doc).toContain(String(JSON.parse(line).hash));
  });

  it('fail after any single changed character in an event, a checkpoint or a signature', async () => {
    for (const [index, from, to] of [
      [2, 'dana@halcyon.example', 'dana@halcyon.exampl3'],
      [4, '"seq":3', '"seq":2'],
      [4, '"signature":"M', '"signature":"N'],
      [3, '"expiresInDays":90', '"expiresInDays":91'],
    ] as const) {
      const changed = [...lines];
      changed[index] = (changed[index] ?? '').replace(from, to);
      expect(changed[index]).not.toBe(lines[index]);
      expect((await verifyLines(changed, ed25519PublicKey(RFC8032_PUBLIC))).ok).toBe(false);
    }
  });
});
