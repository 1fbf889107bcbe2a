import { describe, expect, it } from 'vitest';
import { renderDay } from './cache.ts';

describe('renderDay', () => {
  it('names the UTC day, and turns over exactly at UTC midnight even when asked in between', () => {
    expect(renderDay(new Date('2026-11-21T23:59:59.999Z'))).toBe('2026-11-21');
    expect(renderDay(new Date('2026-11-22T00:00:00.000Z'))).toBe('2026-11-22');
    expect(renderDay(new Date('2026-11-21T12:00:00.000Z'))).toBe('2026-11-21');
    expect(renderDay(new Date('2026-11-22T23:59:59.999Z'))).toBe('2026-11-22');
    expect(renderDay(new Date('1969-12-31T23:00:00.000Z'))).toBe('1969-12-31');
    expect(renderDay(new Date('2026-11-22T10:00:00+14:00'))).toBe('2026-11-21');
  });
});
