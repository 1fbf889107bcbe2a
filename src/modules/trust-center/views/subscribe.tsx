import type { Messages } from '../../../platform/i18n/messages/index.ts';
import type { StoredDocument } from '../tables.ts';
import { localHref } from '../visitor.ts';

export type SubscriptionTopic = 'updates' | 'subprocessors';

const TOPICS: SubscriptionTopic[] = ['updates', 'subprocessors'];

/** What these components need of the page they sit on: its language's strings and link prefix. */
interface Where {
  t: Messages;
  base: string;
}

/**
 * The subscription form on the updates and sub-processor pages: a plain POST (works without JavaScript) with no
 * per-visitor token, so the cached page stays the same for everyone. The form posts to the page's language, so
 * the subscriber is kept in it. The feed link sits beside it.
 */
export function SubscribeBox({ at, topic, feed }: { at: Where; topic: SubscriptionTopic; feed: string }) {
  const id = `subscribe-${topic}`;
  const t = at.t.subscribe;
  return (
    <section class="card tc-subscribe" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t.boxTitle}</h2>
      <form method="post" action={localHref(at, '/subscribe')} class="form">
        <div class="field">
          <label for={`${id}-email`}>{t.email}</label>
          <input id={`${id}-email`} name="email" type="email" autocomplete="email" required maxlength={254} />
        </div>
        <fieldset class="checks">
          <legend>{t.tellMeAbout}</legend>
          {TOPICS.map((each) => (
            <label class="check">
              <input type="checkbox" name="topics" value={each} checked={each === topic} /> <span>{t.topics[each]}</span>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="button button--primary">
          {t.submit}
        </button>
        <p class="muted">{t.promise}</p>
      </form>
      <p>
        <a href={localHref(at, feed)}>{t.orFeed}</a>
      </p>
    </section>
  );
}

/** Sub-processors announced ahead of their effective date (GDPR Art. 28(2): customers may object). */
export function UpcomingSubprocessors({
  at,
  doc,
  today,
  formatDate,
  lang,
}: {
  at: Where;
  doc: StoredDocument | undefined;
  today: string;
  formatDate: (iso: string) => string;
  /** The content's language where it is not the page's (English shown in place of a translation). */
  lang?: string | undefined;
}) {
  const upcoming = (doc?.items ?? []).filter((i) => (i.effectiveFrom ?? '') > today);
  if (upcoming.length === 0) return null;
  return (
    <section class="tc-group" aria-labelledby="upcoming-title">
      <h2 id="upcoming-title">{at.t.subscribe.upcoming}</h2>
      <ul class="card-grid">
        {upcoming.map((s) => (
          <li class="card">
            <h3 lang={lang}>{s.name}</h3>
            <p>
              <span class="badge badge--info">
                {at.t.subscribe.from} <time datetime={s.effectiveFrom}>{formatDate(s.effectiveFrom ?? '')}</time>
              </span>
            </p>
            <p lang={lang}>
              {s.purpose} · {s.location}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The contact page's way to the form, which lives on its own uncached page (it carries a signed time). */
export function WriteToUs({ at }: { at: Where }) {
  return (
    <p>
      <a class="button button--primary" href={localHref(at, '/contact/message')}>
        {at.t.contactForm.writeToUs}
      </a>
    </p>
  );
}
