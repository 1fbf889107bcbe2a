import type { Messages } from '../../../platform/i18n/messages/index.ts';

/** The download link of a certification's certificate file, when it has one (public certifications page). */
export function CertificateDownload({
  id,
  standard,
  t,
}: {
  id: string | undefined;
  standard: string | undefined;
  t: Messages['certifications'];
}) {
  if (!id) return null;
  return (
    <p class="tc-download">
      <a href={`/certifications/files/${id}`} download>
        {t.downloadCertificate}
        <span class="visually-hidden">{t.downloadCertificateFor(standard ?? '')}</span>
      </a>
    </p>
  );
}
