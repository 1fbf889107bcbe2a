import type { RequestContext } from '../../platform/context.ts';
import type { Locale } from '../../platform/i18n/locales.ts';
import { updateBranding } from './branding.ts';
import { certificatePdf } from './certificate-pdf.ts';
import type { Upload } from './files.ts';
import { DEFAULT_LOCALE, type DocumentInput } from './schema.ts';
import { publishPrepared } from './service.ts';

/*
 * Sample content for the demo tenant: Halcyon Ledger, a fictional company selling online bookkeeping to small
 * firms. Written for Candor; any likeness to a real company's documents is accidental.
 */

const SECTIONS: [string, DocumentInput][] = [
  [
    'overview',
    {
      fields: {
        title: 'Your books are safe with Halcyon Ledger',
        intro:
          'Thousands of small firms keep their invoices, payroll and bank feeds in Halcyon Ledger. This page explains, in plain words, how we protect that data, who else touches it, and how to reach us when something looks wrong.',
      },
    },
  ],
  [
    'security',
    {
      fields: {
        intro: 'The controls below are reviewed every quarter by our security team and once a year by an outside assessor.',
      },
      items: [
        {
          group: 'Encryption',
          title: 'In transit',
          body: 'Every connection uses TLS 1.2 or 1.3 with forward secrecy. Plain HTTP only redirects.',
        },
        {
          group: 'Encryption',
          title: 'At rest',
          body: 'Ledgers, attachments and backups are encrypted with AES-256-GCM under keys kept per customer.',
        },
        {
          group: 'Hosting',
          title: 'Two regions',
          body: 'Production runs in two data centres in the EU; each can carry the whole load alone.',
        },
        {
          group: 'Hosting',
          title: 'Isolation',
          body: 'Each customer’s rows are fenced by row-level security in the database, not only by application code.',
        },
        {
          group: 'Backups',
          title: 'Daily and tested',
          body: 'Encrypted backups every night, checksums verified daily, and a full restore rehearsed every month.',
        },
        {
          group: 'People',
          title: 'Least privilege',
          body: 'Staff reach production only through short-lived, approved sessions with a hardware security key.',
        },
      ],
    },
  ],
  [
    'certifications',
    {
      fields: { intro: 'Reports are available to customers under NDA; ask your account manager or write to compliance.' },
      items: [
        {
          standard: 'ISO/IEC 27001',
          version: '2022',
          issuer: 'Northwind Assurance (fictional)',
          scope: 'Development and operation of the Halcyon Ledger service and its support.',
          validFrom: '2025-03-01',
          validUntil: '2028-02-28',
        },
        {
          standard: 'SOC 2 Type 2',
          version: '2017 TSC',
          issuer: 'Bramble & Finch LLP (fictional)',
          scope: 'Security, availability and confidentiality over a twelve-month period.',
          validFrom: '2025-10-01',
          validUntil: '2026-12-31',
        },
      ],
    },
  ],
  [
    'faq',
    {
      fields: { intro: 'Can’t find your question? Write to security@halcyon-ledger.example.' },
      items: [
        {
          category: 'Data protection',
          question: 'Where is my data stored?',
          answer: 'In two EU data centres. Backups stay in the EU too.',
          slug: 'where-is-my-data-stored',
        },
        {
          category: 'Data protection',
          question: 'Can Halcyon staff read my ledger?',
          answer: 'Only support staff you invite from inside the app, for the time you choose. Every view is logged.',
          slug: 'can-halcyon-staff-read-my-ledger',
        },
        {
          category: 'Accounts',
          question: 'Do you support two-factor sign-in?',
          answer: 'Yes: authenticator apps and security keys. Firm owners can require it for everyone.',
          slug: 'do-you-support-two-factor-sign-in',
        },
        {
          category: 'Accounts',
          question: 'What happens to my data if I leave?',
          answer:
            'You can export everything as CSV at any time. After you close your account we erase it within 30 days; backups age out within 35.',
          slug: 'what-happens-to-my-data-if-i-leave',
        },
      ],
    },
  ],
  [
    'data',
    {
      fields: { intro: 'A summary of our record of processing activities for the people who use Halcyon Ledger.' },
      items: [
        {
          category: 'Account data',
          purposes: 'Signing in, billing and support.',
          legalBasis: 'Contract',
          retention: 'While the account is open, then 30 days',
        },
        {
          category: 'Usage data',
          purposes: 'Security monitoring and fixing faults.',
          legalBasis: 'Legitimate interest',
          retention: '13 months',
        },
        {
          category: 'Invoices and receipts',
          purposes: 'Keeping books on the customer’s behalf.',
          legalBasis: 'Contract (as processor)',
          retention: 'As the customer decides',
        },
      ],
    },
  ],
  [
    'subprocessors',
    {
      fields: { intro: 'We announce changes here at least 30 days before they take effect.' },
      items: [
        {
          name: 'Cirrus Hosting (fictional)',
          purpose: 'Cloud hosting',
          location: 'Germany, Netherlands',
          dataCategories: 'All service data',
          safeguards: 'EU hosting, encryption at rest',
        },
        {
          name: 'Postmark Lane (fictional)',
          purpose: 'Transactional email',
          location: 'Ireland',
          dataCategories: 'Name, email address',
          safeguards: 'Standard contractual clauses',
        },
        {
          name: 'Helpdesk Harbor (fictional)',
          purpose: 'Customer support tickets',
          location: 'France',
          dataCategories: 'Contact data, ticket text',
          safeguards: 'EU hosting',
        },
      ],
    },
  ],
  [
    'updates',
    {
      fields: { intro: 'Security notices and incident reports, newest first.' },
      items: [
        {
          date: '2026-09-14',
          title: 'Security keys for every staff account',
          kind: 'security',
          body: 'All staff access to production now requires a hardware security key.',
        },
        {
          date: '2026-06-02',
          title: 'Bank-feed delays resolved',
          kind: 'incident',
          body: 'Between 09:10 and 10:25 UTC some bank feeds were delayed. No data was lost or exposed.',
        },
      ],
    },
  ],
  [
    'contact',
    {
      fields: {
        intro: 'We answer security reports within one business day.',
        security: 'security@halcyon-ledger.example',
        privacy: 'privacy@halcyon-ledger.example',
        compliance: 'compliance@halcyon-ledger.example',
        postal: 'Halcyon Ledger Ltd (fictional)  \n12 Quay Street  \nExampletown',
      },
    },
  ],
];

