import { formatDate } from '../../platform/i18n/format.ts';
import type { Locale } from '../../platform/i18n/locales.ts';
import { messagesFor } from '../../platform/i18n/messages/index.ts';
import type { OutgoingMail } from '../../platform/mail/outbox.ts';
import type { Topic } from './schema.ts';

type Item = Record<string, string>;

/** What a publish changed, as subscribers and webhooks are told. */
export type Change = { topic: 'updates'; updates: Item[] } | { topic: 'subprocessors'; added: Item[]; removed: Item[] };

/** A line of a notice whose text is an entry in another language than the mail (English in place of a translation). */
type Line = { text: string; href?: string | undefined; lang?: string | undefined };

/** A minimal HTML body; every value goes through the JSX renderer, so text from editors cannot become markup. */
function htmlOf(locale: Locale, title: string, lines: Line[], footer: string): string {
  return `<!doctype html>${(
    <html lang={locale}>
      <body>
        <h1>{title}</h1>
        {lines.map((l) => (
          <p lang={l.lang}>{l.href ? <a href={l.href}>{l.text}</a> : l.text}</p>
        ))}
        <p style="color:#666">{footer}</p>
      </body>
    </html>
  )}`;
}

/** `a and b` in the mail's language, lower-cased as they sit inside a sentence. */
function topicsInSentence(locale: Locale, topics: Topic[]): string {
  const t = messagesFor(locale);
  return topics.map((topic) => t.subscribe.topics[topic].toLocaleLowerCase(locale)).join(` ${t.subscriptionMail.and} `);
}

export function confirmationMail(input: {
  companyName: string;
  to: string;
  link: string;
  topics: Topic[];
  locale: Locale;
}): OutgoingMail {
  const t = messagesFor(input.locale).subscriptionMail;
  const subject = t.confirmSubject(input.companyName);
  const intro = t.confirmIntro(topicsInSentence(input.locale, input.topics), input.companyName);
  return {
    to: input.to,
    subject,
    text: [intro, '', `${t.confirmHere} ${input.link}`, '', t.confirmFooter].join('\n'),
    html: htmlOf(input.locale, subject, [{ text: intro }, { text: t.confirmLink, href: input.link }], t.confirmFooter),
  };
}

/**
 * The entries of a change as the subscriber's language has them: the same update (by slug) or sub-processor
 * (by name) from that language's published list, else the English entry, marked as English.
 */
export interface LocalizedChange {
  change: Change;
  /** Entries taken from the subscriber's language; the others are English. */
  translated: Set<Item>;
}

function changeLines(
  locale: Locale,
  { change, translated }: LocalizedChange,
  links: { updates: string; subprocessors: string },
): Line[] {
  const t = messagesFor(locale).subscriptionMail;
  const lang = (item: Item) => (locale === 'en' || translated.has(item) ? undefined : 'en');
  if (change.topic === 'updates') {
    return change.updates.map((u) => ({
      text: `${formatDate(u.date ?? '', locale)}: ${u.title}`,
      href: `${links.updates}#${u.slug}`,
      lang: lang(u),
    }));
  }
  return [
    ...change.added.map((s) => {
      const details = [s.purpose, s.location].filter(Boolean).join(', ');
      const effective = s.effectiveFrom ? `, ${t.effective(formatDate(s.effectiveFrom, locale))}` : '';
      return { text: `${t.added(s.name ?? '', details)}${effective}`, lang: lang(s) };
    }),
    ...change.removed.map((s) => ({ text: t.removed(s.name ?? ''), lang: lang(s) })),
    { text: t.fullList, href: links.subprocessors },
  ];
}

/** The notification: RFC 8058 one-click unsubscribe headers point at the subscriber's own link. */
export function changeMail(input: {
  companyName: string;
  to: string;
  locale: Locale;
  /** Where the updates and sub-processor pages are in the subscriber's language. */
  links: { updates: string; subprocessors: string };
  change: LocalizedChange;
  unsubscribeUrl: string;
}): OutgoingMail {
  const messages = messagesFor(input.locale);
  const t = messages.subscriptionMail;
  const change = input.change.change;
  const subject =
    change.topic === 'updates'
      ? t.updateSubject(input.companyName, change.updates.map((u) => u.title).join(', ')).slice(0, 200)
      : t.subprocessorSubject(input.companyName);
  const lines = changeLines(input.locale, input.change, input.links);
  const topic = messages.subscribe.topics[change.topic].toLocaleLowerCase(input.locale);
  const footer = t.footer(topic, input.unsubscribeUrl);
  return {
    to: input.to,
    subject,
    text: [...lines.map((l) => (l.href ? `${l.text}\n  ${l.href}` : l.text)), '', footer].join('\n'),
    html: htmlOf(input.locale, subject, lines, footer),
    headers: {
      'List-Unsubscribe': `<${input.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
