import {
  ClickToConfirmPage,
  type VisitorFrame,
  VisitorMessagePage,
  VisitorPage,
} from '../../trust-center/views/visitor-page.tsx';
import { localHref, type VisitorLocale } from '../../trust-center/visitor.ts';
import { TOPICS } from '../schema.ts';

/** The /subscribe page: the same form as on the updates and sub-processor pages, with errors when refused. */
export function SubscribePage({
  companyName,
  v,
  values = {},
  errors = {},
}: {
  companyName: string;
  v: VisitorLocale;
  values?: Record<string, string>;
  errors?: Record<string, string | undefined>;
}) {
  const t = v.t.subscribe;
  const chosen = (values.topics ?? 'updates\nsubprocessors').split('\n');
  return (
    <VisitorPage companyName={companyName} v={v} title={t.title}>
      <form method="post" action={localHref(v, '/subscribe')} class="form" novalidate>
        {Object.values(errors).some(Boolean) ? (
          <div class="form-errors" role="alert" tabindex={-1}>
            <p>{t.correctForm}</p>
          </div>
        ) : null}
        <div class={errors.email ? 'field field--invalid' : 'field'}>
          <label for="subscribe-email">{t.email}</label>
          <input
            id="subscribe-email"
            name="email"
            type="email"
            autocomplete="email"
            required
            maxlength={254}
            value={values.email}
            aria-invalid={errors.email ? 'true' : undefined}
            aria-describedby={errors.email ? 'subscribe-email-error' : undefined}
          />
          {errors.email ? (
            <p class="field__error" id="subscribe-email-error">
              {t.errors.email}
            </p>
          ) : null}
        </div>
        <fieldset class={errors.topics ? 'checks checks--invalid' : 'checks'}>
          <legend>{t.tellMeAbout}</legend>
          {errors.topics ? <p class="field__error">{t.errors.topics}</p> : null}
          {TOPICS.map((topic) => (
            <label class="check">
              <input type="checkbox" name="topics" value={topic} checked={chosen.includes(topic)} />{' '}
              <span>{t.topics[topic]}</span>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="button button--primary">
          {t.submit}
        </button>
      </form>
    </VisitorPage>
  );
}

/** The one answer to every valid request, whether the address was new, pending or already subscribed. */
export function CheckInboxPage({ companyName, v }: { companyName: string; v: VisitorLocale }) {
  return (
    <VisitorPage companyName={companyName} v={v} title={v.t.subscribe.checkInboxTitle}>
      <p role="status">{v.t.subscribe.checkInbox}</p>
    </VisitorPage>
  );
}

export function ConfirmPage({ companyName, v, action, valid }: VisitorFrame & { action: string; valid: boolean }) {
  const t = v.t.subscribe;
  const text = { title: t.confirmTitle, question: t.confirmQuestion, button: t.confirmButton, invalid: t.linkExpired };
  return <ClickToConfirmPage companyName={companyName} v={v} action={action} valid={valid} text={text} />;
}

export function MessagePage(props: VisitorFrame & { title: string; text: string }) {
  return <VisitorMessagePage {...props} />;
}

export function UnsubscribePage({ companyName, v, action }: { companyName: string; v: VisitorLocale; action: string }) {
  const t = v.t.subscribe;
  return (
    <VisitorPage companyName={companyName} v={v} title={t.unsubscribeTitle}>
      <form method="post" action={action}>
        <p>{t.unsubscribeQuestion}</p>
        <button type="submit" class="button button--danger">
          {t.unsubscribeButton}
        </button>
      </form>
    </VisitorPage>
  );
}
