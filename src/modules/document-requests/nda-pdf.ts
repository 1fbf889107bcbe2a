import { composePdf } from '../documents/pdf-tools.ts';

/** The signed agreement as a PDF: the exact text, then the signature record (the standard fonts speak Latin-1). */
export function signedNdaPdf(input: {
  company: string;
  text: string;
  version: number;
  sha256: string;
  typedName: string;
  email: string;
  ip: string;
  userAgent: string;
  signedAt: Date;
}): Promise<Uint8Array> {
  const latin = (s: string) =>
    s
      .replace(/[\u2018\u2019]/g, "'")
      .replace(/[\u201c\u201d]/g, '"')
      .replace(/[^\x20-\x7e\xa0-\xff\n]/g, '?');
  return composePdf({
    title: latin(`Non-disclosure agreement with ${input.company}`),
    subtitle: latin(`Signed by ${input.typedName} <${input.email}>`),
    sections: [
      { heading: 'Agreement', paragraphs: input.text.split(/\n\s*\n/).map(latin) },
      {
        heading: 'Signature',
        paragraphs: [
          latin(`Signed by: ${input.typedName}`),
          latin(`Email: ${input.email}`),
          `Signed at (UTC): ${input.signedAt.toISOString()}`,
          latin(`IP address: ${input.ip}`),
          latin(`Browser: ${input.userAgent.slice(0, 300)}`),
          `Agreement version ${input.version}, SHA-256 of its text: ${input.sha256}`,
        ],
      },
    ],
  });
}

export const DEFAULT_NDA_TEXT = `MUTUAL NON-DISCLOSURE AGREEMENT

The documents you receive under this agreement are confidential information of the company that shares them. You agree to use them only to evaluate the security of its services for your organization, to share them only with colleagues and advisers who need them for that purpose and are bound by confidentiality duties at least as strict as these, and not to publish, sell or otherwise disclose them.

These duties last three years from the day you sign, and do not cover information that is or becomes public through no fault of yours, that you already lawfully held, or that you must disclose by law (after telling us where the law allows).

On request you delete the documents and any copies. Each copy is marked with your name and email address.`;
