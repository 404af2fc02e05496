import t from 'tap';
import { ProjectScan } from '../lib/scan-ranges.js';

const at = (iso: string) => Date.parse(iso);

t.test('an unsplit scan bookmarks its cursor and the ids at it, and nothing before its first page', async (t) => {
  const scan = new ProjectScan(null, []);
  t.equal(scan.bookmark(), null, 'nothing read yet from the beginning');
  const [r] = scan.ranges;
  scan.advance(r!, '2024-01-02T00:00:00.000Z', [7, 8], 50);
  t.same(scan.bookmark(), { cursor: '2024-01-02T00:00:00.000Z', ids: [7, 8] });
  t.notOk(scan.done);
  scan.finish(r!);
  t.ok(scan.done);
});

t.test('a scan that resumes from a bookmark keeps it until a page moves it', async (t) => {
  const scan = new ProjectScan('2024-01-01T00:00:00.000Z', [3]);
  t.same(scan.bookmark(), { cursor: '2024-01-01T00:00:00.000Z', ids: [3] });
});

t.test('a range is not split before a page of it has been read, nor when its span is too narrow', async (t) => {
  const scan = new ProjectScan('2024-01-01T00:00:00.000Z', []);
  const [r] = scan.ranges;
  t.equal(scan.split(r!, at('2024-01-03T00:00:00.000Z')), null, 'size unknown before the first page');
  scan.advance(r!, '2024-01-01T00:00:00.000Z', [1], 900);
  t.equal(scan.split(r!, at('2024-01-01T00:00:00.001Z')), null, 'one millisecond has no middle');
  scan.finish(r!);
  t.equal(scan.split(r!, at('2024-01-03T00:00:00.000Z')), null, 'a finished range is not split');
});

t.test('a split cuts the rest of a range at the middle of its span; the halves share the rows left', async (t) => {
  const scan = new ProjectScan(null, []);
  const [first] = scan.ranges;
  scan.advance(first!, '2024-01-01T00:00:00.000Z', [1], 1000);
  const later = scan.split(first!, at('2024-01-03T00:00:00.000Z'));
  t.same(later, { cursor: '2024-01-02T00:00:00.000Z', seen: [], until: null, remaining: 500, read: false, done: false }, 'the later half is open-ended like the range it came from');
  t.equal(first!.until, '2024-01-02T00:00:00.000Z', 'the earlier half now ends at the split point');
  t.equal(first!.remaining, 500);
  // Splitting the earlier half again cuts between its cursor and its new end.
  const middle = scan.split(first!, at('2030-01-01T00:00:00.000Z'));
  t.equal(middle?.cursor, '2024-01-01T12:00:00.000Z');
  t.equal(middle?.until, '2024-01-02T00:00:00.000Z');
  t.same(scan.ranges.map((r) => [r.cursor, r.until]), [
    ['2024-01-01T00:00:00.000Z', '2024-01-01T12:00:00.000Z'],
    ['2024-01-01T12:00:00.000Z', '2024-01-02T00:00:00.000Z'],
    ['2024-01-02T00:00:00.000Z', null],
  ]);
});

t.test('the bookmark goes through finished ranges and stops in the first unfinished one', async (t) => {
  const scan = new ProjectScan(null, []);
  const [a] = scan.ranges;
  scan.advance(a!, '2024-01-01T00:00:00.000Z', [1], 1000);
  const b = scan.split(a!, at('2024-01-03T00:00:00.000Z'))!;
  scan.advance(b, '2024-01-02T06:00:00.000Z', [20], 400);
  t.same(scan.bookmark(), { cursor: '2024-01-01T00:00:00.000Z', ids: [1] }, 'the later range ran ahead, but the first is not finished');
  scan.advance(a!, '2024-01-01T20:00:00.000Z', [9], 0);
  scan.finish(a!);
  t.same(scan.bookmark(), { cursor: '2024-01-02T06:00:00.000Z', ids: [20] }, 'the first finished: the bookmark moves into the second');
  scan.advance(b, '2024-01-02T23:00:00.000Z', [30, 31], 0);
  scan.finish(b);
  t.ok(scan.done);
  t.same(scan.bookmark(), { cursor: '2024-01-02T23:00:00.000Z', ids: [30, 31] });
});