const POLICIES: [string, DocumentInput][] = [
  [
    'policy:information-security-policy',
    {
      fields: {
        title: 'Information Security Policy',
        summary: 'The principles every Halcyon team member follows to keep customer data safe.',
        body: '## Purpose\n\nCustomers trust us with their books. This policy sets how we earn that trust.\n\n## Principles\n\n- Give people the least access they need, for the shortest time.\n- Encrypt customer data in transit and at rest.\n- Record who did what, and review it.\n\n## Review\n\nManagement reviews this policy every year.',
      },
    },
  ],
  [
    'policy:incident-response-policy',
    {
      fields: {
        title: 'Incident Response Policy',
        summary: 'How we detect, contain and report security incidents.',
        body: '## Who leads\n\nThe on-call incident commander leads every incident until it is closed.\n\n## Telling customers\n\nWe tell affected customers within 72 hours of confirming an incident that touches their data.',
      },
    },
  ],
];

/** A sub-processor announced ahead (45 days from the demo's creation), shown under "Upcoming changes". */
function announcedSubprocessor(now: Date): Record<string, string> {
  return {
    name: 'Ledgerline Analytics (fictional)',
    purpose: 'Product usage analytics',
    location: 'Finland',
    dataCategories: 'Pseudonymous usage events',
    safeguards: 'EU hosting, data minimisation',
    effectiveFrom: new Date(now.getTime() + 45 * 86_400_000).toISOString().slice(0, 10),
  };
}

/*
 * Translations: Spanish for the sections a visitor reads first, Turkish for the front page. Every other section
 * shows in English in those languages, which is how a real tenant's site looks while its translation is under way.
 */
