import t from 'tap';
import { compareTimestamps, isTimestamp, normalizeDate, normalizeTimestamp, toUtcTimestamp } from '../lib/time.js';

t.test('converts an offset timestamp to UTC with Z and keeps the milliseconds', async (t) => {
  t.equal(toUtcTimestamp('2024-05-01T10:12:55.120+03:00'), '2024-05-01T07:12:55.120Z');
  t.equal(toUtcTimestamp('2024-05-01T01:30:00.5-05:30'), '2024-05-01T07:00:00.500Z');
  t.equal(toUtcTimestamp('2024-05-01T23:30:00-0100'), '2024-05-02T00:30:00.000Z');
  t.equal(toUtcTimestamp('2024-05-01T23:30:00+05'), '2024-05-01T18:30:00.000Z');
});

t.test('keeps a UTC timestamp as it is and pads missing milliseconds', async (t) => {
  t.equal(toUtcTimestamp('2022-05-13T07:26:38.402Z'), '2022-05-13T07:26:38.402Z');
  t.equal(toUtcTimestamp('2022-05-13T07:26:38Z'), '2022-05-13T07:26:38.000Z');
  t.equal(toUtcTimestamp('2022-05-13t07:26:38z'), '2022-05-13T07:26:38.000Z');
});

t.test('keeps sub-millisecond digits instead of rounding them away', async (t) => {
  t.equal(toUtcTimestamp('2024-05-01T10:00:00.123456+02:00'), '2024-05-01T08:00:00.123456Z');
});

t.test('crosses day, month and year boundaries when shifting offsets', async (t) => {
  t.equal(toUtcTimestamp('2024-01-01T01:00:00+02:00'), '2023-12-31T23:00:00.000Z');
  t.equal(toUtcTimestamp('2024-02-28T23:00:00-02:00'), '2024-02-29T01:00:00.000Z');
});

t.test('reads a bare date as midnight UTC and a timestamp without offset as UTC', async (t) => {
  t.equal(toUtcTimestamp('2024-03-05'), '2024-03-05T00:00:00.000Z');
  t.equal(toUtcTimestamp('2024-03-05 10:11:12'), '2024-03-05T10:11:12.000Z');
});

t.test('rejects text that is not a valid timestamp', async (t) => {
  for (const bad of ['yesterday', '2024-13-01', '2024-02-30', '2024-05-01T25:00:00Z', '2024-05-01T10:00:00+25:00', '1714557600', '']) {
    t.equal(toUtcTimestamp(bad), null, bad);
    t.notOk(isTimestamp(bad), bad);
  }
});

t.test('normalizeTimestamp turns null, undefined and empty strings into null', async (t) => {
  t.equal(normalizeTimestamp(null), null);
  t.equal(normalizeTimestamp(undefined), null);
  t.equal(normalizeTimestamp(''), null);
  t.equal(normalizeTimestamp('  '), null);
  t.equal(normalizeTimestamp('2024-05-01T10:00:00+02:00'), '2024-05-01T08:00:00.000Z');
});

t.test('normalizeTimestamp throws a RangeError for non-timestamps and non-strings', async (t) => {
  t.throws(() => normalizeTimestamp('soon'), RangeError);
  t.throws(() => normalizeTimestamp(1714557600), { name: 'RangeError', message: /got a number/ });
});

t.test('normalizeDate keeps YYYY-MM-DD and takes the written date of a timestamp', async (t) => {
  t.equal(normalizeDate('2024-06-30'), '2024-06-30');
  t.equal(normalizeDate('2024-06-30T23:30:00-05:00'), '2024-06-30');
  t.equal(normalizeDate(''), null);
  t.equal(normalizeDate(null), null);
  t.throws(() => normalizeDate('2024-06-31'), RangeError);
  t.throws(() => normalizeDate('30/06/2024'), RangeError);
  t.throws(() => normalizeDate(true), RangeError);
});

t.test('compareTimestamps orders instants across offsets and sub-millisecond digits', async (t) => {
  t.equal(compareTimestamps('2024-05-01T10:00:00+02:00', '2024-05-01T08:00:00.000Z'), 0);
  t.equal(compareTimestamps('2024-05-01T08:00:00.001Z', '2024-05-01T08:00:00Z'), 1);
  t.equal(compareTimestamps('2024-05-01T07:59:59Z', '2024-05-01T10:00:00+02:00'), -1);
  t.equal(compareTimestamps('2024-05-01T08:00:00.0001Z', '2024-05-01T08:00:00.000Z'), 1);
  t.equal(compareTimestamps('garbage', '2024-05-01T08:00:00Z'), -1);
});

t.test('canonical UTC timestamps are kept exactly when real and refused when the date does not exist', async (t) => {
  t.equal(toUtcTimestamp('2024-02-29T10:00:00.000Z'), '2024-02-29T10:00:00.000Z', 'leap day');
  t.equal(toUtcTimestamp('2023-02-29T10:00:00.000Z'), null, 'no leap day in 2023');
  t.equal(toUtcTimestamp('1900-02-29T10:00:00.000Z'), null, 'no leap day in 1900');
  t.equal(toUtcTimestamp('2024-04-31T10:00:00.000Z'), null);
  t.equal(toUtcTimestamp('2024-13-01T00:00:00.000Z'), null);
  t.equal(toUtcTimestamp('2024-00-10T00:00:00.000Z'), null);
  t.equal(toUtcTimestamp('2024-01-00T00:00:00.000Z'), null);
  t.equal(toUtcTimestamp('2024-01-01T24:00:00.000Z'), null);
  t.equal(toUtcTimestamp('2024-01-01T23:60:00.000Z'), null);
  t.equal(toUtcTimestamp('2024-12-31T23:59:60.000Z'), '2025-01-01T00:00:00.000Z', 'a leap second rolls over');
  // Against Date's own round trip, over every month and the days around each month's end.
  const mismatches: string[] = [];
  for (const year of [1999, 2000, 2023, 2024, 2100]) {
    for (let month = 0; month <= 13; month++) {
      for (let day = 0; day <= 32; day++) {
        const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T23:59:59.999Z`;
        const ms = Date.parse(text);
        const real = !Number.isNaN(ms) && new Date(ms).toISOString() === text;
        if ((toUtcTimestamp(text) === text) !== real) mismatches.push(text);
      }
    }
  }
  t.same(mismatches, [], 'the same verdict as a round trip through Date');
});
