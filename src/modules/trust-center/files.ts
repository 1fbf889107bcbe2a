import { InvalidInput, PayloadTooLarge } from '../../platform/errors.ts';

/** A file as it arrived: its bytes and what the sender called it (both untrusted). */
export interface Upload {
  bytes: Uint8Array;
  filename: string;
  declaredType: string;
}

export interface FileKind {
  contentType: string;
  extensions: readonly string[];
  label: string;
  /** The file's first bytes, as every file of the kind starts. */
  magic: readonly number[];
}

export const PDF: FileKind = {
  contentType: 'application/pdf',
  extensions: ['pdf'],
  label: 'PDF',
  magic: [0x25, 0x50, 0x44, 0x46, 0x2d],
};
export const PNG: FileKind = {
  contentType: 'image/png',
  extensions: ['png'],
  label: 'PNG',
  magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
};
export const JPEG: FileKind = {
  contentType: 'image/jpeg',
  extensions: ['jpg', 'jpeg'],
  label: 'JPEG',
  magic: [0xff, 0xd8, 0xff],
};
/** WebP: `RIFF` then four size bytes then `WEBP`; the size bytes are checked separately. */
export const WEBP: FileKind = { contentType: 'image/webp', extensions: ['webp'], label: 'WebP', magic: [0x52, 0x49, 0x46, 0x46] };

export const CERTIFICATE_KINDS = [PDF, PNG, JPEG] as const;
export const MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024;

const ALL_KINDS = [PDF, PNG, JPEG, WEBP];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

/** The kind the bytes are, among `kinds`, judged by their content alone. */
export function sniffKind(bytes: Uint8Array, kinds: readonly FileKind[]): FileKind | undefined {
  return kinds.find((k) =>
    k === WEBP ? startsWith(bytes, k.magic) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8) : startsWith(bytes, k.magic),
  );
}

function extensionOf(filename: string): string {
  const match = /\.([A-Za-z0-9]{1,8})$/.exec(filename.trim());
  return match?.[1]?.toLowerCase() ?? '';
}

/**
 * Checks an upload against the accepted kinds by its bytes: too large is 413; anything else, or a file whose
 * name or declared type says one known kind while its bytes are another (mislabelled), is 422 on `field`.
 */
export function checkUpload(upload: Upload, kinds: readonly FileKind[], maxBytes: number, field: string): FileKind {
  if (upload.bytes.length > maxBytes) {
    throw new PayloadTooLarge(`the file is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`);
  }
  const accepted = kinds.map((k) => k.label).join(', ');
  const refuse = (message: string): never => {
    throw new InvalidInput(message, { [field]: message });
  };
  if (upload.bytes.length === 0) refuse('the file is empty');
  const kind = sniffKind(upload.bytes, kinds) ?? refuse(`the file is not a ${accepted} file`);
  const named = ALL_KINDS.find((k) => k.extensions.includes(extensionOf(upload.filename)));
  if (named && named !== kind) refuse(`the file is named .${extensionOf(upload.filename)} but its content is ${kind.label}`);
  const declared = ALL_KINDS.find((k) => k.contentType === upload.declaredType.split(';')[0]?.trim().toLowerCase());
  if (declared && declared !== kind) refuse(`the file was sent as ${declared.label} but its content is ${kind.label}`);
  return kind;
}

/**
 * A file name safe in a Content-Disposition header and on any disk: the editor's name reduced to letters,
 * digits, dots, dashes and underscores, with the extension of what the file really is.
 */
export function safeFilename(name: string | null, kind: FileKind, fallback: string): string {
  const base = (name ?? '')
    .split(/[\\/]/)
    .pop()
    ?.normalize('NFKD')
    .replace(/\.[A-Za-z0-9]{1,8}$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 100);
  return `${base || fallback}.${kind.extensions[0]}`;
}

export function kindOfType(contentType: string): FileKind | undefined {
  return ALL_KINDS.find((k) => k.contentType === contentType);
}

/** A cleaned name to keep with the blob: control characters out, length bounded (it is shown to editors). */
export function storedFilename(name: string): string {
  const cleaned = name
    .replace(/\p{Cc}/gu, '')
    .split(/[\\/]/)
    .pop()
    ?.trim()
    .slice(0, 200);
  return cleaned || 'file';
}
