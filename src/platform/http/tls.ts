import { constants, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseIpAddress } from './client-ip.ts';

// HTTPS served by Candor itself: TLS 1.2 and 1.3 only, forward-secret AEAD suites only.

/**
 * TLS 1.3 suites are all AEAD with ephemeral key exchange; they are listed so that setting `ciphers` does
 * not leave 1.3 without suites. For TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305: no RSA key
 * exchange (no forward secrecy), no CBC (not AEAD), no finite-field DHE (slow, and weak parameters abound).
 */
export const TLS13_CIPHER_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/** Key-exchange groups in order of preference. */
export const TLS_ECDH_CURVES = 'X25519:prime256v1:secp384r1';

/** Certificate and key files, PEM. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A certificate (with any chain after it) and its private key, checked to belong together. */
export interface TlsCredentials {
  cert: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf certificate, colon-separated hex. */
  fingerprint: string;
}

/** A TLS file that cannot be used; `file` says which one, the message says why in one line. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
  constructor(
    readonly file: 'cert' | 'key',
    message: string,
  ) {
    super(message);
  }
}

// PEM files of a certificate chain or a key are a few kilobytes; anything this large is the wrong file.
const MAX_PEM_BYTES = 1024 * 1024;
// Below this an RSA key no longer gives the 112-bit security that TLS 1.2+ deployments assume.
const MIN_RSA_BITS = 2048;

/** Options for `https.createServer` and `setSecureContext` (which resets whatever it is not given). */
export function tlsServerOptions(credentials: Pick<TlsCredentials, 'cert' | 'key'>): ServerOptions {
  return {
    cert: credentials.cert,
    key: credentials.key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: [...TLS13_CIPHER_SUITES, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
    ecdhCurve: TLS_ECDH_CURVES,
    // Renegotiation only ever served client certificates, which Candor does not use; refusing it removes a
    // denial-of-service lever (TLS 1.3 has no renegotiation at all).
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
}

function readPem(file: string, which: 'cert' | 'key'): string {
  try {
    const size = statSync(file).size;
    if (size > MAX_PEM_BYTES) throw new TlsFileError(which, `${file} is ${size} bytes, too large for a PEM file`);
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof TlsFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') throw new TlsFileError(which, `${file} does not exist`);
    if (code === 'EISDIR') throw new TlsFileError(which, `${file} is a directory, not a PEM file`);
    throw new TlsFileError(which, `${file} is not readable (${code})`);
  }
}

function parseCertificate(pem: string, file: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TlsFileError('cert', `${file} holds no PEM certificate`);
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsFileError('cert', `${file} holds a certificate that cannot be parsed`);
  }
}

function parsePrivateKey(pem: string, file: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new TlsFileError('key', `${file} holds no PEM private key`);
  try {
    return createPrivateKey(pem);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(pem)) {
      throw new TlsFileError('key', `${file} is protected by a passphrase; give Candor an unencrypted key (mode 0600)`);
    }
    throw new TlsFileError('key', `${file} holds a private key that cannot be parsed`);
  }
}

function checkKeyStrength(privateKey: KeyObject, file: string): void {
  const bits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (privateKey.asymmetricKeyType?.startsWith('rsa') && bits !== undefined && bits < MIN_RSA_BITS) {
    throw new TlsFileError('key', `${file} is a ${bits}-bit RSA key; use ${MIN_RSA_BITS} bits or more (or an EC key)`);
  }
}

/**
 * Reads and checks a certificate and key: both PEM, the key is the certificate's and strong enough, and
 * OpenSSL accepts the pair under the server's settings, so a bad file stops the start rather than handshakes.
 */