const TRANSLATIONS: [Locale, string, DocumentInput][] = [
  [
    'es',
    'overview',
    {
      fields: {
        title: 'Sus cuentas están a salvo con Halcyon Ledger',
        intro:
          'Miles de pequeñas empresas llevan sus facturas, nóminas y movimientos bancarios en Halcyon Ledger. Aquí explicamos, sin rodeos, cómo protegemos esos datos, quién más los trata y cómo avisarnos si algo no parece estar bien.',
      },
    },
  ],
  [
    'es',
    'security',
    {
      fields: {
        intro: 'Nuestro equipo de seguridad revisa estos controles cada trimestre, y un auditor externo lo hace una vez al año.',
      },
      items: [
        {
          group: 'Cifrado',
          title: 'En tránsito',
          body: 'Todas las conexiones usan TLS 1.2 o 1.3 con secreto perfecto hacia adelante. El HTTP sin cifrar solo redirige.',
        },
        {
          group: 'Cifrado',
          title: 'En reposo',
          body: 'Libros contables, adjuntos y copias de seguridad se cifran con AES-256-GCM, con claves propias de cada cliente.',
        },
        {
          group: 'Alojamiento',
          title: 'Dos regiones',
          body: 'El servicio funciona en dos centros de datos de la UE; cualquiera de los dos puede asumir toda la carga.',
        },
        {
          group: 'Alojamiento',
          title: 'Aislamiento',
          body: 'Los datos de cada cliente quedan separados por seguridad a nivel de fila en la propia base de datos, no solo por el código de la aplicación.',
        },
        {
          group: 'Copias de seguridad',
          title: 'Diarias y probadas',
          body: 'Copias cifradas cada noche, sumas de verificación comprobadas a diario y una restauración completa ensayada cada mes.',
        },
        {
          group: 'Personas',
          title: 'Mínimo privilegio',
          body: 'El personal solo accede a producción mediante sesiones breves y aprobadas, con una llave de seguridad física.',
        },
      ],
    },
  ],
  [
    'es',
    'faq',
    {
      fields: { intro: '¿No encuentra su pregunta? Escríbanos a security@halcyon-ledger.example.' },
      items: [
        {
          category: 'Protección de datos',
          question: '¿Dónde se guardan mis datos?',
          answer: 'En dos centros de datos de la UE. Las copias de seguridad tampoco salen de la UE.',
          slug: 'donde-se-guardan-mis-datos',
        },
        {
          category: 'Protección de datos',
          question: '¿Puede el personal de Halcyon leer mis cuentas?',
          answer:
            'Solo el personal de soporte al que usted invite desde la aplicación, y durante el tiempo que usted decida. Cada consulta queda registrada.',
          slug: 'puede-el-personal-de-halcyon-leer-mis-cuentas',
        },
        {
          category: 'Cuentas',
          question: '¿Admiten el inicio de sesión en dos pasos?',
          answer:
            'Sí: con aplicaciones de autenticación y con llaves de seguridad. Los propietarios de la cuenta de empresa pueden exigirlo a todo el equipo.',
          slug: 'admiten-el-inicio-de-sesion-en-dos-pasos',
        },
        {
          category: 'Cuentas',
          question: '¿Qué pasa con mis datos si me doy de baja?',
          answer:
            'Puede exportarlo todo en CSV cuando quiera. Tras cerrar la cuenta, borramos sus datos en un plazo de 30 días; las copias de seguridad caducan en 35.',
          slug: 'que-pasa-con-mis-datos-si-me-doy-de-baja',
        },
      ],
    },
  ],
  [
    'es',
    'contact',
    {
      fields: {
        intro: 'Respondemos a los avisos de seguridad en un día laborable como máximo.',
        security: 'security@halcyon-ledger.example',
        privacy: 'privacy@halcyon-ledger.example',
        compliance: 'compliance@halcyon-ledger.example',
        postal: 'Halcyon Ledger Ltd (ficticia)  \n12 Quay Street  \nExampletown',
      },
    },
  ],
  [
    'tr',
    'overview',
    {
      fields: {
        title: 'Defterleriniz Halcyon Ledger’da güvende',
        intro:
          'Binlerce küçük işletme faturalarını, bordrolarını ve banka hareketlerini Halcyon Ledger’da tutuyor. Bu sayfada bu verileri nasıl koruduğumuzu, başka kimlerin işlediğini ve bir sorun fark ettiğinizde bize nasıl ulaşacağınızı sade bir dille anlatıyoruz.',
      },
    },
  ],
];

/** A certificate file for each demo certification, written fresh as a one-page PDF. */
function demoCertificates(input: DocumentInput): Map<number, Upload> {
  const files = new Map<number, Upload>();
  for (const [i, item] of (input.items ?? []).entries()) {
    const bytes = certificatePdf([
      'Certificate of conformity (demo)',
      `${item.standard ?? ''} ${item.version ?? ''}`.trim(),
      'Halcyon Ledger Ltd (fictional company)',
      `Scope: ${item.scope ?? ''}`,
      `Issued by ${item.issuer ?? ''}`,
      `Valid from ${item.validFrom ?? ''} until ${item.validUntil ?? ''}`,
      'Sample document generated by Candor for its demo; it certifies nothing.',
    ]);
    const name = `${(item.standard ?? 'certificate').replace(/[^A-Za-z0-9]+/g, '-')}-certificate.pdf`;
    files.set(i, { bytes, filename: name, declaredType: 'application/pdf' });
  }
  return files;
}

/** Fills every section of the demo tenant's Trust Center and publishes it, with some sections translated. */
export async function publishDemoContent(ctx: RequestContext): Promise<void> {
  for (const [section, input] of SECTIONS) {
    const files = section === 'certifications' ? demoCertificates(input) : new Map<number, Upload>();
    const items = section === 'subprocessors' ? [...(input.items ?? []), announcedSubprocessor(ctx.clock.now())] : input.items;
    await publishPrepared(ctx, section, { ...input, items }, null, DEFAULT_LOCALE, files);
  }
  for (const [section, input] of POLICIES) await publishPrepared(ctx, section, input, 'Maya Okafor (demo approver)');
  for (const [locale, section, input] of TRANSLATIONS) await publishPrepared(ctx, section, input, null, locale);
  // Halcyon’s ledger green: 7.3:1 against the page background, well above WCAG AA.
  await updateBranding(ctx, { displayName: 'Halcyon Ledger', primaryColor: '#0b5d4b', accentColor: '#0a5a8c' });
}
