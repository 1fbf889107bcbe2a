/**
 * What an uploaded file is, decided from its bytes and checked against its name: a PDF must start with
 * `%PDF-`; an Office file is a ZIP (`PK`) holding its format's main part; a `.zip` is any ZIP. A file whose
 * content and name disagree is refused, whatever the browser said its type was.
 */

export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

export type FileKind = 'pdf' | 'xlsx' | 'docx' | 'pptx' | 'zip';

export const CONTENT_TYPES: Record<FileKind, string> = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
};

export const KIND_LABELS: Record<FileKind, string> = {
  pdf: 'PDF',
  xlsx: 'Excel workbook',
  docx: 'Word document',
  pptx: 'PowerPoint presentation',
  zip: 'ZIP archive',
};

/** The part every file of an Office format contains. */
const OFFICE_MAIN_PART: Partial<Record<FileKind, string>> = {
  xlsx: 'xl/workbook.xml',
  docx: 'word/document.xml',
  pptx: 'ppt/presentation.xml',
};

export class FileRefused extends Error {
  override name = 'FileRefused';
}

const CONTROL = /\p{Cc}/u;

/** The last path segment, trimmed; refused when empty, too long or carrying control characters. */
export function cleanFilename(raw: string): string {
  const name = raw.split(/[\\/]/).pop()?.trim() ?? '';
  if (name === '' || name === '.' || name === '..') throw new FileRefused('the file needs a name');
  if (name.length > 200) throw new FileRefused('the file name is longer than 200 characters');
  if (CONTROL.test(name)) throw new FileRefused('the file name contains control characters');
  return name;
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 1 ? '' : filename.slice(dot + 1).toLowerCase();
}

function startsWith(bytes: Uint8Array, signature: string): boolean {
  if (bytes.length < signature.length) return false;
  for (let i = 0; i < signature.length; i++) if (bytes[i] !== signature.charCodeAt(i)) return false;
  return true;
}

const EOCD = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;

/** Names in a ZIP's central directory (empty when it has none we can read: not a well-formed ZIP). */
export function zipEntryNames(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is in the last 22 bytes plus at most a 65,535-byte comment.
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) return [];
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  const names: string[] = [];
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (offset + 46 > bytes.length || view.getUint32(offset, true) !== CENTRAL_ENTRY) return [];
    const nameLength = view.getUint16(offset + 28, true);
    const extra = view.getUint16(offset + 30, true);
    const comment = view.getUint16(offset + 32, true);
    if (offset + 46 + nameLength > bytes.length) return [];
    names.push(decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength)));
    offset += 46 + nameLength + extra + comment;
  }
  return names;
}

function contentKind(bytes: Uint8Array): 'pdf' | 'zip' | undefined {
  if (startsWith(bytes, '%PDF-')) return 'pdf';
  if (startsWith(bytes, 'PK\x03\x04') || startsWith(bytes, 'PK\x05\x06')) return 'zip';
  return undefined;
}

/** The file's kind when its content and its name's extension agree; FileRefused (why, in words) otherwise. */
export function identifyFile(filename: string, bytes: Uint8Array): FileKind {
  const extension = extensionOf(filename);
  const found = contentKind(bytes);
  const allowed = ['pdf', 'xlsx', 'docx', 'pptx', 'zip'];
  if (!allowed.includes(extension)) {
    throw new FileRefused('only PDF, Excel (.xlsx), Word (.docx), PowerPoint (.pptx) and ZIP files can be uploaded');
  }
  const claimed = extension as FileKind;
  if (claimed === 'pdf') {
    if (found !== 'pdf') throw new FileRefused('the file is named .pdf but its content is not a PDF');
    return 'pdf';
  }
  if (found !== 'zip') {
    throw new FileRefused(
      `the file is named .${extension} but its content is not a${claimed === 'zip' ? ' ZIP archive' : 'n Office file'}`,
    );
  }
  const names = zipEntryNames(bytes);
  if (names.length === 0) throw new FileRefused('the file looks like a ZIP archive but cannot be read; it may be damaged');
  const mainPart = OFFICE_MAIN_PART[claimed];
  if (mainPart && !(names.includes(mainPart) && names.includes('[Content_Types].xml'))) {
    throw new FileRefused(
      `the file is named .${extension} but its content is not a${claimed === 'xlsx' ? 'n' : ''} ${KIND_LABELS[claimed]}`,
    );
  }
  return claimed;
}
