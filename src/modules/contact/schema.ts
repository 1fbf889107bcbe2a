import { z } from '@hono/zod-openapi';

export const CONTACT_TOPICS = ['security', 'privacy', 'compliance'] as const;
export type ContactTopic = (typeof CONTACT_TOPICS)[number];

export const TOPIC_LABEL: Record<ContactTopic, string> = {
  security: 'Security',
  privacy: 'Privacy',
  compliance: 'Compliance',
};

export const ContactForm = z.object({
  topic: z.enum(CONTACT_TOPICS, 'choose security, privacy or compliance'),
  name: z.string().trim().min(1, 'enter your name').max(200, 'use at most 200 characters'),
  email: z
    .string()
    .trim()
    .max(254, 'use at most 254 characters')
    .regex(/^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/, 'enter an email address'),
  message: z.string().trim().min(1, 'write your message').max(10_000, 'use at most 10,000 characters'),
});
export type ContactInput = z.infer<typeof ContactForm>;

export const ContactMessageJson = z
  .object({
    id: z.uuid(),
    topic: z.enum(CONTACT_TOPICS),
    routedTo: z.string().nullable(),
    name: z.string(),
    email: z.string(),
    message: z.string(),
    createdAt: z.iso.datetime(),
    handledAt: z.iso.datetime().nullable(),
    handledBy: z.string().nullable(),
  })
  .openapi('ContactMessage');

export const MessageIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });
