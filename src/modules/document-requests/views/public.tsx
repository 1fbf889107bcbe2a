import { assetUrl } from '../../../platform/ui/assets.ts';
import type { DocumentRow } from '../../documents/store.ts';
import {
  ClickToConfirmPage,
  type VisitorFrame,
  VisitorMessagePage,
  VisitorPage,
} from '../../trust-center/views/visitor-page.tsx';
import { localHref, type VisitorLocale } from '../../trust-center/visitor.ts';
import type { GrantView } from '../service.ts';
import type { NdaVersionRow } from '../store.ts';

type Frame = VisitorFrame;

function levelOf(v: VisitorLocale, level: string): string {
  const levels = v.t.gated.levels;
  return level === 'public' ? levels.public : level === 'nda' ? levels.nda : levels.approval;
}

/** /documents: every published document, public ones with a download link, gated ones with "Request access". */
export function DocumentsListPage({ companyName, v, documents }: Frame & { documents: DocumentRow[] }) {
  const t = v.t.gated;
  return (
    <VisitorPage companyName={companyName} v={v} title={t.title} intro={<p>{t.intro(companyName)}</p>}>
      {documents.length === 0 ? <p>{t.none}</p> : null}
      <ul class="card-list">
        {documents.map((d) => (
          <li class="card">
            <h2 class="card__title">{d.title}</h2>
            <p>
              <span class="badge">{levelOf(v, d.accessLevel)}</span>
            </p>
            {d.description ? <p>{d.description}</p> : null}
            {d.accessLevel === 'public' ? (
              <a class="button" href={localHref(v, `/documents/${d.id}/download`)}>
                {t.download}
              </a>
            ) : (
              <a class="button button--primary" href={`${localHref(v, '/documents/request')}?document=${d.id}`}>
                {t.requestAccess}
              </a>
            )}
          </li>
        ))}
      </ul>
    </VisitorPage>
  );
}

