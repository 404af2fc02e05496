import t from 'tap';
import { adviceFor, gitlabMessage, httpError, isOffsetCapMessage, summariseHtml } from '../lib/gitlab/http-error.js';
import { GitLabHttpError } from '../lib/errors.js';

const json = { 'content-type': 'application/json' };

t.test("reads GitLab's message from each body shape", async (t) => {
  t.equal(gitlabMessage(404, '{"message":"404 Project Not Found"}', json['content-type']), '404 Project Not Found');
  t.equal(gitlabMessage(400, '{"message":{"title":["is too long"],"labels":["is invalid","is empty"]}}', 'application/json'), 'title is too long; labels is invalid, is empty');
  t.equal(gitlabMessage(429, '{"message":{"error":"This endpoint has been requested too many times. Try again later."}}', 'application/json'), 'This endpoint has been requested too many times. Try again later.');
  t.equal(gitlabMessage(405, '{"error":"Offset pagination has a maximum allowed offset of 50000"}', 'application/json'), 'Offset pagination has a maximum allowed offset of 50000');
  t.equal(gitlabMessage(401, '{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}', 'application/json'), 'invalid_token: Token is expired. You can either do re-authorization or token refresh.');
  t.equal(gitlabMessage(401, '{"error_description":"nope"}', null), 'nope');
  t.equal(gitlabMessage(429, 'Retry later\n', 'text/plain'), 'Retry later');
  t.equal(gitlabMessage(502, '', null), 'Bad Gateway');
  t.equal(gitlabMessage(500, '{"unexpected":true}', 'application/json'), '{"unexpected":true}');
});

t.test('summarises an HTML page instead of dumping it', async (t) => {
  const page = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head><body><h1>Whoops, GitLab is taking too much time to respond.</h1>${'<p>filler</p>'.repeat(500)}</body></html>`;
  const msg = gitlabMessage(502, page, 'text/html; charset=utf-8');
  t.equal(msg, '502 Bad Gateway — Whoops, GitLab is taking too much time to respond.');
  t.ok(msg.length <= 200);
  t.equal(summariseHtml('<html><body><script>x()</script><div>Cloudflare &amp; friends: <b>Error 522</b></div></body></html>'), 'Cloudflare & friends: Error 522');
  const long = gitlabMessage(500, `<html><body>${'word '.repeat(200)}</body></html>`, 'text/html');
  t.equal(long.length, 200);
  t.ok(long.endsWith('…'));
});

t.test('advice per status says what to do', async (t) => {
  t.match(adviceFor(401, '401 Unauthorized'), /invalid, expired or revoked.*read_api/);
  t.match(adviceFor(403, 'insufficient_scope: needs more'), /needs read_api/);
  t.match(adviceFor(403, '403 Forbidden', 'Bearer realm="", error="insufficient_scope"'), /needs read_api/);
  t.notMatch(adviceFor(403, '403 Forbidden'), /lacks a scope/);
  t.match(adviceFor(404, '404 Project Not Found'), /not visible to this token/);
  t.match(adviceFor(405, 'Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.'), /keyset/);
  t.match(adviceFor(503, 'x'), /try again later/);
});

t.test('recognises the offset-cap message', async (t) => {
  t.ok(isOffsetCapMessage('Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type User. Remaining records can be retrieved using keyset pagination.'));
  t.notOk(isOffsetCapMessage('Keyset pagination is not yet available for this type of request'));
  t.notOk(isOffsetCapMessage('405 Method Not Allowed'));
});

t.test('builds a GitLabHttpError with a stable code, status, path and no secret', async (t) => {
  const secret = 'glpat-very-secret';
  const err = httpError({ status: 403, method: 'GET', path: '/api/v4/projects/1', bodyText: `{"message":"token ${secret} is blocked"}`, headers: new Headers(json), retries: 0, secrets: [secret] });
  t.type(err, GitLabHttpError);
  t.equal(err.code, 'GITLAB_HTTP_403');
  t.equal(err.status, 403);
  t.equal(err.path, '/api/v4/projects/1');
  t.equal(err.message, "GitLab answered 403 to GET /api/v4/projects/1: token [REDACTED] is blocked. The token's user may not read this (feature disabled, tier-gated endpoint, or blocked IP): check its access; the token needs read_api.");
  t.notMatch(err.message, secret);
});

t.test('a 404 on an endpoint every GitLab has points at gitlab_base_url, not at a missing project', async (t) => {
  const { httpError, isMissingApi } = await import('../lib/gitlab/http-error.js');
  t.ok(isMissingApi(404, '/gitlab/api/v4/projects?membership=true'));
  t.ok(isMissingApi(404, '/api/v4/user'));
  t.notOk(isMissingApi(404, '/api/v4/projects/42'), 'a missing project keeps the project advice');
  t.notOk(isMissingApi(403, '/api/v4/projects'));
  const err = httpError({ status: 404, method: 'GET', path: '/gitlab/api/v4/projects?membership=true', bodyText: '{"error":"404 Not Found"}', headers: new Headers({ 'content-type': 'application/json' }) });
  t.match(err.message, /check gitlab_base_url/);
});

t.test('a conflict, gone, too-long or locked answer each gets its own advice', async (t) => {
  t.match(adviceFor(409, '409 Conflict'), /conflict.*run again later/);
  t.match(adviceFor(410, '410 Gone'), /gone for good.*gitlab_project_ids/);
  t.match(adviceFor(414, '414 Request-URI Too Long'), /too long/);
  t.match(adviceFor(423, '423 Locked'), /locked.*run again later/);
  for (const status of [409, 410, 414, 423]) t.not(adviceFor(status, ''), adviceFor(499, ''), `${status} is not the generic advice`);
});