export function readTlsCredentials(files: TlsFiles): TlsCredentials {
  const cert = readPem(files.certFile, 'cert');
  const key = readPem(files.keyFile, 'key');
  const certificate = parseCertificate(cert, files.certFile);
  const privateKey = parsePrivateKey(key, files.keyFile);
  checkKeyStrength(privateKey, files.keyFile);
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsFileError('key', `${files.keyFile} is not the private key of the certificate in ${files.certFile}`);
  }
  try {
    createSecureContext(tlsServerOptions({ cert, key }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TlsFileError('cert', `${files.certFile} cannot be used: ${reason}`);
  }
  return {
    cert,
    key,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    fingerprint: certificate.fingerprint256,
  };
}

// --- self-signed certificates for trials ---------------------------------------------------------------

export const SELF_SIGNED_CERT_FILE = 'self-signed-cert.pem';
export const SELF_SIGNED_KEY_FILE = 'self-signed-key.pem';

const DAY_MS = 24 * 60 * 60 * 1000;
const SELF_SIGNED_LIFETIME_DAYS = 365;
// A kept certificate is replaced this long before it expires, so a trial never meets an expired one.
const SELF_SIGNED_RENEW_DAYS = 30;

export interface SelfSignedCertificate {
  files: TlsFiles;
  /** True when generated now; false when a kept one was still good. */
  created: boolean;
  names: string[];
  fingerprint: string;
  notAfter: Date;
}

/** The files of the self-signed certificate kept in `dir` (`<data>/tls`). */
export function selfSignedFiles(dir: string): TlsFiles {
  return { certFile: path.join(dir, SELF_SIGNED_CERT_FILE), keyFile: path.join(dir, SELF_SIGNED_KEY_FILE) };
}

function coversName(certificate: X509Certificate, name: string): boolean {
  return parseIpAddress(name) ? certificate.checkIP(name) !== undefined : certificate.checkHost(name) !== undefined;
}

/** The kept certificate, if it is ours to reuse: readable, a matching key, valid for a while, every name. */
function reusableCertificate(files: TlsFiles, names: string[], now: Date): TlsCredentials | undefined {
  try {
    const credentials = readTlsCredentials(files);
    const certificate = new X509Certificate(credentials.cert);
    const fresh =
      credentials.notBefore <= now && credentials.notAfter.getTime() - now.getTime() > SELF_SIGNED_RENEW_DAYS * DAY_MS;
    return fresh && names.every((name) => coversName(certificate, name)) ? credentials : undefined;
  } catch {
    return undefined; // missing or broken: a new one is made
  }
}

/** Writes beside the target and renames, so a reader never sees half a file; owner-only from the start. */
function writePrivateFile(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

async function generateSelfSigned(names: string[], now: Date): Promise<{ cert: string; key: string }> {
  const altNames = names.map((name) =>
    parseIpAddress(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name },
  );
  // Loaded only for --tls-self-signed: the certificate library brings some forty CommonJS modules.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // An hour back: a client whose clock runs slightly behind must not see a certificate from the future.
    notBeforeDate: new Date(now.getTime() - 60 * 60 * 1000),
    notAfterDate: new Date(now.getTime() + SELF_SIGNED_LIFETIME_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * A self-signed certificate for `names` kept in `dir` (0700, files 0600): the kept one while it is good
 * for more than 30 days and covers every name, otherwise a new one (EC P-256, one year).
 */
export async function ensureSelfSignedCertificate(
  dir: string,
  names: string[],
  now = new Date(),
): Promise<SelfSignedCertificate> {
  const files = selfSignedFiles(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kept = reusableCertificate(files, names, now);
  if (kept) return { files, created: false, names, fingerprint: kept.fingerprint, notAfter: kept.notAfter };
  const { cert, key } = await generateSelfSigned(names, now);
  // Should a crash fall between the two writes, the old certificate no longer matches the new key, and the
  // next start makes a new pair.
  writePrivateFile(files.keyFile, key);
  writePrivateFile(files.certFile, cert);
  const made = readTlsCredentials(files);
  return { files, created: true, names, fingerprint: made.fingerprint, notAfter: made.notAfter };
}
