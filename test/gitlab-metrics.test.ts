import t from 'tap';
import { ClientMetrics, endpointOf } from '../lib/gitlab/metrics.js';

t.test('endpoints replace ids and url-encoded paths with :id', async (t) => {
  t.equal(endpointOf('/api/v4/projects/42/merge_requests'), '/projects/:id/merge_requests');
  t.equal(endpointOf('/api/v4/projects/group%2Fsub%2Fproj'), '/projects/:id');
  t.equal(endpointOf('/gitlab/api/v4/users/7', '/gitlab/api/v4'), '/users/:id');
  t.equal(endpointOf('/api/v4'), '/');
  t.equal(endpointOf('/api/graphql'), '/api/graphql');
});

t.test('counts totals and per-endpoint figures', async (t) => {
  const m = new ClientMetrics();
  m.recordResponse('/projects', 200, 100, 10);
  m.recordResponse('/projects', 429, 5, 2);
  m.recordRetry('/projects');
  m.recordNetworkError('/users/:id', 30);
  m.recordRetry('/users/:id');
  m.recordResponse('/users/:id', 404, 20, 4);
  t.same(m.snapshot(), {
    requests: 4,
    retries: 2,
    rateLimited: 1,
    errors: 3,
    bytes: 125,
    totalMs: 46,
    byEndpoint: {
      '/projects': { requests: 2, retries: 1, rateLimited: 1, errors: 1, bytes: 105, totalMs: 12 },
      '/users/:id': { requests: 2, retries: 1, rateLimited: 0, errors: 2, bytes: 20, totalMs: 34 },
    },
  });
});
