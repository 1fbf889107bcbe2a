import type { RequestContext } from '../../platform/context.ts';
import type { ComposeOptions } from './compose.ts';
import { composePdf } from './pdf-tools.ts';
import { createDocument, uploadVersion } from './service.ts';

interface DemoDocument {
  title: string;
  description: string;
  accessLevel: 'public' | 'nda' | 'approval';
  filename: string;
  pdf: ComposeOptions;
}

const COMPANY = 'Halcyon Ledger';

const DEMO_DOCUMENTS: DemoDocument[] = [
  {
    title: 'SOC 2 Type II report 2026',
    description:
      'The independent auditor’s report on our controls for security, availability and confidentiality, covering 1 April 2025 to 31 March 2026.',
    accessLevel: 'nda',
    filename: 'halcyon-ledger-soc2-type2-2026.pdf',
    pdf: {
      title: `${COMPANY} - SOC 2 Type II report`,
      subtitle: 'Report on controls relevant to security, availability and confidentiality, 1 April 2025 to 31 March 2026',
      sections: [
        {
          heading: 'Section 1: Independent service auditor’s report',
          paragraphs: [
            'We examined the description of the bookkeeping platform of Halcyon Ledger (the service organisation) and the suitability of the design and operating effectiveness of its controls throughout the period.',
            'In our opinion, in all material respects, the description presents the system as designed and implemented, and the controls operated effectively to meet the stated service commitments and system requirements.',
            'This fictional report was written for the Candor demonstration. It describes no real company and no real examination.',
          ],
        },
        {
          heading: 'Section 2: Management’s assertion',
          paragraphs: [
            'Management of Halcyon Ledger is responsible for designing, implementing and operating controls that provide reasonable assurance that the service commitments were achieved.',
            'The platform records invoices, payments and ledgers for small firms. It runs in two cloud regions in the European Union, with customer data encrypted at rest and in transit.',
          ],
        },
        {
          heading: 'Section 3: Description of the system',
          paragraphs: [
            'People: an engineering team of twenty-four, a security team of three and an on-call rotation shared by senior engineers. Security awareness training is completed at hiring and every year.',
            'Software: a web application, a public API and background workers, deployed from a single repository through an automated pipeline that requires review and passing tests.',
            'Data: ledgers, invoices, bank statement imports and user accounts. Bank credentials are never stored; statement imports use read-only tokens issued by the customer’s bank.',
            'Procedures: access requests are approved by a manager and the security team; access is reviewed each quarter and removed within one business day of a departure.',
          ],
        },
        {
          heading: 'Section 4: Trust services criteria, controls and tests of operating effectiveness',
          paragraphs: [
            'CC6.1 Logical access. Production access requires single sign-on with a hardware security key. Tested by inspecting the identity provider configuration and a sample of 25 sign-ins. No exceptions noted.',
            'CC6.6 Boundary protection. Only the load balancers accept traffic from the internet; administrative interfaces are reachable through the VPN only. Tested by inspecting network rules. No exceptions noted.',
            'CC7.2 Monitoring. Security events are collected centrally and alerts page the on-call engineer. Tested by inspecting alert rules and three incidents. No exceptions noted.',
            'CC8.1 Change management. Every change is reviewed by a second engineer before release. Tested on a sample of 40 changes. One change was merged with a review given after the merge; management has since enforced review in the repository settings.',
            'A1.2 Availability. Backups run every six hours and a restore is tested monthly. Tested by inspecting twelve restore records. No exceptions noted.',
            'C1.1 Confidentiality. Customer data is classified as confidential and encrypted with keys rotated yearly. Tested by inspecting key management configuration. No exceptions noted.',
          ],
        },
        {
          heading: 'Section 5: Complementary user entity controls',
          paragraphs: [
            'Customers are responsible for granting access to their own staff, removing access when people leave, and keeping their single sign-on configuration secure.',
          ],
        },
      ],
    },
  },
  {
    title: 'Penetration test summary',
    description:
      'Summary of the October 2026 external penetration test of the web application and API, with the status of each finding.',
    accessLevel: 'approval',
    filename: 'halcyon-ledger-pentest-summary-2026-10.pdf',
    pdf: {
      title: `${COMPANY} - Penetration test summary`,
      subtitle: 'External test of the web application and public API, 6 to 17 October 2026 (fictional)',
      sections: [
        {
          heading: 'Scope and method',
          paragraphs: [
            'Testers from an independent firm examined the customer web application, the public API and the sign-in service, with two test accounts per role, following the OWASP Web Security Testing Guide.',
            'Infrastructure outside the application, social engineering and denial of service were out of scope.',
          ],
        },
        {
          heading: 'Findings',
          paragraphs: [
            'Medium - Invoice export accepted a crafted file name that reached the response header. Fixed on 20 October 2026 by rejecting control characters; retested and closed.',
            'Low - Session cookies on the marketing site lacked the SameSite attribute. Fixed on 22 October 2026; retested and closed.',
            'Low - Verbose error messages revealed framework versions on two API endpoints. Fixed on 24 October 2026; retested and closed.',
            'Informational - Rate limits on the password reset form could be tightened. Accepted; the limit was lowered from 20 to 5 requests per hour.',
          ],
        },
        {
          heading: 'Conclusion',
          paragraphs: [
            'No critical or high findings were identified. All medium and low findings were fixed and verified by the testers before this summary was issued.',
          ],
        },
      ],
    },
  },
  {
    title: 'Security whitepaper',
    description: 'How we protect customer data: architecture, encryption, access, monitoring and incident response.',
    accessLevel: 'public',
    filename: 'halcyon-ledger-security-whitepaper.pdf',
    pdf: {
      title: `${COMPANY} - Security whitepaper`,
      subtitle: 'How we protect the books of the firms that trust us (November 2026)',
      sections: [
        {
          heading: 'Architecture',
          paragraphs: [
            'Halcyon Ledger runs in two European Union regions. Each customer’s data is separated by tenant identifiers enforced in the database itself, not only in application code.',
            'Every service runs with the least privilege it needs, and no engineer has standing access to production data.',
          ],
        },
        {
          heading: 'Encryption',
          paragraphs: [
            'Traffic is encrypted with TLS 1.2 or later. Data at rest is encrypted with AES-256, with keys held in a managed key service and rotated every year.',
            'Attachments such as receipts and bank statements are encrypted with a key per customer before they reach storage.',
          ],
        },
        {
          heading: 'Access and monitoring',
          paragraphs: [
            'Staff sign in with single sign-on and a hardware security key. Access is granted by role, approved, and reviewed every quarter.',
            'Security events feed a central log with alerts that page the on-call engineer around the clock.',
          ],
        },
        {
          heading: 'Incident response',
          paragraphs: [
            'A written plan names who leads, who communicates and who investigates. We tell affected customers without undue delay, and within 72 hours when personal data is involved.',
          ],
        },
      ],
    },
  },
];

/** The demo tenant's gated documents: a SOC 2 report (NDA), a penetration test summary (approval), a whitepaper. */
export async function addDemoDocuments(ctx: RequestContext): Promise<void> {
  for (const d of DEMO_DOCUMENTS) {
    const document = await createDocument(ctx, { title: d.title, description: d.description, accessLevel: d.accessLevel });
    await uploadVersion(ctx, document.id, {
      filename: d.filename,
      bytes: await composePdf({ ...d.pdf, cover: true }),
      note: 'First published version',
    });
  }
}
