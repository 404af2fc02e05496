/**
 * The users stream: every user referenced by the merge requests of the run, taken from the user
 * objects GitLab embeds in merge requests (no call per user), enriched in batches with the profile
 * fields those objects lack:
 * - `graphql` (default): `users(ids:)` 100 ids per request;
 * - `admin`: one keyset listing of `GET /users` (admin view: email, last_activity_on, ...);
 * - `per_user`: `GET /users/:id` per user (slow; GitLab allows 300 per 10 minutes);
 * - `none`: the embedded fields only, no request.
 * Users waiting for enrichment are listed in the state (`users_pending`) so that a run stopped
 * between a merge request page and the users batch still emits them on the next run. Ids are
 * listed (a STATE per page cannot carry thousands of user objects); a restored id is dropped as
 * gone only when a lookup that could answer for it ran and did not find it; when none could
 * (GraphQL unavailable) it stays pending, for a later run's lookup or a merge request naming the
 * user again: never emitted as a row of nulls that would blank one an earlier run loaded. Without
 * lookups (`none`, or after the GraphQL fallback) users are emitted before every STATE, and any
 * still pending are listed as their embedded objects.
 */
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { GitLabHttpError, GitLabResponseError } from '../errors.js';
import type { GitLabClient } from '../gitlab/client.js';
import { keysetPages } from '../gitlab/pagination.js';
import { rawBoolean, rawString } from '../singer/raw-input.js';
import type { Logger } from '../log.js';
import { PROFILE_FIELDS, toUserRecord, type EmbeddedUser, type UserRecord } from './users-schema.js';
import { toEmbeddedUser } from './merge-requests-schema.js';

export type UserEnrichment = 'graphql' | 'admin' | 'per_user' | 'none';
export const USER_BATCH_SIZE = 100;
/** Pending users above which project workers wait for the background lookups to catch up. */
export const USER_BACKLOG = 50 * USER_BATCH_SIZE;

const GRAPHQL_QUERY = `query tapGitlabUsers($ids: [UserID!], $first: Int, $after: String) {
  users(ids: $ids, first: $first, after: $after) {
    nodes { id username name state publicEmail createdAt avatarUrl webUrl bot location jobTitle organization }
    pageInfo { hasNextPage endCursor }
  }
}`;

const GraphQlUsers = Type.Object({
  users: Type.Object({
    // A node GraphQL could not resolve is null (beside an error naming it): the others are good.
    nodes: Type.Array(
      Type.Union([Type.Null(), Type.Object({
        id: Type.String(),
        username: rawString(),
        name: rawString(),
        state: rawString(),
        publicEmail: rawString(),
        createdAt: rawString(),
        avatarUrl: rawString(),
        webUrl: rawString(),
        bot: rawBoolean(),
        location: rawString(),
        jobTitle: rawString(),
        organization: rawString(),
      })]),
    ),
    pageInfo: Type.Object({ hasNextPage: Type.Boolean(), endCursor: rawString() }),
  }),
});
const checkGraphQl = Compile(GraphQlUsers);
const RestUser = Type.Object({ id: Type.Integer() });
const checkRestUser = Compile(RestUser);

/** What a batch lookup found: profiles by id, and the ids it answered for (found or not). */
interface Lookup {
  profiles: Map<number, Record<string, unknown>>;
  /** An id here without a profile is a user GitLab says does not exist; an id not here is unknown. */
  answered: ReadonlySet<number>;
}

const NO_LOOKUP: Lookup = { profiles: new Map(), answered: new Set() };

/** A GraphQL error that says the query itself cannot work on this GitLab (an old version, a field it lacks). */
const SCHEMA_ERROR = /doesn't exist|does not exist|invalid value|isn't defined|is not defined|undefined field|unknown argument|not accept/i;

function gidToId(gid: string): number | null {
  const m = /\/User\/(\d+)$/.exec(gid);
  return m ? Number(m[1]) : null;
}

export interface UserCollectorOptions {
  client: GitLabClient;
  mode: UserEnrichment;
  logger: Logger;
}

