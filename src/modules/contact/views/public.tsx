import type { Messages } from '../../../platform/i18n/messages/index.ts';
import { VisitorPage } from '../../trust-center/views/visitor-page.tsx';
import { localHref, type VisitorLocale } from '../../trust-center/visitor.ts';
import { CONTACT_TOPICS } from '../schema.ts';

type Errors = Record<string, string | undefined>;
type Field = keyof Messages['contactForm']['errors'];

/** A refused field, said in the visitor's language (the validator's own words are English). */
function FieldError({ name, errors, v }: { name: Field; errors: Errors; v: VisitorLocale }) {
  return errors[name] ? (
    <p class="field__error" id={`contact-${name}-error`}>
      {v.t.contactForm.errors[name]}
    </p>
  ) : null;
}

/**
 * The contact form, rendered fresh for each visitor (never cached): it carries the signed time it was opened.
 * The `website` field is a honeypot hidden from people and assistive technology; robots fill it in.
 */
export function ContactFormPage({
  companyName,
  v,
  token,
  values = {},
  errors = {},
}: {
  companyName: string;
  v: VisitorLocale;
  token: string;
  values?: Record<string, string>;
  errors?: Errors;
}) {
  const t = v.t.contactForm;
  const invalid = (name: string) => (errors[name] ? { 'aria-invalid': 'true', 'aria-describedby': `contact-${name}-error` } : {});
  return (
    <VisitorPage companyName={companyName} v={v} title={t.title} intro={<p>{t.intro}</p>}>
      <form method="post" action={localHref(v, '/contact/message')} class="form" novalidate>
        {Object.values(errors).some(Boolean) ? (
          <div class="form-errors" role="alert" tabindex={-1}>
            <p>{t.correctForm}</p>
          </div>
        ) : null}
        <input type="hidden" name="started" value={token} />
        <div class="field">
          <label for="contact-topic">{t.topic}</label>
          <select id="contact-topic" name="topic" {...invalid('topic')}>
            {CONTACT_TOPICS.map((topic) => (
              <option value={topic} selected={values.topic === topic}>
                {t.topics[topic]}
              </option>
            ))}
          </select>
          <FieldError name="topic" errors={errors} v={v} />
        </div>
        <div class={errors.name ? 'field field--invalid' : 'field'}>
          <label for="contact-name">{t.name}</label>
          <input
            id="contact-name"
            name="name"
            autocomplete="name"
            required
            maxlength={200}
            value={values.name}
            {...invalid('name')}
          />
          <FieldError name="name" errors={errors} v={v} />
        </div>
        <div class={errors.email ? 'field field--invalid' : 'field'}>
          <label for="contact-email">{t.email}</label>
          <input
            id="contact-email"
            name="email"
            type="email"
            autocomplete="email"
            required
            maxlength={254}
            value={values.email}
            {...invalid('email')}
          />
          <FieldError name="email" errors={errors} v={v} />
        </div>
        <div class={errors.message ? 'field field--invalid' : 'field'}>
          <label for="contact-message">{t.message}</label>
          <textarea id="contact-message" name="message" rows={8} required maxlength={10000} {...invalid('message')}>
            {values.message ?? ''}
          </textarea>
          <FieldError name="message" errors={errors} v={v} />
        </div>
        <div class="visually-hidden" aria-hidden="true">
          <label for="contact-website">{t.honeypot}</label>
          <input id="contact-website" name="website" tabindex={-1} autocomplete="off" />
        </div>
        <button type="submit" class="button button--primary">
          {t.submit}
        </button>
      </form>
    </VisitorPage>
  );
}

/** The one answer to every accepted-looking submission, kept or dropped as spam. */
export function ContactSentPage({ companyName, v }: { companyName: string; v: VisitorLocale }) {
  const t = v.t.contactForm;
  return <VisitorPage companyName={companyName} v={v} title={t.thanks} intro={<p role="status">{t.sent}</p>} />;
}
