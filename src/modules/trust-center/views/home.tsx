import { PublicLayout } from '../../../platform/ui/layout.tsx';

interface HomePageProps {
  companyName: string;
  contactEmail?: string | undefined;
}

const PRACTICES = [
  {
    title: 'Encryption',
    body: 'Data is encrypted in transit with TLS 1.2 or newer and at rest with AES-256, with keys kept apart from the data they protect.',
  },
  {
    title: 'Isolation',
    body: 'Each customer’s data is kept apart at the application and again at the database, so one account can never read another’s.',
  },
  {
    title: 'Accountability',
    body: 'Every change and every access to personal data is recorded in an audit trail that cannot be altered without detection.',
  },
  {
    title: 'Resilience',
    body: 'Encrypted backups are taken daily, their checksums verified every day, and restores rehearsed on a schedule.',
  },
];

/** The Trust Center's front page: what the company promises, and how to reach its security team. */
export function HomePage({ companyName, contactEmail }: HomePageProps) {
  return (
    <PublicLayout title="Overview" companyName={companyName}>
      <section class="hero">
        <div class="container hero__inner">
          <div class="hero__text">
            <p class="eyebrow">Trust Center</p>
            <h1>Security and privacy at {companyName}</h1>
            <p class="lead">
              How {companyName} protects the data you trust us with, the controls behind each promise, and where to reach us when
              you have a question or a concern.
            </p>
          </div>
          <div class="hero__art" aria-hidden="true">
            <span class="hero__shield" />
          </div>
        </div>
      </section>
      <section class="section" aria-labelledby="practices-title">
        <div class="container">
          <h2 id="practices-title">Our security practices</h2>
          <ul class="card-grid">
            {PRACTICES.map((practice) => (
              <li class="card">
                <h3>{practice.title}</h3>
                <p>{practice.body}</p>
              </li>
            ))}
          </ul>
        </div>
      </section>
      <section class="section section--muted" aria-labelledby="contact-title">
        <div class="container contact">
          <div>
            <h2 id="contact-title">Questions or concerns?</h2>
            <p>
              If you have a security question or believe you have found a vulnerability, our security team would like to hear from
              you.
            </p>
          </div>
          {contactEmail ? (
            <a class="button button--primary" href={`mailto:${contactEmail}`}>
              Email {contactEmail}
            </a>
          ) : null}
        </div>
      </section>
    </PublicLayout>
  );
}
