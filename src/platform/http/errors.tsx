import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { AppError } from '../errors.ts';
import { FocusLayout } from '../ui/layout.tsx';
import type { AppEnv } from './env.ts';
import { type Problem, problemResponse } from './problem.ts';

const TITLES: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  409: ['conflict', 'Conflict'],
  410: ['gone', 'Gone'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['validation-failed', 'Invalid input'],
  429: ['too-many-requests', 'Too many requests'],
  500: ['internal-error', 'Internal error'],
};

/** Field → first message, from a zod error, for problem details and inline form errors. */
export function fieldErrors(error: ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '_';
    errors[key] ??= issue.message;
  }
  return errors;
}

/** Maps anything thrown in a request to a problem: domain errors keep their status, the rest is a 500. */
export function toProblem(error: unknown): Problem {
  if (error instanceof AppError) {
    return {
      type: error.type,
      title: error.title,
      status: error.status,
      detail: error.message,
      ...('fields' in error && Object.keys(error.fields as object).length > 0
        ? { errors: error.fields as Record<string, string> }
        : {}),
    };
  }
  if (error instanceof ZodError) {
    return {
      type: 'validation-failed',
      title: 'Invalid input',
      status: 422,
      detail: 'some fields are invalid',
      errors: fieldErrors(error),
    };
  }
  if (error instanceof HTTPException) {
    const [type, title] = TITLES[error.status] ?? ['bad-request', 'Bad request'];
    return { type, title, status: error.status, detail: error.message || title };
  }
  return { type: 'internal-error', title: 'Internal error', status: 500, detail: 'an unexpected error occurred' };
}

export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

function ErrorPage({ problem }: { problem: Problem }) {
  const friendly: Record<number, string> = {
    404: 'We could not find that page. It may have moved, or the link may be mistyped.',
    403: 'You do not have access to this page.',
    410: 'This link has expired or has already been used.',
    500: 'Something went wrong on our side. Please try again in a moment.',
  };
  return (
    <FocusLayout title={problem.title} subtitle={friendly[problem.status] ?? problem.detail}>
      {/* The specific reason helps on 403/410 (which link, what to do); a 404's detail only repeats the URL. */}
      {problem.status !== 500 && problem.status !== 404 && friendly[problem.status] && problem.detail ? (
        <p class="muted">{problem.detail}</p>
      ) : null}
      {problem.requestId ? (
        <p class="muted small">
          Reference: <code>{problem.requestId}</code>
        </p>
      ) : null}
      <p>
        <a class="button button--primary" href="/">
          Go to the home page
        </a>
      </p>
    </FocusLayout>
  );
}

export function renderProblem(
  c: Context<AppEnv>,
  problem: Problem,
  headers: Record<string, string> = {},
): Response | Promise<Response> {
  const withId = { ...problem, requestId: c.var.requestId, instance: c.req.path };
  if (isApiPath(c.req.path)) return problemResponse(c, withId, headers);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.html(<ErrorPage problem={withId} />, problem.status as 400);
}

export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const problem = toProblem(error);
  if (problem.status >= 500) {
    c.var.runtime?.log.error({ err: error, requestId: c.var.requestId }, 'request failed');
  }
  const headers: Record<string, string> = {};
  if (error instanceof AppError && 'retryAfterSeconds' in error) headers['retry-after'] = String(error.retryAfterSeconds);
  return renderProblem(c, problem, headers);
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  renderProblem(c, { type: 'not-found', title: 'Not found', status: 404, detail: `no resource at ${c.req.path}` });
