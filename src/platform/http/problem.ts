import type { Context } from 'hono';

/** Stable problem types (RFC 9457); clients may switch on the `type` of an error response. */
export const PROBLEM_TYPES = {
  'bad-request': 'The request is malformed: unreadable JSON, a wrong content type, or a missing body.',
  'validation-failed': 'The request is well-formed but a field breaks a rule; `errors` names each field.',
  unauthorized: 'Authentication is missing or no longer valid.',
  forbidden: 'The caller is known but not allowed to do this.',
  'not-found': 'No such resource, or it is not visible to the caller.',
  'method-not-allowed': 'The resource exists but does not accept this method; see the Allow header.',
  conflict: 'The request conflicts with the current state (a duplicate, a concurrent change).',
  gone: 'The link or resource existed but has expired or been used.',
  'payload-too-large': 'The body is larger than this endpoint accepts.',
  'unsupported-media-type': 'The body is not in a format this endpoint accepts.',
  'too-many-requests': 'Too many attempts; retry after the time in the Retry-After header.',
  'internal-error': 'Something failed on our side; the request id helps the operator find it in the logs.',
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export function problemTypeUri(type: string): string {
  return `/problems/${type}`;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: Record<string, string>;
}

export function problemResponse(_c: Context, problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ ...problem, type: problemTypeUri(problem.type) }), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}
