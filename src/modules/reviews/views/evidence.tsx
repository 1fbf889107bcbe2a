import { raw } from 'hono/html';
import { assetUrl } from '../../../platform/ui/assets.ts';
import { Time } from '../../../platform/ui/components.tsx';
import type { CampaignDetail, ItemWithGrant } from '../service.ts';

function decisionLabel(item: ItemWithGrant): string {
  if (!item.decision) return item.reviewerId ? 'Undecided' : 'Undecided (no reviewer)';
  const word = item.decision === 'keep' ? 'Kept' : 'Revoked';
  return item.outcome === 'already_gone' ? `${word} (grant already gone)` : word;
}

/**
 * A closed campaign as audit evidence: a standalone page with no navigation, styled for paper by the
 * `.evidence` print rules in candor.css (no inline styles: the CSP allows none).
 */
export function EvidencePage({
  detail,
  tenantName,
  generatedAt,
  generatedBy,
}: {
  detail: CampaignDetail;
  tenantName: string;
  generatedAt: Date;
  generatedBy: string;
}) {
  const { campaign, items } = detail;
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex, nofollow" />
          <title>{`${campaign.name} · access review evidence · ${tenantName}`}</title>
          <link rel="stylesheet" href={assetUrl('candor.css')} />
        </head>
        <body class="evidence">
          <main id="main">
            <header class="evidence__header">
              <p class="eyebrow">{tenantName} · access review evidence</p>
              <h1>{campaign.name}</h1>
              <dl class="evidence__facts">
                <dt>Period</dt>
                <dd>{campaign.period}</dd>
                <dt>Started</dt>
                <dd>
                  <Time at={campaign.startedAt} /> by{' '}
                  {campaign.trigger === 'schedule' ? 'the quarterly schedule' : campaign.startedByLabel}
                </dd>
                <dt>Due</dt>
                <dd>
                  <Time at={campaign.dueAt} />
                </dd>
                <dt>Closed</dt>
                <dd>
                  <Time at={campaign.closedAt} /> by {campaign.closedByLabel ?? '—'}
                </dd>
              </dl>
            </header>
            <section aria-labelledby="summary-title">
              <h2 id="summary-title">Summary</h2>
              <table class="evidence__table evidence__summary">
                <tbody>
                  <tr>
                    <th scope="row">Grants reviewed</th>
                    <td>{campaign.counts.total}</td>
                  </tr>
                  <tr>
                    <th scope="row">Kept</th>
                    <td>{campaign.counts.kept}</td>
                  </tr>
                  <tr>
                    <th scope="row">Revoked</th>
                    <td>{campaign.counts.revoked}</td>
                  </tr>
                  <tr>
                    <th scope="row">Undecided at closing</th>
                    <td>{campaign.counts.undecided}</td>
                  </tr>
                  <tr>
                    <th scope="row">Without a reviewer</th>
                    <td>{campaign.counts.flagged}</td>
                  </tr>
                </tbody>
              </table>
            </section>
            <section aria-labelledby="items-title">
              <h2 id="items-title">Decisions</h2>
              <table class="evidence__table">
                <thead>
                  <tr>
                    <th scope="col">Person</th>
                    <th scope="col">Role</th>
                    <th scope="col">Reviewer</th>
                    <th scope="col">Decision</th>
                    <th scope="col">Decided</th>
                    <th scope="col">Note</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((i) => (
                    <tr>
                      <td>
                        {i.subjectName}
                        <br />
                        {i.subjectEmail}
                      </td>
                      <td>{i.roleName}</td>
                      <td>{i.reviewerEmail ?? '—'}</td>
                      <td>{decisionLabel(i)}</td>
                      <td>{i.decidedAt ? <Time at={i.decidedAt} /> : '—'}</td>
                      <td>{i.note ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <footer class="evidence__footer">
              <p>
                Generated <Time at={generatedAt} /> by {generatedBy}. Every decision above is also in the workspace’s signed audit
                trail (action <code>access_review.item_decided</code>).
              </p>
            </footer>
          </main>
        </body>
      </html>
    </>
  );
}
