import { describe, expect, it } from 'vitest';
import { parseSince } from '../../../../../src/cli/commands/ledger/common.js';
import { UsageError } from '../../../../../src/cli/flags.js';

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);

describe('parseSince', () => {
  it('is undefined when absent', () => {
    expect(parseSince(undefined, NOW)).toBeUndefined();
  });

  it.each([
    ['90m', 90 * 60_000],
    ['24h', 24 * 3_600_000],
    ['7d', 7 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['0h', 0],
  ])('a duration %s is that long before now', (value, ms) => {
    expect(parseSince(value, NOW)).toBe(NOW - ms);
  });

  it.each([
    ['2025-01-31', Date.UTC(2025, 0, 31)],
    ['2025-01-31T12:30:00Z', Date.UTC(2025, 0, 31, 12, 30)],
    ['2025-01-31T12:30:00.250+02:00', Date.UTC(2025, 0, 31, 10, 30, 0, 250)],
  ])('an ISO date %s', (value, ms) => {
    expect(parseSince(value, NOW)).toBe(ms);
  });

  it.each([
    'yesterday',
    '24',
    '24x',
    '-1d',
    '1.5h',
    '2025-13-45',
    '2025-02-30',
    '2025-00-10',
    '31/01/2025',
    '',
  ])('refuses %j as a usage error', (value) => {
    expect(() => parseSince(value, NOW)).toThrow(UsageError);
  });
});
