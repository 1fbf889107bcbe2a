import type { Locale } from '../../platform/i18n/locales.ts';
import { messagesFor } from '../../platform/i18n/messages/index.ts';
import type { MailAttachment, OutgoingMail } from '../../platform/mail/outbox.ts';

type Line = { text: string; href?: string };

/** A minimal HTML body; every value goes through the JSX renderer, so request fields cannot become markup. */
function mail(locale: Locale, to: string, subject: string, lines: Line[], attachments?: MailAttachment[]): OutgoingMail {
  const html = `<!doctype html>${(
    <html lang={locale}>
      <body>
        <h1>{subject}</h1>
        {lines.map((l) => (
          <p>{l.href ? <a href={l.href}>{l.text}</a> : l.text}</p>
        ))}
      </body>
    </html>
  )}`;
  const text = lines.map((l) => (l.href ? `${l.text}\n  ${l.href}` : l.text)).join('\n\n');
  return { to, subject, text, html, ...(attachments ? { attachments } : {}) };
}

interface Base {
  company: string;
  to: string;
  locale: Locale;
}

export function verificationMail(m: Base & { link: string }): OutgoingMail {
  const t = messagesFor(m.locale).gatedMail;
  return mail(m.locale, m.to, t.verifySubject(m.company), [
    { text: t.verifyIntro(m.company) },
    { text: m.link, href: m.link },
    { text: t.verifyFooter },
  ]);
}

export function refusedMail(m: Base): OutgoingMail {
  const t = messagesFor(m.locale).gatedMail;
  return mail(m.locale, m.to, t.refusedSubject(m.company), [{ text: t.refused }]);
}

export function signedNdaMail(m: Base & { pdf: Uint8Array }): OutgoingMail {
  const t = messagesFor(m.locale).gatedMail;
  return mail(
    m.locale,
    m.to,
    t.ndaSubject(m.company),
    [{ text: t.ndaText }],
    [{ filename: 'signed-nda.pdf', contentType: 'application/pdf', content: m.pdf }],
  );
}

export function pendingMail(m: Base): OutgoingMail {
  const t = messagesFor(m.locale).gatedMail;
  return mail(m.locale, m.to, t.pendingSubject(m.company), [{ text: t.pending }]);
}

export function approvedMail(m: Base & { link: string; until: string }): OutgoingMail {
  const t = messagesFor(m.locale).gatedMail;
  return mail(m.locale, m.to, t.approvedSubject(m.company), [{ text: t.approved(m.until) }, { text: m.link, href: m.link }]);
}

export function deniedMail(m: Base & { reason: string }): OutgoingMail {
  const t = messagesFor(m.locale).gatedMail;
  return mail(m.locale, m.to, t.deniedSubject(m.company), [{ text: t.denied(m.reason) }]);
}

/** To the approvers (staff read English): who asks for what, and where to decide. */
export function approverMail(m: {
  to: string[];
  company: string;
  requester: string;
  requesterCompany: string;
  link: string;
}): OutgoingMail {
  const subject = `Document request to review: ${m.requesterCompany}`.slice(0, 200);
  return {
    to: m.to,
    subject,
    text: `${m.requester} (${m.requesterCompany}) asks for documents from ${m.company} and has signed the NDA.\n\nDecide here: ${m.link}`,
  };
}
