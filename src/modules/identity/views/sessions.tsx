import { Form, PageHeader, SubmitButton, Table, Time } from '../../../platform/ui/components.tsx';
import type { OwnSession } from '../own-sessions.ts';

export function OwnSessionsView({ sessions, csrfToken }: { sessions: OwnSession[]; csrfToken: string }) {
  return (
    <>
      <PageHeader title="Your sessions" description="Where you are signed in. End any you do not recognise." />
      <Table
        caption="Sessions"
        empty={<p>No sessions.</p>}
        rows={sessions}
        columns={[
          {
            header: 'Device',
            cell: (s) => (
              <>
                {s.userAgent || 'unknown'} {s.current ? <strong>(this session)</strong> : null}
              </>
            ),
          },
          { header: 'Address', cell: (s) => s.ip ?? '—' },
          { header: 'Signed in', cell: (s) => <Time at={s.createdAt} />, numeric: true },
          { header: 'Last seen', cell: (s) => <Time at={s.lastSeenAt} />, numeric: true },
          {
            header: '',
            cell: (s) =>
              s.current ? null : (
                <Form action={`/admin/account/sessions/${s.id}/end`} csrfToken={csrfToken}>
                  <SubmitButton label="End" />
                </Form>
              ),
          },
        ]}
      />
      <Form action="/admin/account/sessions/others/end" csrfToken={csrfToken}>
        <SubmitButton label="End all other sessions" />
      </Form>
    </>
  );
}
