import t from 'tap';
import { ConfigError, GitLabHttpError, InterruptedError, TapError, isTapError, redact, secretForms } from '../lib/errors.js';

const TOKEN = 'glpat-Abc123-XYZ789';

t.test('redact removes a secret in every form code may have given it, and nothing else', async (t) => {
  t.equal(redact(`GET /x?private_token=${TOKEN} failed`, [TOKEN]), 'GET /x?private_token=[REDACTED] failed');
  t.equal(redact(`${TOKEN} and ${TOKEN}`, [TOKEN]), '[REDACTED] and [REDACTED]', 'every occurrence');
  const wrapped = 'glpat-Abc123\n   XYZ789';
  t.equal(redact('token: glpat-Abc123 XYZ789.', [wrapped]), 'token: [REDACTED].', 'its whitespace collapsed, as a one-line formatter leaves it');
  t.equal(redact('token: glpat-Abc123XYZ789.', [wrapped]), 'token: [REDACTED].', 'its whitespace removed');
  t.equal(redact('{"t":"glpat-Abc123\\n   XYZ789"}', [wrapped]), '{"t":"[REDACTED]"}', 'JSON-escaped');
  t.equal(redact('first half glpat-Abc123 only', [wrapped]), 'first half [REDACTED] only', 'each piece of a wrapped secret');
  t.equal(redact('no secret here', [TOKEN]), 'no secret here');
  t.equal(redact('abc', ['abc']), 'abc', 'too short to be told from ordinary words');
});

t.test('secretForms lists the longest first, so that a whole form goes before its pieces', async (t) => {
  const forms = secretForms(' glpat-aaaa bbbb ');
  t.same(forms, [...forms].sort((a, b) => b.length - a.length));
  t.ok(forms.includes('glpat-aaaa bbbb') && forms.includes('glpat-aaaabbbb') && forms.includes('glpat-aaaa') && forms.includes('bbbb'));
  t.notOk(forms.includes(''), 'never an empty form');
});

t.test('tap errors carry a stable code, an exit code and the cause', async (t) => {
  const cause = new Error('socket');
  const e = new TapError('SOME_CODE', 'Do this.', 1, { cause });
  t.ok(isTapError(e));
  t.notOk(isTapError(new Error('x')));
  t.match(e, { code: 'SOME_CODE', exitCode: 1, message: 'Do this.', cause });
  t.match(new ConfigError(['a is wrong.', 'b is wrong.']), { code: 'CONFIG_INVALID', exitCode: 2, problems: ['a is wrong.', 'b is wrong.'] });
  t.match(new InterruptedError('SIGTERM'), { code: 'INTERRUPTED', exitCode: 1, message: 'Stopped by SIGTERM; the last STATE printed is safe to resume from.' });
  t.equal(new InterruptedError('a signal', { wroteState: false }).message, 'Stopped by a signal.');
  const http = new GitLabHttpError({ status: 404, method: 'GET', path: '/api/v4/projects/1', gitlabMessage: '404 Project Not Found', advice: 'Check the id.', retries: 2 });
  t.match(http, { code: 'GITLAB_HTTP_404', status: 404, tokenScope: false, message: 'GitLab answered 404 to GET /api/v4/projects/1 after 2 retries: 404 Project Not Found. Check the id.' });
});
