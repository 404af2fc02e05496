// @ts-check
/**
 * A local GitLab (REST API v4 + GraphQL users) simulator for tap-gitlab's end-to-end tests, demo and benchmark.
 * Plain Node ESM, no dependencies. See startSimulator() for the options and the returned handle.
 */
import http from 'node:http';
import { generateDataset } from './dataset.mjs';
import { Store } from './store.mjs';
import { FaultInjector, RateLimiter, app429 } from './faults.mjs';
import { answerGraphql } from './graphql.mjs';
import { createRng } from './random.mjs';
import {
  getProjects, getProject, getMergeRequests, getGroup, getGroupProjects, getUsers, getUser, getCurrentUser, getVersion, message,
} from './routes.mjs';

export { isMember, isVisible, projectSearch } from './routes.mjs';
export { generateDataset } from './dataset.mjs';

/**
 * @typedef {import('./dataset.mjs').Dataset} Dataset
 * @typedef {import('./faults.mjs').FaultOptions} FaultOptions
 * @typedef {import('./faults.mjs').RateLimitOptions} RateLimitOptions
 * @typedef {import('./routes.mjs').Answer} Answer
 * @typedef {import('./routes.mjs').Ctx} Ctx
 * @typedef {{ everyNRequests: number, update?: number, create?: number }} MutateDuringScan
 *
 * @typedef {object} SimulatorOptions
 * @property {number} [port] 0 = any free port (default)
 * @property {string} [token] accepted token (default 'glpat-simulator-token')
 * @property {number} [seed] dataset seed (default 1)
 * @property {number} [projects] default 20
 * @property {number} [groups] top-level groups, default 3
 * @property {number} [subgroupsPerGroup] default 1
 * @property {number} [mergeRequestsPerProject] average; skewed (some projects many, some none), default 50
 * @property {number} [users] default 40 (min 3: the token user and the Ghost user are always there)
 * @property {number} [privateShare] default 0.3
 * @property {number} [archivedShare] default 0.1
 * @property {number} [bulkEditSize] MRs sharing one updated_at in the busiest project, default 150 (0 = none)
 * @property {number} [latencyMs] delay before each API answer, default 0
 * @property {boolean} [admin] token user is an admin (admin views, sees every project), default false
 * @property {number} [pageSizeMax] per_page clamp, default 100
 * @property {number} [offsetCap] offset_pagination_limit for /projects and /users (0 disables), default 50000
 * @property {number} [totalsCap] X-Total/X-Total-Pages dropped above this many rows, default 10000
 * @property {RateLimitOptions | null} [rateLimit] Rack::Attack-like authenticated throttle, default null
 * @property {FaultOptions | null} [faults] default null
 * @property {MutateDuringScan | null} [mutateDuringScan] default null
 * @property {boolean} [movedProjects] old paths of a few projects answer 301, default true
 * @property {string} [externalUrl] host used in web_url fields and Link headers (default: the simulator's own URL)
 * @property {string} [version] GET /version, default '17.5.0-ee'
 * @property {() => number} [now] clock for mutations and rate-limit windows (default Date.now); the simulator clock never goes back
 * @property {boolean} [log] keep a request log (requestLog()), default false
 * @property {number} [jsonCacheEntries] serialised objects kept per view, default 40000 (the bench raises it to hold a whole dataset)
 *
 * @typedef {object} SimulatorStats
 * @property {number} requests API requests received (control routes excluded)
 * @property {Record<string, number>} byRoute e.g. { "GET /projects": 3, "GET /projects/:id/merge_requests": 40 }
 * @property {Record<string, number>} statuses answered status codes, plus "reset", "hang"
 * @property {Record<string, number>} faults injected faults by kind
 * @property {number} rateLimited 429s from the rateLimit throttle
 * @property {{ updated: number, created: number, deleted: number }} mutations
 *
 * @typedef {object} ControlOptions
 * @property {FaultOptions | null} [faults]
 * @property {MutateDuringScan | null} [mutateDuringScan]
 * @property {RateLimitOptions | null} [rateLimit]
 * @property {number} [latencyMs]
 * @property {boolean} [admin]
 * @property {boolean} [movedProjects]
 * @property {number} [offsetCap]
 * @property {number} [totalsCap]
 */