/** Collects referenced users, remembers who was emitted this run, and emits them in batches. */
export class UserCollector {
  private readonly pending = new Map<number, EmbeddedUser | null>();
  private readonly emitted = new Set<number>();
  private adminDirectory: Map<number, Record<string, unknown>> | null = null;
  private mode: UserEnrichment;
  private warnedPartial = false;
  /**
   * Restored ids (no embedded fields) that a lookup in this mode could not answer: not asked again this run (each
   * flush would ask again, one request each, page after page); still pending, so the state keeps them. A change of
   * mode (the GraphQL fallback) lets them be asked once more, the new way.
   */
  private readonly unanswered = new Map<number, UserEnrichment>();
  requests = 0;

  constructor(private readonly opts: UserCollectorOptions) {
    this.mode = opts.mode;
  }

  /** Users seen in a merge request; each is emitted once per run. */
  add(users: readonly EmbeddedUser[]): void {
    for (const u of users) {
      if (this.emitted.has(u.id)) continue;
      if (!this.pending.has(u.id) || this.pending.get(u.id) === null) this.pending.set(u.id, u);
    }
  }

  /**
   * Users left pending by an earlier run (the state's `users_pending`): each the user object a merge
   * request embedded (what `pendingEntries` writes), or an id alone (older states). Entries that are
   * neither are skipped.
   */
  restore(entries: readonly unknown[]): void {
    for (const entry of entries) {
      let id: number;
      let embedded: EmbeddedUser | null = null;
      if (Number.isInteger(entry)) id = entry as number;
      else {
        try {
          embedded = toEmbeddedUser(entry);
        } catch {
          continue;
        }
        id = embedded.id;
        // An object that says nothing but the id (a foreign or hand-edited state) is an id: never a row of nulls.
        if (embedded.username === null && embedded.name === null) embedded = null;
      }
      if (this.emitted.has(id)) continue;
      if (!this.pending.has(id) || this.pending.get(id) === null) this.pending.set(id, embedded);
    }
  }

