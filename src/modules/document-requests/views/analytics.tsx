import { EmptyState, PageHeader, Table } from '../../../platform/ui/components.tsx';
import type { Analytics, Counts } from '../analytics.ts';
import type { AccessEventKind } from '../tables.ts';

const LABELS: Record<AccessEventKind, string> = {
  requested: 'Requests',
  approved: 'Approvals',
  denied: 'Denials',
  viewed: 'Views',
  downloaded: 'Downloads',
};
/** Charted series; each has its own dash pattern too, so the lines differ without colour. */
const SERIES: { kind: AccessEventKind; dash: string | undefined }[] = [
  { kind: 'requested', dash: undefined },
  { kind: 'approved', dash: '6 3' },
  { kind: 'viewed', dash: '2 3' },
  { kind: 'downloaded', dash: '10 3 2 3' },
];

const W = 720;
const H = 260;
const PAD = { left: 40, right: 28, top: 34, bottom: 34 };

/** A round axis top: 1, 2 or 5 times a power of ten, at least the highest count. */
function niceCeiling(max: number): number {
  if (max <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((s) => s * power >= max) ?? 10;
  return step * power;
}

function countColumns<Row extends { counts: Counts }>() {
  return (['requested', 'approved', 'denied', 'viewed', 'downloaded'] as const).map((kind) => ({
    header: LABELS[kind],
    cell: (r: Row) => String(r.counts[kind]),
    numeric: true,
  }));
}

/**
 * The weekly counts as an inline SVG line chart, drawn on the server: no script, and colours come from the
 * stylesheet's classes (the CSP allows no inline style), so the chart follows the light and dark schemes.
 */
export function WeeklyChart({ analytics }: { analytics: Analytics }) {
  const weeks = analytics.weeks;
  const max = niceCeiling(Math.max(0, ...weeks.flatMap((w) => SERIES.map((s) => w.counts[s.kind]))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (weeks.length <= 1 ? plotW / 2 : (i * plotW) / (weeks.length - 1));
  const y = (n: number) => PAD.top + plotH - (n * plotH) / max;
  const labelEvery = Math.max(1, Math.ceil(weeks.length / 8));
  const totals = SERIES.map((s) => `${analytics.totals[s.kind]} ${LABELS[s.kind].toLowerCase()}`).join(', ');
  return (
    <figure class="chart">
      <svg
        class="chart__svg"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id="chart-title">Gated documents per week</title>
        <desc id="chart-desc">
          {`Weekly requests, approvals, views and downloads from ${analytics.period.from} to ${analytics.period.to} (weeks start on Monday, UTC): ${totals} in all. The same numbers are in the table below the chart.`}
        </desc>
        {[0, 0.25, 0.5, 0.75, 1].map((f) => (
          <g>
            <line class="chart__grid" x1={PAD.left} x2={W - PAD.right} y1={y(max * f)} y2={y(max * f)} stroke="currentColor" />
            <text class="chart__label" x={PAD.left - 6} y={y(max * f) + 4} text-anchor="end">
              {String(Math.round(max * f))}
            </text>
          </g>
        ))}
        {weeks.map((w, i) =>
          i % labelEvery === 0 ? (
            <text class="chart__label" x={x(i)} y={H - PAD.bottom + 18} text-anchor="middle">
              {w.week.slice(5)}
            </text>
          ) : null,
        )}
        {SERIES.map((s) => (
          <g class={`chart__series chart__series--${s.kind}`}>
            <polyline
              class="chart__line"
              fill="none"
              stroke="currentColor"
              stroke-width="2"
              stroke-dasharray={s.dash}
              points={weeks.map((w, i) => `${x(i).toFixed(1)},${y(w.counts[s.kind]).toFixed(1)}`).join(' ')}
            />
            {weeks.map((w, i) => (
              <circle cx={x(i).toFixed(1)} cy={y(w.counts[s.kind]).toFixed(1)} r="2.5" fill="currentColor" />
            ))}
          </g>
        ))}
        {SERIES.map((s, i) => (
          <g class={`chart__series chart__series--${s.kind}`}>
            <line
              x1={PAD.left + i * 150}
              x2={PAD.left + i * 150 + 28}
              y1="14"
              y2="14"
              stroke="currentColor"
              stroke-width="2"
              stroke-dasharray={s.dash}
            />
            <text class="chart__label" x={PAD.left + i * 150 + 34} y="18">
              {LABELS[s.kind]}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="muted small">Weeks start on Monday (UTC); each label is the week’s first day (MM-DD).</figcaption>
    </figure>
  );
}

export function AnalyticsPage({ analytics, days }: { analytics: Analytics; days: number | undefined }) {
  const { period } = analytics;
  const query = `from=${period.from}&to=${period.to}`;
  return (
    <>
      <PageHeader
        title="Document analytics"
        description={`Requests, approvals, views and downloads of gated documents from ${period.from} to ${period.to} (UTC).`}
        actions={
          <a class="button button--secondary" href={`/admin/documents/analytics/export.csv?${query}`}>
            Export CSV
          </a>
        }
      />
      <form
        method="get"
        action="/admin/documents/analytics"
        class="form form--inline form--filter"
        aria-label="Choose the period"
        novalidate
      >
        <div class="field">
          <label for="field-days">Period</label>
          <select id="field-days" name="days">
            {[30, 90, 365].map((d) => (
              <option value={String(d)} selected={days === d}>
                Last {d} days
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button button--primary">
          Show
        </button>
      </form>
      <ul class="stat-grid">
        {(['requested', 'approved', 'denied', 'viewed', 'downloaded'] as const).map((kind) => (
          <li class="stat">
            <span class="stat__label">{LABELS[kind]}</span>
            <span class="stat__value">{String(analytics.totals[kind])}</span>
          </li>
        ))}
      </ul>
      <section aria-labelledby="analytics-weeks">
        <h2 id="analytics-weeks">Over time</h2>
        <WeeklyChart analytics={analytics} />
        <details>
          <summary>The chart’s numbers, week by week</summary>
          <Table
            caption="Counts per week (Monday, UTC)"
            rows={analytics.weeks}
            empty={<EmptyState title="No weeks in the period" />}
            columns={[{ header: 'Week of', cell: (w) => w.week }, ...countColumns<Analytics['weeks'][number]>()]}
          />
        </details>
      </section>
      <section aria-labelledby="analytics-documents">
        <h2 id="analytics-documents">Per document</h2>
        <Table
          caption="Counts per document, busiest first"
          rows={analytics.documents}
          empty={<EmptyState title="Nothing happened in this period" />}
          columns={[
            {
              header: 'Document',
              cell: (d) => (d.title === null ? '(removed document)' : <a href={`/admin/documents/${d.id}`}>{d.title}</a>),
            },
            ...countColumns<Analytics['documents'][number]>(),
          ]}
        />
      </section>
      <section aria-labelledby="analytics-domains">
        <h2 id="analytics-domains">Per company and mail domain</h2>
        <Table
          caption="Counts per requester mail domain, with the company names typed for it, busiest first"
          rows={analytics.domains}
          empty={<EmptyState title="Nothing happened in this period" />}
          columns={[
            { header: 'Domain', cell: (d) => d.domain },
            { header: 'Companies (as typed)', cell: (d) => d.companies.join(', ') },
            ...countColumns<Analytics['domains'][number]>(),
          ]}
        />
      </section>
    </>
  );
}
