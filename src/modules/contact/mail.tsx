import type { OutgoingMail } from '../../platform/mail/outbox.ts';
import { type ContactTopic, TOPIC_LABEL } from './schema.ts';

/** The message as mailed to the routed address; the visitor's words only ever as escaped text. */
export function contactMail(input: {
  to: string;
  companyName: string;
  id: string;
  topic: ContactTopic;
  name: string;
  email: string;
  message: string;
}): OutgoingMail {
  const subject = `[${input.companyName} Trust Center] ${TOPIC_LABEL[input.topic]} question from ${input.name}`.slice(0, 200);
  const footer = `Kept in the back office as message ${input.id} (/admin/contact/${input.id}).`;
  return {
    to: input.to,
    subject,
    text: [`From: ${input.name} <${input.email}>`, `Topic: ${TOPIC_LABEL[input.topic]}`, '', input.message, '', footer].join(
      '\n',
    ),
    html: `<!doctype html>${(
      <html lang="en">
        <body>
          <p>
            From: {input.name} &lt;{input.email}&gt;
            <br />
            Topic: {TOPIC_LABEL[input.topic]}
          </p>
          <pre style="white-space:pre-wrap">{input.message}</pre>
          <p>{footer}</p>
        </body>
      </html>
    )}`,
    headers: { 'Reply-To': input.email },
  };
}