  /**
   * What the state lists as `users_pending`: ids, which a next run looks up (an id stays pending
   * until a lookup answers for it or a merge request names the user again). Without lookups
   * (`none`, or after the GraphQL fallback) users are emitted before every STATE, and the ones still
   * pending are written as their embedded objects, so that a next run can emit them as they are.
   */
  pendingEntries(): Array<number | EmbeddedUser> {
    if (this.mode !== 'none') return [...this.pending.keys()];
    return [...this.pending.entries()].map(([id, embedded]) => embedded ?? id);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  pendingIds(): number[] {
    return [...this.pending.keys()];
  }

  get emittedCount(): number {
    return this.emitted.size;
  }

  /**
   * Emits full batches only (or everything with `all`), so batches stay 100 users wide. Flushes
   * run one after another: projects are read concurrently, and two workers taking the same
   * pending batch would look the users up twice and emit them twice.
   */
  flush(write: (record: UserRecord) => Promise<void>, opts: { all: boolean }): Promise<void> {
    const run = this.flushing.then(() => this.flushNow(write, opts));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private flushing: Promise<void> = Promise.resolve();
  private background: Promise<void> | null = null;
  private backgroundFailure: { error: unknown } | null = null;

  /**
   * What a project worker calls after each page: starts emitting full batches in the background
   * and returns without waiting for GitLab's answer, so the lookups overlap with the reading of
   * merge requests instead of holding every worker behind them. Waits only when more than
   * USER_BACKLOG users are pending (memory stays bounded). Throws the error of a background
   * flush that failed.
   */
  async flushSoon(write: (record: UserRecord) => Promise<void>): Promise<void> {
    this.throwIfFailed();
    if (this.mode === 'none') {
      // Nothing to look up: the users go out now, before the STATE that follows the page, so that no
      // state has to carry what is known of them (a plain id left pending says nothing).
      await this.flush(write, { all: true });
      return;
    }
    if (this.pending.size >= USER_BATCH_SIZE && this.background === null) {
      const job: Promise<void> = this.flush(write, { all: false })
        .catch((error: unknown) => {
          this.backgroundFailure ??= { error };
        })
        .finally(() => {
          if (this.background === job) this.background = null;
        });
      this.background = job;
    }
    if (this.pending.size >= USER_BACKLOG && this.background !== null) await this.background;
    this.throwIfFailed();
  }

  /** Waits for the background flush, if any; throws its error. */
  async settle(): Promise<void> {
    while (this.background !== null) await this.background;
    this.throwIfFailed();
  }

  /** The error a background flush failed with (so callers can tell it from their own). */
  get failure(): unknown {
    return this.backgroundFailure?.error;
  }

  private throwIfFailed(): void {
    if (this.backgroundFailure !== null) throw this.backgroundFailure.error;
  }

  private async flushNow(write: (record: UserRecord) => Promise<void>, opts: { all: boolean }): Promise<void> {
    for (;;) {
      const ready = [...this.pending.entries()].filter(([id, embedded]) => !(embedded === null && this.unanswered.get(id) === this.mode));
      if (ready.length === 0 || (ready.length < USER_BATCH_SIZE && !opts.all)) return;
      const batch = ready.slice(0, USER_BATCH_SIZE);
      const askedAs = this.mode;
      const lookup = await this.enrich(batch.map(([id]) => id));
      for (const [id] of batch) {
        // Read again: a merge request read during the lookup may have brought the embedded fields.
        const embedded = this.pending.get(id) ?? null;
        const profile = lookup.profiles.get(id);
        if (embedded === null && profile === undefined) {
          if (lookup.answered.has(id)) {
            this.pending.delete(id);
            this.opts.logger.debug(`User ${id} from the previous run's pending list no longer exists; not emitted.`);
            continue;
          }
          // No lookup could answer and no merge request of this run named the user: it stays pending
          // (listed in every STATE) for a later run. Not emitted with its id alone: a target that
          // replaces whole rows would blank the fields of a row an earlier run loaded.
          this.unanswered.set(id, askedAs);
          continue;
        }
        const base: EmbeddedUser = embedded ?? {
          id,
          username: null,
          name: null,
          state: null,
          avatar_url: null,
          web_url: null,
          locked: null,
        };
        // Pending until written: a worker naming this user during the write finds it pending (not
        // re-added, not emitted twice), and a STATE taken meanwhile still lists it (not lost).
        await write(toUserRecord(base, profile));
        this.pending.delete(id);
        this.emitted.add(id);
      }
    }
  }

  /**
   * A lookup for a batch. Without a batch lookup (`none`, or GraphQL unavailable), ids an interrupted run left
   * pending without their embedded fields go one by one through `GET /users/:id` (public view: every field a merge
   * request embeds): otherwise nothing could ever emit them, as no merge request of a later run need name them again.
   */
  private async enrich(ids: number[]): Promise<Lookup> {
    const byId = this.mode === 'none' ? ids.filter((id) => this.pending.get(id) === null) : [];
    if (byId.length === 0) return this.enrichBy(ids);
    const wanted = new Set(byId);
    const batch = await this.enrichBy(ids.filter((id) => !wanted.has(id)));
    const one = await this.enrichPerUser(byId);
    return { profiles: new Map([...batch.profiles, ...one.profiles]), answered: new Set([...batch.answered, ...one.answered]) };
  }

  private async enrichBy(ids: number[]): Promise<Lookup> {
    if (ids.length === 0) return NO_LOOKUP;
    switch (this.mode) {
      case 'none':
        return NO_LOOKUP;
      case 'graphql':
        return this.enrichGraphQl(ids);
      case 'admin':
        return this.enrichAdmin(ids);
      case 'per_user':
        return this.enrichPerUser(ids);
    }
  }

  /** `users(ids:)` answers for every id asked once all its pages are read; a fallback answers for none. */
  private async enrichGraphQl(ids: number[]): Promise<Lookup> {
    const out = new Map<number, Record<string, unknown>>();
    let after: string | null = null;
    let partial: string[] | null = null;
    try {
      for (;;) {
        this.requests += 1;
        const { data, errors } = await this.opts.client.graphql(GRAPHQL_QUERY, {
          ids: ids.map((id) => `gid://gitlab/User/${id}`),
          first: USER_BATCH_SIZE,
          after,
        });
        if (!checkGraphQl.Check(data)) {
          // `users: null` beside an error is how GraphQL says the whole field failed: its errors tell whether to go on.
          if (errors.length > 0) throw new GitLabResponseError(`GitLab's GraphQL API answered with errors: ${errors.join('; ').slice(0, 300)}`);
          throw new GitLabResponseError('GitLab GraphQL answered users(ids:) with an unexpected shape.');
        }
        if (errors.length > 0) partial = errors;
        for (const n of data.users.nodes) {
          if (n === null) continue;
          const id = gidToId(n.id);
          if (id === null) continue;
          out.set(id, {
            id,
            username: n.username ?? null,
            name: n.name ?? null,
            state: n.state ?? null,
            public_email: n.publicEmail ?? null,
            created_at: n.createdAt ?? null,
            avatar_url: n.avatarUrl ?? null,
            web_url: n.webUrl ?? null,
            bot: n.bot ?? null,
            location: n.location ?? null,
            job_title: n.jobTitle ?? null,
            organization: n.organization ?? null,
          });
        }
        const info = data.users.pageInfo;
        if (!info.hasNextPage || !info.endCursor) break;
        after = info.endCursor;
      }
    } catch (err) {
      const unavailable =
        (err instanceof GitLabHttpError && [400, 403, 404, 405].includes(err.status)) ||
        (err instanceof GitLabResponseError && (!/answered with errors/.test(err.message) || SCHEMA_ERROR.test(err.message)));
      if (unavailable) {
        this.opts.logger.warn(`GraphQL user lookup failed (${err.message}); users are emitted with the fields embedded in merge requests only. Set user_enrichment to "admin" with an admin token, or "none" to silence this.`);
        this.mode = 'none';
        return { profiles: out, answered: new Set() };
      }
      // Errors alone that say nothing against the query (a timeout inside GitLab, say): this batch only goes without.
      if (err instanceof GitLabResponseError) {
        this.opts.logger.warn(`GraphQL user lookup failed for one batch (${err.message}); its users are emitted with the fields embedded in merge requests.`);
        return { profiles: out, answered: new Set() };
      }
      throw err;
    }
    if (partial !== null) {
      // What came back is good; an id missing beside an error is unknown, not a user that does not exist.
      if (!this.warnedPartial) {
        this.warnedPartial = true;
        this.opts.logger.warn(`GraphQL user lookup answered in part (${partial.join('; ').slice(0, 200)}); the users it did not return are emitted with the fields embedded in merge requests.`);
      }
      return { profiles: out, answered: new Set(out.keys()) };
    }
    return { profiles: out, answered: new Set(ids) };
  }

  /**
   * The admin listing holds every user, so it answers for every id. Of each user only the fields a record takes
   * are kept (the listing is the whole instance). A token that is not an admin's gets the basic view, without
   * `is_admin`: the rest of the run then uses GraphQL, which gives more than that view.
   */
  private async enrichAdmin(ids: number[]): Promise<Lookup> {
    if (this.adminDirectory === null) {
      const dir = new Map<number, Record<string, unknown>>();
      for await (const page of keysetPages(this.opts.client, '/users', { order_by: 'id', sort: 'asc', per_page: USER_BATCH_SIZE })) {
        this.requests += 1;
        if (dir.size === 0 && page.items.length > 0 && !page.items.some((raw) => typeof raw === 'object' && raw !== null && 'is_admin' in raw)) {
          this.opts.logger.warn(`user_enrichment is "admin", but GET /users answers with the view non-admins get: the token is not an admin's. Users are looked up through GraphQL instead; set user_enrichment to "graphql" to silence this.`);
          this.mode = 'graphql';
          return this.enrichGraphQl(ids);
        }
        for (const raw of page.items) {
          if (!checkRestUser.Check(raw)) continue;
          const kept: Record<string, unknown> = {};
          for (const key of PROFILE_FIELDS) if (key in raw) kept[key] = (raw as Record<string, unknown>)[key];
          dir.set(raw.id, kept);
        }
      }
      this.adminDirectory = dir;
    }
    const out = new Map<number, Record<string, unknown>>();
    for (const id of ids) {
      const p = this.adminDirectory.get(id);
      if (p) out.set(id, p);
    }
    return { profiles: out, answered: new Set(ids) };
  }

  /** Answers for the ids that came back as a user or as a 404. */
  private async enrichPerUser(ids: number[]): Promise<Lookup> {
    const out = new Map<number, Record<string, unknown>>();
    const answered = new Set<number>();
    for (const id of ids) {
      this.requests += 1;
      try {
        const res = await this.opts.client.get(`/users/${id}`);
        if (checkRestUser.Check(res.body)) {
          out.set(id, res.body as Record<string, unknown>);
          answered.add(id);
        }
      } catch (err) {
        if (!(err instanceof GitLabHttpError && err.refusesResource)) throw err;
        // A 404 is a user that no longer exists; a 403 one hidden from this token (a restricted users API, say):
        // unknown, not gone, and a merge request's embedded fields still serve.
        if (err.status === 404) answered.add(id);
      }
    }
    return { profiles: out, answered };
  }
}