t.test('a finished range that never reached its end moves the bookmark to the split point, not past what the next range read', async (t) => {
  const scan = new ProjectScan(null, []);
  const [a] = scan.ranges;
  scan.advance(a!, '2024-01-01T00:00:00.000Z', [1], 1000);
  const b = scan.split(a!, at('2024-01-03T00:00:00.000Z'))!;
  scan.finish(a!);
  t.same(scan.bookmark(), { cursor: '2024-01-02T00:00:00.000Z', ids: [] }, 'the first range covered everything up to the split point');
  t.notOk(b.done);
});

t.test('ids emitted at the same timestamp by two ranges are both kept in the bookmark', async (t) => {
  const scan = new ProjectScan(null, []);
  const [a] = scan.ranges;
  scan.advance(a!, '2024-01-01T00:00:00.000Z', [1], 1000);
  const b = scan.split(a!, at('2024-01-03T00:00:00.000Z'))!;
  scan.advance(a!, '2024-01-02T00:00:00.000Z', [5], 0);
  scan.finish(a!);
  scan.advance(b, '2024-01-02T00:00:00.000Z', [6], 10);
  t.same(scan.bookmark(), { cursor: '2024-01-02T00:00:00.000Z', ids: [5, 6] });
});

t.test('a row exactly at a split point is claimed once; other rows are never held back', async (t) => {
  const scan = new ProjectScan(null, []);
  t.notOk(scan.hasBoundaries);
  const [a] = scan.ranges;
  scan.advance(a!, '2024-01-01T00:00:00.000Z', [1], 1000);
  scan.split(a!, at('2024-01-03T00:00:00.000Z'));
  t.ok(scan.hasBoundaries);
  const point = at('2024-01-02T00:00:00.000Z');
  t.ok(scan.claim(42, point), 'the first range to read it emits it');
  t.notOk(scan.claim(42, point), 'the range on the other side does not');
  t.ok(scan.claim(43, point), 'another row at the point is its own');
  t.ok(scan.claim(42, point + 1), 'off the point nothing is checked');
  t.ok(scan.claim(42, point + 1));
});

t.test('the open-ended last range is split only up to GitLab\'s clock, and not at all without it', async (t) => {
  const scan = new ProjectScan(null, []);
  const [a] = scan.ranges;
  scan.advance(a!, '2024-01-01T00:00:00.000Z', [1], 1000);
  t.equal(scan.split(a!, null), null, 'no horizon: the last range stays whole');
  const later = scan.split(a!, at('2024-01-01T10:00:00.000Z'));
  t.equal(later?.cursor, '2024-01-01T05:00:00.000Z');
  t.equal(scan.split(a!, null)?.cursor, '2024-01-01T02:30:00.000Z', 'a bounded range needs no horizon');
});

t.test('finish says once, to the range that completes it, that the whole scan is done', async (t) => {
  const scan = new ProjectScan(null, []);
  const [a] = scan.ranges;
  scan.advance(a!, '2024-01-01T00:00:00.000Z', [1], 1000);
  const b = scan.split(a!, at('2024-01-03T00:00:00.000Z'))!;
  t.equal(scan.finish(a!), false, 'the later range is still being read');
  t.equal(scan.finish(b), true, 'the last range to finish completes the scan');
  t.equal(scan.finish(b), false, 'finishing it again (after its final page, then at the loop end) says nothing new');
  t.equal(scan.finish(a!), false);
});

t.test('a row at a split point claimed by the later range counts for the bookmark only once that range has written it', async (t) => {
  const scan = new ProjectScan('2024-01-01T00:00:00.000Z', []);
  const [first] = scan.ranges;
  scan.advance(first!, '2024-01-02T00:00:00.000Z', [1], 100);
  const later = scan.split(first!, at('2024-01-03T00:00:00.000Z'));
  t.ok(later);
  const point = first!.until as string;
  // The later range claims row 9 at the split point, and waits for the output before writing it.
  t.ok(scan.claim(9, at(point)));
  // The earlier range reads row 9 too (not claimable), reaches the split point and finishes.
  t.notOk(scan.claim(9, at(point)));
  scan.advance(first!, point, [9], 0);
  scan.finish(first!);
  t.same(scan.bookmark(), { cursor: point, ids: [] }, 'a STATE taken now resumes at the point and reads row 9 again');
  scan.commit([9]);
  t.same(scan.bookmark(), { cursor: point, ids: [9] }, 'once written, row 9 is not read again');
});