const JSON_HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'max-age=0, private, must-revalidate',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'SAMEORIGIN',
  Vary: 'Origin, Accept-Encoding',
};

/**
 * Starts the simulator on 127.0.0.1.
 * @param {SimulatorOptions} [options]
 */
export async function startSimulator(options = {}) {
  const token = options.token ?? 'glpat-simulator-token';
  const now = options.now ?? Date.now;
  const cfg = {
    admin: options.admin ?? false,
    pageSizeMax: options.pageSizeMax ?? 100,
    offsetCap: options.offsetCap ?? 50_000,
    totalsCap: options.totalsCap ?? 10_000,
    movedProjects: options.movedProjects ?? true,
    version: options.version ?? '17.5.0-ee',
    latencyMs: options.latencyMs ?? 0,
    /** @type {MutateDuringScan | null} */
    mutateDuringScan: options.mutateDuringScan ?? null,
  };
  /** @type {RateLimiter | null} */
  let limiter = options.rateLimit ? new RateLimiter(options.rateLimit, now) : null;
  const injector = new FaultInjector(options.faults);
  const mutationRng = createRng((options.seed ?? 1) * 7919 + 17);
  let mrListRequests = 0;
  let requestSeq = 0;

  /** @type {SimulatorStats} */
  let stats = freshStats();
  /** @type {Array<{ method: string, url: string, route: string, status: number | string }>} */
  const log = [];
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();
  /** @type {Set<http.ServerResponse>} */
  const hung = new Set();

  const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent && !res.destroyed) send(res, '', { status: 500, body: { message: `500 Internal Server Error: ${String(err?.message ?? err)}` } });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${address.port}`;
  const externalUrl = (options.externalUrl ?? url).replace(/\/+$/, '');
  const apiUrl = `${externalUrl}/api/v4`;

  const dataset = generateDataset({
    seed: options.seed, projects: options.projects, groups: options.groups, subgroupsPerGroup: options.subgroupsPerGroup,
    mergeRequestsPerProject: options.mergeRequestsPerProject, users: options.users, privateShare: options.privateShare,
    archivedShare: options.archivedShare, admin: cfg.admin, movedProjects: cfg.movedProjects, bulkEditSize: options.bulkEditSize,
    webUrl: externalUrl,
  });
  const store = new Store(dataset, { now, ...(options.jsonCacheEntries ? { jsonCacheEntries: options.jsonCacheEntries } : {}) });

  function freshStats() {
    return { requests: 0, byRoute: {}, statuses: {}, faults: {}, rateLimited: 0, mutations: { updated: 0, created: 0, deleted: 0 } };
  }

  /** @param {Record<string, number>} map @param {string} key */
  function bump(map, key) {
    map[key] = (map[key] ?? 0) + 1;
  }

  /**
   * Writes a whole answer with one res.end.
   * @param {http.ServerResponse} res @param {string} route @param {Answer} answer @param {Record<string, string>} [extra]
   */
  function send(res, route, answer, extra) {
    const body = typeof answer.body === 'string' || Buffer.isBuffer(answer.body) ? answer.body : JSON.stringify(answer.body);
    const headers = { ...JSON_HEADERS, 'X-Request-Id': `sim-${++requestSeq}`, ...extra, ...answer.headers, 'Content-Length': String(Buffer.byteLength(body)) };
    if (route) {
      bump(stats.statuses, String(answer.status));
      if (options.log) log.push({ method: res.req.method ?? '', url: res.req.url ?? '', route, status: answer.status });
    }
    res.writeHead(answer.status, headers);
    res.end(body);
  }

  /**
   * Sends the headers and half of the body, then drops the connection.
   * @param {http.ServerResponse} res @param {Answer} answer @param {Record<string, string>} extra
   */
  function sendTruncated(res, answer, extra) {
    const b = answer.body;
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(typeof b === 'string' ? b : JSON.stringify(b));
    res.writeHead(answer.status, { ...JSON_HEADERS, ...extra, ...answer.headers, 'Content-Length': String(buf.length) });
    res.write(buf.subarray(0, Math.max(1, Math.floor(buf.length / 2))), () => res.socket?.destroy());
  }

  /** @param {http.IncomingMessage} req @returns {Promise<string>} */
  function readBody(req) {
    return new Promise((resolve, reject) => {
      /** @type {Buffer[]} */
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  /** @param {number} ms */
  function delay(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve(undefined);
      }, ms);
      timers.add(t);
    });
  }

  /**
   * Route key and handler for an API path.
   * @param {string} method @param {string} rawPath path after /api/v4 (still URL-encoded)
   * @returns {{ route: string, run: (ctx: Ctx) => Answer }}
   */
  function route(method, rawPath) {
    const seg = rawPath.split('/').filter(Boolean);
    const [a, id, c, ...rest] = seg;
    if (method === 'GET' && rest.length === 0) {
      if (a === 'user' && !id) return { route: 'GET /user', run: getCurrentUser };
      if (a === 'version' && !id) return { route: 'GET /version', run: getVersion };
      if (a === 'projects' && !id) return { route: 'GET /projects', run: getProjects };
      if (a === 'projects' && id && !c) return { route: 'GET /projects/:id', run: (ctx) => getProject(ctx, id) };
      if (a === 'projects' && id && c === 'merge_requests') return { route: 'GET /projects/:id/merge_requests', run: (ctx) => getMergeRequests(ctx, id, mutateIfDue) };
      if (a === 'groups' && id && !c) return { route: 'GET /groups/:id', run: (ctx) => getGroup(ctx, id) };
      if (a === 'groups' && id && c === 'projects') return { route: 'GET /groups/:id/projects', run: (ctx) => getGroupProjects(ctx, id) };
      if (a === 'users' && !id) return { route: 'GET /users', run: getUsers };
      if (a === 'users' && id && !c) return { route: 'GET /users/:id', run: (ctx) => getUser(ctx, id) };
    }
    return { route: `${method} (unknown)`, run: () => ({ status: 404, body: { error: '404 Not Found' } }) };
  }

  /** Mutation during a scan: every N merge-request list requests, update and create MRs. @param {import('./dataset.mjs').Project} project */
  function mutateIfDue(project) {
    const m = cfg.mutateDuringScan;
    if (!m || !(m.everyNRequests > 0)) return;
    mrListRequests++;
    if (mrListRequests % m.everyNRequests !== 0) return;
    const rnd = mutationRng.next;
    const own = store.mergeRequestIndex(project.id).byCreated;
    const pool = own.length > 0 ? own : dataset.mergeRequests;
    for (let i = 0; i < (m.update ?? 0) && pool.length > 0; i++) {
      const target = pool[Math.floor(rnd() * pool.length)];
      if (target) store.updateMergeRequest(target.id, {}, rnd);
    }
    for (let i = 0; i < (m.create ?? 0); i++) store.createMergeRequest(project.id, {}, rnd);
  }

  /** @param {http.IncomingMessage} req @param {URLSearchParams} query @returns {boolean} */
  function authorised(req, query) {
    if (query.has('private_token') || query.has('access_token')) return false;
    const pt = req.headers['private-token'];
    if (pt !== undefined) return pt === token;
    const auth = req.headers.authorization;
    return typeof auth === 'string' && auth === `Bearer ${token}`;
  }

  /** @param {ControlOptions} c */
  function control(c) {
    if ('faults' in c) injector.set(c.faults ?? null);
    if ('mutateDuringScan' in c) {
      cfg.mutateDuringScan = c.mutateDuringScan ?? null;
      mrListRequests = 0;
    }
    if ('rateLimit' in c) limiter = c.rateLimit ? new RateLimiter(c.rateLimit, now) : null;
    if (typeof c.latencyMs === 'number') cfg.latencyMs = c.latencyMs;
    if (typeof c.admin === 'boolean') cfg.admin = c.admin;
    if (typeof c.movedProjects === 'boolean') cfg.movedProjects = c.movedProjects;
    if (typeof c.offsetCap === 'number') cfg.offsetCap = c.offsetCap;
    if (typeof c.totalsCap === 'number') cfg.totalsCap = c.totalsCap;
  }

  function snapshotStats() {
    stats.mutations = { ...store.mutationCounts };
    return /** @type {SimulatorStats} */ (structuredClone(stats));
  }

  function resetStats() {
    stats = freshStats();
    store.mutationCounts = { updated: 0, created: 0, deleted: 0 };
    limiter?.reset();
    log.length = 0;
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  async function handle(req, res) {
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const path = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : rawUrl.slice(qi + 1));
    const method = req.method ?? 'GET';

    // ---- control routes: no auth, no faults, not counted
    if (path.startsWith('/__')) {
      if (path === '/__stats' && method === 'GET') return send(res, '', { status: 200, body: snapshotStats() });
      if (path === '/__reset-stats' && method === 'POST') {
        resetStats();
        return send(res, '', { status: 200, body: { ok: true } });
      }
      if (path === '/__control' && method === 'POST') {
        let body;
        try {
          body = JSON.parse((await readBody(req)) || '{}');
        } catch {
          return send(res, '', { status: 400, body: { error: 'invalid JSON' } });
        }
        control(body);
        return send(res, '', { status: 200, body: { ok: true } });
      }
      if (path === '/__dataset' && method === 'GET') {
        return send(res, '', { status: 200, body: { owner: dataset.owner, users: dataset.users, groups: dataset.groups, projects: dataset.projects, mergeRequests: dataset.mergeRequests, redirects: dataset.redirects, bulkEdit: dataset.bulkEdit } });
      }
      return send(res, '', { status: 404, body: { error: '404 Not Found' } });
    }

    const isGraphql = path === '/api/graphql';
    const r = isGraphql ? { route: 'POST /api/graphql', run: null } : path.startsWith('/api/v4/') || path === '/api/v4' ? route(method, path.slice('/api/v4'.length)) : { route: `${method} (unknown)`, run: null };
    stats.requests++;
    bump(stats.byRoute, r.route);
    const bodyText = method === 'POST' ? await readBody(req) : '';

    if (cfg.latencyMs > 0) await delay(cfg.latencyMs);
    if (res.destroyed) return;

    const fault = injector.draw(r.route);
    if (fault) bump(stats.faults, fault);
    if (fault === 'hang') {
      bump(stats.statuses, 'hang');
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    if (fault === 'reset') {
      bump(stats.statuses, 'reset');
      req.socket.destroy();
      return;
    }
    if (fault === 'error') return send(res, r.route, injector.errorResponse(`${method} ${req.url ?? ''} ${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join(' ')}`));
    if (fault === 'app429') return send(res, r.route, app429());
    if (fault === 'rack429') return send(res, r.route, injector.rack429(now()));

    if (!authorised(req, query)) {
      if (isGraphql) return send(res, r.route, { status: 401, body: { errors: [{ message: 'Invalid token' }] } });
      const bearer = typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('Bearer ');
      if (bearer && req.headers['private-token'] === undefined) {
        return send(res, r.route, {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired. You can either do re-authorization or token refresh."' },
          body: { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' },
        });
      }
      return send(res, r.route, message(401, '401 Unauthorized'));
    }

    /** @type {Record<string, string>} */
    let rlHeaders = {};
    if (limiter) {
      const hit = limiter.hit();
      if (hit.limited) {
        stats.rateLimited++;
        return send(res, r.route, hit.limited);
      }
      rlHeaders = hit.headers;
    }

    /** @type {Answer} */
    let answer;
    if (isGraphql) {
      if (method !== 'POST') answer = { status: 405, body: { errors: [{ message: 'Use POST' }] } };
      else {
        let payload;
        try {
          payload = JSON.parse(bodyText);
        } catch {
          payload = null;
        }
        const g = answerGraphql(payload, { users: dataset.users, usersById: dataset.usersById });
        answer = { status: g.status, body: /** @type {object} */ (g.body) };
      }
    } else if (r.run) {
      /** @type {Ctx} */
      const ctx = { store, cfg, query, linkBase: `${externalUrl}${path}`, apiUrl };
      answer = r.run(ctx);
    } else {
      answer = { status: 404, body: { error: '404 Not Found' } };
    }
    if (fault === 'truncate' && answer.status === 200) {
      bump(stats.statuses, 'truncated');
      return sendTruncated(res, answer, rlHeaders);
    }
    return send(res, r.route, answer, rlHeaders);
  }

  /**
   * Runs `fn` with the dataset and mutation helpers, then rebuilds every index (so direct edits are seen too).
   * @template R
   * @param {(api: MutationApi) => R} fn
   * @returns {R}
   */
  function mutate(fn) {
    /** @typedef {ReturnType<typeof makeApi>} MutationApi */
    const result = fn(makeApi());
    if (result && typeof (/** @type {any} */ (result).then) === 'function') {
      return /** @type {any} */ (/** @type {Promise<unknown>} */ (/** @type {unknown} */ (result)).then((v) => {
        store.reindex();
        return v;
      }));
    }
    store.reindex();
    return result;
  }

  function makeApi() {
    return {
      dataset,
      /** the simulator clock (ms), strictly increasing */
      now: () => store.tick(),
      /** @param {number} id @param {Record<string, unknown>} [patch] */
      updateMergeRequest: (id, patch) => store.updateMergeRequest(id, patch, mutationRng.next),
      /** @param {number} projectId @param {Record<string, unknown>} [patch] */
      createMergeRequest: (projectId, patch) => store.createMergeRequest(projectId, patch, mutationRng.next),
      /** @param {number} id */
      deleteMergeRequest: (id) => store.deleteMergeRequest(id),
      /** @param {number} id @param {Record<string, unknown>} [patch] */
      updateProject: (id, patch) => store.updateProject(id, patch),
      /** @param {number} id @param {string} newPath */
      moveProject: (id, newPath) => store.moveProject(id, newPath),
    };
  }

  async function close() {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const res of hung) res.destroy();
    hung.clear();
    await new Promise((resolve) => {
      server.close(() => resolve(undefined));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    });
  }

  return {
    /** http://127.0.0.1:PORT */
    url,
    /** what a tap config's gitlab_base_url should be (same as url) */
    baseUrl: url,
    /** url + '/api/v4' */
    apiUrl: `${url}/api/v4`,
    token,
    dataset,
    /** counters since start or the last reset() */
    stats: snapshotStats,
    /** zero the counters, the rate-limit window and the request log */
    reset: resetStats,
    /**
     * Serialises every project and merge request (the views a tap's default requests ask for) into the
     * JSON cache now, so that a measured run does not pay for the simulator's first serialisation on
     * the same cores (GitLab itself runs elsewhere). Give jsonCacheEntries ≥ the dataset's size.
     */
    warm: () => store.warm(),
    mutate,
    /** replace the fault settings (null = none) @param {FaultOptions | null} f */
    setFaults: (f) => injector.set(f),
    /** change runtime settings (same body as POST /__control) */
    control,
    /** mutation log: every update/create/delete with the MR id and its new updated_at */
    mutationLog: () => store.mutationLog.slice(),
    /** requests seen (only with options.log) */
    requestLog: () => log.slice(),
    close,
  };
}
