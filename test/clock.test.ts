import t from 'tap';
import { fakeClock, systemClock } from '../lib/clock.js';

t.test('the fake clock records sleeps, advances time and resolves at once', async (t) => {
  const c = fakeClock(1000);
  t.equal(c.now(), 1000);
  await c.sleep(250);
  await c.sleep(0);
  c.advance(5);
  t.same(c.sleeps, [250, 0]);
  t.equal(c.now(), 1255);
});

t.test('sleeping on an aborted signal rejects with its reason', async (t) => {
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await t.rejects(fakeClock().sleep(10, ac.signal), { message: 'stop' });
  await t.rejects(systemClock.sleep(10_000, ac.signal), { message: 'stop' });
});

t.test('the system clock sleep can be cut short by an abort', async (t) => {
  const ac = new AbortController();
  const p = systemClock.sleep(60_000, ac.signal);
  ac.abort(new Error('interrupted'));
  await t.rejects(p, { message: 'interrupted' });
  t.ok(Math.abs(systemClock.now() - Date.now()) < 1000);
});

t.test('a sleep longer than setTimeout can hold waits instead of firing at once with a warning', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.name);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const controller = new AbortController();
  let settled = 'pending';
  const sleeping = systemClock.sleep(2 ** 33, controller.signal).then(
    () => (settled = 'resolved'),
    () => (settled = 'aborted'),
  );
  await new Promise((r) => setTimeout(r, 30));
  t.equal(settled, 'pending');
  controller.abort();
  await sleeping;
  t.equal(settled, 'aborted');
  t.same(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
});
