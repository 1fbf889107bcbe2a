import { describe, expect, it } from 'vitest';
import { redactPath } from './request-log.ts';

describe('access log paths', () => {
  it('hides secret link tokens but keeps ordinary segments and row ids', () => {
    expect(redactPath('/setup/fwYz8iCpFuOkzrm15oNXc1cL4iqfNV7yETbjQtmDhzQ')).toBe('/setup/[redacted]');
    expect(redactPath('/admin/outbox/3f1c2a9e-1111-4222-8333-944455556666/raw')).toBe(
      '/admin/outbox/3f1c2a9e-1111-4222-8333-944455556666/raw',
    );
    expect(redactPath('/grants/cnd_abcdefghijklmnopqrstuvwxyz/view')).toBe('/grants/[redacted]/view');
    expect(redactPath('/admin/api-tokens')).toBe('/admin/api-tokens');
  });
});
