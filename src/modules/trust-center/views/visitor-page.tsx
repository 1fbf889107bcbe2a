import type { Child } from 'hono/jsx';
import { PublicLayout } from '../../../platform/ui/layout.tsx';
import { localHref, type VisitorLocale } from '../visitor.ts';
import { LanguageSwitcher } from './language-switcher.tsx';

/**
 * The frame of a public page rendered per visitor (a form, a confirmation): in the visitor's language, with the
 * language switcher and a home link that keep it, and kept out of search engines.
 */
export function VisitorPage({
  companyName,
  v,
  title,
  intro,
  head,
  children,
}: {
  companyName: string;
  v: VisitorLocale;
  title: string;
  intro?: Child;
  /** Extra head elements (a page's own script). */
  head?: Child;
  children?: Child;
}) {
  return (
    <PublicLayout
      title={title}
      companyName={companyName}
      head={
        <>
          <meta name="robots" content="noindex" />
          {head ?? null}
        </>
      }
      lang={v.locale}
      homeHref={localHref(v, '/')}
      languages={<LanguageSwitcher locale={v.locale} path={v.path} label={v.t.layout.language} />}
    >
      <section class="hero hero--page">
        <div class="container">
          <h1>{title}</h1>
          {intro ?? null}
        </div>
      </section>
      {children ? <div class="container section tc-article">{children}</div> : null}
    </PublicLayout>
  );
}

/** What every visitor page is drawn for: the company and the visitor's language. */
export interface VisitorFrame {
  companyName: string;
  v: VisitorLocale;
}

/** A visitor page that only says something (a link was spent, a request was received). */
export function VisitorMessagePage({ companyName, v, title, text }: VisitorFrame & { title: string; text: string }) {
  return (
    <VisitorPage companyName={companyName} v={v} title={title}>
      <p role="status">{text}</p>
    </VisitorPage>
  );
}

/**
 * A link opened from a mail asks for a click before it does anything: mail scanners that follow links must not
 * confirm a subscription or verify an address. An invalid link says so instead.
 */
export function ClickToConfirmPage({
  companyName,
  v,
  action,
  valid,
  text,
}: VisitorFrame & {
  action: string;
  valid: boolean;
  text: { title: string; question: string; button: string; invalid: string };
}) {
  return (
    <VisitorPage companyName={companyName} v={v} title={text.title}>
      {valid ? (
        <form method="post" action={action}>
          <p>{text.question}</p>
          <button type="submit" class="button button--primary">
            {text.button}
          </button>
        </form>
      ) : (
        <p role="alert">{text.invalid}</p>
      )}
    </VisitorPage>
  );
}