function TextField(props: {
  name: string;
  label: string;
  value: string | undefined;
  error: string | undefined;
  type?: string;
  autocomplete?: string;
}) {
  const id = `request-${props.name}`;
  return (
    <div class={props.error ? 'field field--invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        autocomplete={props.autocomplete}
        required
        maxlength={254}
        value={props.value}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
      />
      {props.error ? (
        <p class="field__error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** The request form; errors come from the visitor's catalog, never echoed from the server's English. */
export function RequestPage({
  companyName,
  v,
  documents,
  values = {},
  errors = {},
}: Frame & { documents: DocumentRow[]; values?: Record<string, string>; errors?: Record<string, string | undefined> }) {
  const t = v.t.gated;
  const chosen = (values.documents ?? '').split('\n');
  const err = (k: keyof typeof t.errors) => (errors[k] ? t.errors[k] : undefined);
  return (
    <VisitorPage companyName={companyName} v={v} title={t.requestTitle}>
      <form method="post" action={localHref(v, '/documents/request')} class="form" novalidate>
        {Object.values(errors).some(Boolean) ? (
          <div class="form-errors" role="alert" tabindex={-1}>
            <p>{t.correctForm}</p>
          </div>
        ) : null}
        <TextField name="name" label={t.name} value={values.name} error={err('name')} autocomplete="name" />
        <TextField name="email" label={t.email} value={values.email} error={err('email')} type="email" autocomplete="email" />
        <TextField name="company" label={t.company} value={values.company} error={err('company')} autocomplete="organization" />
        <div class={errors.reason ? 'field field--invalid' : 'field'}>
          <label for="request-reason">{t.reason}</label>
          <textarea id="request-reason" name="reason" rows={3} maxlength={2000}>
            {values.reason}
          </textarea>
          {errors.reason ? <p class="field__error">{t.errors.reason}</p> : null}
        </div>
        <fieldset class={errors.documents ? 'checks checks--invalid' : 'checks'}>
          <legend>{t.documents}</legend>
          {errors.documents ? <p class="field__error">{t.errors.documents}</p> : null}
          {documents.map((d) => (
            <label class="check">
              <input type="checkbox" name="documents" value={d.id} checked={chosen.includes(d.id)} />{' '}
              <span>
                {d.title} ({levelOf(v, d.accessLevel)})
              </span>
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

export function NoticePage(props: Frame & { title: string; text: string }) {
  return <VisitorMessagePage {...props} />;
}

export function VerifyPage({ companyName, v, action, valid }: Frame & { action: string; valid: boolean }) {
  const t = v.t.gated;
  const text = { title: t.verifyTitle, question: t.verifyQuestion, button: t.verifyButton, invalid: t.linkExpired };
  return <ClickToConfirmPage companyName={companyName} v={v} action={action} valid={valid} text={text} />;
}

export function NdaPage({
  companyName,
  v,
  action,
  nda,
  values = {},
  errors = {},
}: Frame & { action: string; nda: NdaVersionRow; values?: Record<string, string>; errors?: Record<string, string | undefined> }) {
  const t = v.t.gated;
  return (
    <VisitorPage companyName={companyName} v={v} title={t.ndaTitle} intro={<p>{t.ndaIntro}</p>}>
      <div class="nda-text" lang="en">
        {nda.text.split(/\n\s*\n/).map((p) => (
          <p>{p}</p>
        ))}
      </div>
      <form method="post" action={action} class="form" novalidate>
        <input type="hidden" name="ndaVersion" value={String(nda.version)} />
        <div class={errors.typedName ? 'field field--invalid' : 'field'}>
          <label for="nda-name">{t.typedName}</label>
          <input id="nda-name" name="typedName" required maxlength={200} autocomplete="name" value={values.typedName} />
          {errors.typedName ? <p class="field__error">{t.ndaErrors.name}</p> : null}
        </div>
        <label class={errors.agree ? 'check check--invalid' : 'check'}>
          <input type="checkbox" name="agree" value="on" /> <span>{t.agree}</span>
        </label>
        {errors.agree ? <p class="field__error">{t.ndaErrors.agree}</p> : null}
        <button type="submit" class="button button--primary">
          {t.sign}
        </button>
      </form>
    </VisitorPage>
  );
}

export function GrantPage({ companyName, v, view, base }: Frame & { view: GrantView; base: string }) {
  const t = v.t.gated;
  return (
    <VisitorPage
      companyName={companyName}
      v={v}
      title={t.grantTitle}
      intro={<p>{t.grantIntro(view.request.name, view.grant.expiresAt.toISOString().slice(0, 10))}</p>}
    >
      <ul class="card-list">
        {view.documents.map((d) => (
          <li class="card">
            <h2 class="card__title">{d.title}</h2>
            {d.description ? <p>{d.description}</p> : null}
            {d.viewOnly ? (
              <>
                <p>{t.viewOnlyNote}</p>
                <a class="button button--primary" href={`${base}/${d.id}/view`}>
                  {t.view}
                </a>
              </>
            ) : (
              <a class="button button--primary" href={`${base}/${d.id}`}>
                {t.download}
              </a>
            )}
          </li>
        ))}
      </ul>
    </VisitorPage>
  );
}

/**
 * The in-browser viewer of a granted PDF: the viewer script draws each page into a canvas. No download link, by
 * design (a deterrent only: the stamped PDF still reaches the browser). Without JavaScript it says so.
 */
export function DocumentViewerPage({
  companyName,
  v,
  document,
  back,
  pdf,
}: Frame & { document: DocumentRow; back: string; pdf: string }) {
  const t = v.t.gated;
  return (
    <VisitorPage
      companyName={companyName}
      v={v}
      title={document.title}
      intro={<p>{t.viewOnlyNote}</p>}
      head={<script type="module" src={assetUrl('pdf-viewer.js')} />}
    >
      <p>
        <a href={back}>{t.backToDocuments}</a>
      </p>
      <div
        class="pdf-viewer"
        data-pdf-viewer
        data-src={pdf}
        data-module={assetUrl('pdfjs.mjs')}
        data-worker={assetUrl('pdfjs-worker.mjs')}
        data-loading={t.viewerLoading}
        data-failed={t.viewerFailed}
        data-page={t.viewerPage}
      >
        <noscript>
          <p class="pdf-viewer__notice">{t.viewerNeedsScript}</p>
        </noscript>
        <p class="pdf-viewer__status" role="status" aria-live="polite" data-pdf-status />
        <div class="pdf-viewer__pages" data-pdf-pages />
      </div>
    </VisitorPage>
  );
}
