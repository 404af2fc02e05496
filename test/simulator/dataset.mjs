// @ts-check
/**
 * Deterministic, seeded GitLab dataset for the simulator: users, groups/subgroups, projects and merge
 * requests with the field shapes of GitLab's REST API v4 (see shared/reference/gitlab-api.md §5).
 * Objects in `projects` and `mergeRequests` ARE the API entities (full project view, MR list view);
 * users are stored in the admin view and narrowed by ./views.mjs.
 */
import { createRng } from './random.mjs';

/**
 * @typedef {Record<string, any>} Json
 * @typedef {{ id: number, username: string, name: string, state: string, locked: boolean, avatar_url: string | null, web_url: string }} EmbeddedUser
 * @typedef {Json & { id: number, username: string, name: string, state: string, bot: boolean, created_at: string }} User
 * @typedef {Json & { id: number, name: string, path: string, full_path: string, parent_id: number | null }} Group
 * @typedef {Json & { id: number, path: string, name: string, path_with_namespace: string, visibility: string, archived: boolean, updated_at: string, created_at: string }} Project
 * @typedef {Json & { id: number, iid: number, project_id: number, updated_at: string, created_at: string, state: string }} MergeRequest
 * @typedef {{ from: string, projectId: number }} Redirect
 *
 * @typedef {object} DatasetOptions
 * @property {number} [seed]
 * @property {number} [projects]
 * @property {number} [groups]
 * @property {number} [subgroupsPerGroup]
 * @property {number} [mergeRequestsPerProject]
 * @property {number} [users]
 * @property {number} [privateShare]
 * @property {number} [archivedShare]
 * @property {boolean} [admin]
 * @property {boolean} [movedProjects]
 * @property {number} [bulkEditSize]
 * @property {string} [webUrl] external URL used in web_url fields (no trailing slash)
 *
 * @typedef {object} Dataset
 * @property {User} owner the token's user (also in `users`)
 * @property {User[]} users every user, admin view, ascending id
 * @property {Map<number, User>} usersById
 * @property {Group[]} groups groups and subgroups, ascending id
 * @property {Project[]} projects every project (full entity), ascending id
 * @property {MergeRequest[]} mergeRequests every merge request (list entity), ascending id at generation
 * @property {Redirect[]} redirects old project paths that answer 301
 * @property {{ projectId: number, updatedAt: string, count: number } | null} bulkEdit the block of MRs sharing one updated_at
 * @property {string} webUrl
 * @property {number} maxTimestamp largest timestamp in the data (ms)
 * @property {number} nextMergeRequestId
 */

export const DATA_START = Date.UTC(2022, 0, 1);
export const DATA_END = Date.UTC(2025, 5, 1);
const DAY = 86_400_000;

/** @param {number} ms */
export const iso = (ms) => new Date(ms).toISOString();
/** @param {number} ms */
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

const PROJECT_TEMPLATES = [
  'mergemind-api', 'mergemind-auth-service', 'mergemind-billing-service', 'web-demo-app', 'data-demo-pipeline',
  'infra-archive', 'mergemind-web', 'infra-terraform', 'data-warehouse', 'mergemind-notification-service',
  'mobile-ios-app', 'web-landing', 'mergemind-docs', 'infra-monitoring', 'data-ml-models', 'mobile-android-app',
  'web-design-system', 'mergemind-legacy-archive', 'research-notebooks', 'mergemind-search-service',
];
const PREFIXES = ['mergemind', 'web', 'data', 'infra', 'mobile', 'tools'];
const WORDS = ['core', 'gateway', 'ingest', 'ledger', 'portal', 'reports', 'sync', 'worker', 'cli', 'sdk', 'payments', 'events'];
const SUFFIXES = ['service', 'app', 'lib', 'demo', 'archive', 'pipeline', ''];
const GROUP_NAMES = ['mergemind', 'web-team', 'data-platform', 'infra', 'mobile', 'research', 'tools', 'security'];
const SUBGROUP_NAMES = ['backend', 'frontend', 'ops', 'ml', 'qa', 'sandbox'];
const FIRST = ['Alice', 'Bob', 'José', 'Zoë', 'Łukasz', 'Mia', 'Noah', 'Ana', 'Jürgen', 'Aiko', 'Chen', 'Fatima', 'Olek', 'Sofía', 'Ravi', 'Émile', 'Ines', 'Kwame'];
const LAST = ['Smith', 'Álvarez', "O'Connor", 'Nowak', 'Müller', 'Tanaka', 'Li', 'Haddad', 'Kowalski', 'García', 'Patel', 'Dubois', 'Silva', 'Mensah'];
const UNICODE_NAMES = ['李雷', 'Игорь Петров', 'محمد علي', 'Ngọc Trần', '佐藤 花子'];
const TITLES = [
  'Fix flaky pipeline in {x}', 'Add pagination to {x} endpoint', 'Refactor {x} module', 'Bump dependencies for {x}',
  'Draft: Rework {x} caching', 'Handle naïve timestamps in {x}', 'Ajout du support émoji 🎉 dans {x}', '修复 {x} 登录问题',
  'Обновить зависимости {x}', 'Resolve "Crash when {x} is empty"', 'Improve {x} docs', 'Remove dead code in {x}',
];
const TOPICS_X = ['auth', 'billing', 'search', 'api', 'ui', 'exports', 'webhooks', 'scheduler', 'cache', 'metrics'];
const LABELS = ['bug', 'feature', 'backend', 'frontend', 'priority::high', 'priority::low', 'tech-debt', 'security', 'documentation', 'needs review'];
const BRANCHES = ['main', 'main', 'main', 'master', 'develop'];

/**
 * Builds the embedded user object (UserBasic) for a user.
 * @param {User} u
 * @returns {EmbeddedUser}
 */
export function embedUser(u) {
  return { id: u.id, username: u.username, name: u.name, state: u.state, locked: u.locked, avatar_url: u.avatar_url, web_url: u.web_url };
}

/**
 * Generates the whole dataset; same options => same data (except web URLs, which follow `webUrl`).
 * @param {DatasetOptions} [options]
 * @returns {Dataset}
 */
export function generateDataset(options = {}) {
  const o = {
    seed: options.seed ?? 1,
    projects: options.projects ?? 20,
    groups: options.groups ?? 3,
    subgroupsPerGroup: options.subgroupsPerGroup ?? 1,
    mergeRequestsPerProject: options.mergeRequestsPerProject ?? 50,
    users: Math.max(3, options.users ?? 40),
    privateShare: options.privateShare ?? 0.3,
    archivedShare: options.archivedShare ?? 0.1,
    admin: options.admin ?? false,
    movedProjects: options.movedProjects ?? true,
    bulkEditSize: options.bulkEditSize ?? 150,
    webUrl: (options.webUrl ?? 'http://gitlab.simulator.test').replace(/\/+$/, ''),
  };
  const web = o.webUrl;
  const rng = createRng(o.seed);
  const hex = (/** @type {number} */ n) => {
    let s = '';
    while (s.length < n) s += Math.floor(rng.next() * 0x100000000).toString(16).padStart(8, '0');
    return s.slice(0, n);
  };
  const between = (/** @type {number} */ a, /** @type {number} */ b) => Math.floor(a + rng.next() * Math.max(0, b - a));

  // ---- users
  /** @type {User[]} */
  const users = [];
  const usedNames = new Set();
  let userId = 1;
  for (let i = 0; i < o.users; i++) {
    let username;
    let name;
    let bot = false;
    let state = 'active';
    if (i === 0) {
      username = o.admin ? 'sim-admin' : 'sim-developer';
      name = o.admin ? 'Simulator Admin' : 'Dana Developer';
    } else if (i === 1) {
      username = 'ghost';
      name = 'Ghost User';
    } else if (rng.chance(0.06)) {
      bot = true;
      username = `project_${rng.int(100, 999)}_bot_${hex(6)}`;
      name = `${rng.pick(PREFIXES)} bot`;
    } else {
      name = rng.chance(0.15) ? rng.pick(UNICODE_NAMES) : `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
      username = name.normalize('NFD').replace(/[^\x20-\x7e]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '.').replace(/^\.|\.$/g, '') || 'user';
      const r = rng.next();
      state = r < 0.9 ? 'active' : r < 0.95 ? 'blocked' : r < 0.98 ? 'deactivated' : 'banned';
    }
    while (usedNames.has(username)) username = `${username}${rng.int(1, 99)}`;
    usedNames.add(username);
    const createdMs = between(DATA_START - 400 * DAY, DATA_END - 30 * DAY);
    const hasPublicEmail = !bot && rng.chance(0.4);
    users.push({
      id: userId,
      username,
      name,
      state,
      locked: state === 'blocked' && rng.chance(0.5),
      avatar_url: rng.chance(0.2) ? null : `https://secure.gravatar.com/avatar/${hex(32)}?s=80&d=identicon`,
      web_url: `${web}/${username}`,
      created_at: iso(createdMs),
      bio: rng.chance(0.3) ? `Working on ${rng.pick(TOPICS_X)} 🚀` : '',
      location: rng.chance(0.4) ? rng.pick(['Berlin', 'São Paulo', 'Kraków', '東京', 'Remote']) : '',
      public_email: hasPublicEmail ? `${username}@users.example.com` : (rng.chance(0.5) ? '' : null),
      skype: '',
      linkedin: '',
      twitter: '',
      discord: '',
      github: '',
      website_url: '',
      organization: rng.chance(0.5) ? 'MergeMind' : '',
      job_title: rng.chance(0.5) ? rng.pick(['Engineer', 'Staff Engineer', 'SRE', 'Data Scientist', 'Designer']) : '',
      pronouns: null,
      bot,
      work_information: null,
      followers: rng.int(0, 20),
      following: rng.int(0, 20),
      is_followed: false,
      local_time: null,
      // admin / self fields
      last_sign_in_at: iso(between(createdMs, DATA_END)),
      confirmed_at: iso(createdMs + 60_000),
      last_activity_on: isoDate(between(createdMs, DATA_END)),
      email: `${username}@example.com`,
      theme_id: 1,
      color_scheme_id: 1,
      projects_limit: 100000,
      current_sign_in_at: iso(between(createdMs, DATA_END)),
      identities: [],
      can_create_group: !bot,
      can_create_project: !bot,
      two_factor_enabled: rng.chance(0.6),
      external: false,
      private_profile: rng.chance(0.1),
      commit_email: `${username}@example.com`,
      is_admin: i === 0 && o.admin,
      note: null,
      namespace_id: 5000 + userId,
      created_by: null,
      sign_in_count: rng.int(1, 500),
      preferred_language: 'en',
    });
    userId += rng.int(1, 3);
  }
  const owner = /** @type {User} */ (users[0]);
  const ghost = /** @type {User} */ (users[1]);
  const humans = users.filter((u) => !u.bot && u !== ghost);
  const activeHumans = humans.filter((u) => u.state === 'active');
  const authorsPool = activeHumans.length > 0 ? activeHumans : humans;
  const reviewersPool = users.filter((u) => u !== ghost);
  /** @type {Map<number, EmbeddedUser>} */
  const embedded = new Map(users.map((u) => [u.id, embedUser(u)]));
  const emb = (/** @type {User} */ u) => /** @type {EmbeddedUser} */ (embedded.get(u.id));

  // ---- groups and subgroups
  /** @type {Group[]} */
  const groups = [];
  let groupId = 10;
  for (let g = 0; g < o.groups; g++) {
    const path = GROUP_NAMES[g] ?? `group-${g}`;
    const top = makeGroup(groupId, path, path, null, null);
    groups.push(top);
    groupId += rng.int(1, 3);
    for (let s = 0; s < o.subgroupsPerGroup; s++) {
      const spath = SUBGROUP_NAMES[s] ?? `sub-${s}`;
      groups.push(makeGroup(groupId, spath, `${path}/${spath}`, top.id, top.name));
      groupId += rng.int(1, 3);
    }
  }
  /**
   * @param {number} id @param {string} path @param {string} fullPath @param {number | null} parentId @param {string | null} parentName
   * @returns {Group}
   */
  function makeGroup(id, path, fullPath, parentId, parentName) {
    const name = path.split('-').map((w) => (w[0] ?? '').toUpperCase() + w.slice(1)).join(' ');
    return {
      id, web_url: `${web}/groups/${fullPath}`, name, path, description: `${name} group`, visibility: 'internal',
      share_with_group_lock: false, require_two_factor_authentication: false, two_factor_grace_period: 48,
      project_creation_level: 'developer', auto_devops_enabled: null, subgroup_creation_level: 'maintainer',
      emails_disabled: false, emails_enabled: true, mentions_disabled: null, lfs_enabled: true,
      default_branch_protection: 2, avatar_url: null, request_access_enabled: true,
      full_name: parentName ? `${parentName} / ${name}` : name, full_path: fullPath, created_at: iso(DATA_START - 200 * DAY + id * 3_600_000),
      parent_id: parentId, organization_id: 1, shared_runners_setting: 'enabled', ldap_cn: null, ldap_access: null, marked_for_deletion_on: null,
    };
  }
  const namespaces = groups.map((g) => ({ id: g.id, name: g.name, path: g.path, kind: 'group', full_path: g.full_path, parent_id: g.parent_id, avatar_url: null, web_url: g.web_url }));
  const personalNs = { id: owner.namespace_id, name: owner.name, path: owner.username, kind: 'user', full_path: owner.username, parent_id: null, avatar_url: owner.avatar_url, web_url: owner.web_url };

  // ---- projects
  /** @type {Project[]} */
  const projects = [];
  const usedPaths = new Set();
  let projectId = 100;
  for (let i = 0; i < o.projects; i++) {
    let path = PROJECT_TEMPLATES[i];
    if (!path) {
      const suffix = rng.pick(SUFFIXES);
      path = [rng.pick(PREFIXES), rng.pick(WORDS), suffix].filter(Boolean).join('-');
    }
    let base = path;
    for (let n = 2; usedPaths.has(path); n++) path = `${base}-${n}`;
    usedPaths.add(path);
    // with 8+ projects the last four are forced cases: private non-member, MRs disabled, pending deletion, public non-member
    const forced = o.projects >= 8 ? o.projects - 1 - i : -1;
    let ns = namespaces.length === 0 || rng.chance(0.1) ? personalNs : rng.pick(namespaces);
    if (forced >= 0 && forced <= 3 && ns === personalNs && namespaces.length > 0) ns = rng.pick(namespaces);
    const titleName = rng.chance(0.15);
    let name = titleName ? path.split('-').map((w) => (w[0] ?? '').toUpperCase() + w.slice(1)).join(' ') : path;
    const r = rng.next();
    let visibility = r < o.privateShare ? 'private' : rng.chance(0.6) ? 'public' : 'internal';
    let archived = rng.chance(o.archivedShare);
    let member = ns === personalNs || rng.chance(0.85);
    let markedForDeletion = !archived && rng.chance(0.05);
    let mrsEnabled = !(member && rng.chance(0.06));
    if (forced === 0 && o.privateShare > 0) [visibility, member] = ['private', false];
    if (forced === 1) [member, mrsEnabled, visibility] = [true, false, visibility === 'private' ? 'internal' : visibility];
    if (forced === 2) [archived, markedForDeletion] = [false, true];
    if (forced === 3) [member, visibility, mrsEnabled] = [false, 'public', true];
    const createdMs = between(DATA_START, DATA_END - 200 * DAY);
    const updatedMs = between(createdMs, DATA_END);
    if (markedForDeletion && i >= 6 && rng.chance(0.5)) {
      path = `${path}-deletion_scheduled-${projectId}`;
      name = path;
    }
    const pwn = `${ns.full_path}/${path}`;
    const nameNs = `${ns.kind === 'user' ? ns.name : groups.find((g) => g.id === ns.id)?.full_name ?? ns.name} / ${name}`;
    const accessLevel = member ? rng.pick([30, 30, 40, 50]) : 0;
    const defaultBranch = rng.pick(BRANCHES);
    /** @type {Project} */
    const p = {
      id: projectId,
      description: rng.chance(0.2) ? null : `The ${name} project — ${rng.pick(TOPICS_X)} 🚀`,
      name,
      name_with_namespace: nameNs,
      path,
      path_with_namespace: pwn,
      created_at: iso(createdMs),
      default_branch: defaultBranch,
      tag_list: [],
      topics: rng.sample(TOPICS_X, rng.int(0, 3)),
      ssh_url_to_repo: `git@gitlab.simulator.test:${pwn}.git`,
      http_url_to_repo: `${web}/${pwn}.git`,
      web_url: `${web}/${pwn}`,
      readme_url: `${web}/${pwn}/-/blob/${defaultBranch}/README.md`,
      forks_count: rng.int(0, 5),
      avatar_url: null,
      star_count: rng.int(0, 40),
      last_activity_at: iso(updatedMs),
      namespace: ns,
      container_registry_image_prefix: `registry.simulator.test/${pwn}`,
      _links: {
        self: `${web}/api/v4/projects/${projectId}`,
        issues: `${web}/api/v4/projects/${projectId}/issues`,
        merge_requests: `${web}/api/v4/projects/${projectId}/merge_requests`,
        repo_branches: `${web}/api/v4/projects/${projectId}/repository/branches`,
        labels: `${web}/api/v4/projects/${projectId}/labels`,
        events: `${web}/api/v4/projects/${projectId}/events`,
        members: `${web}/api/v4/projects/${projectId}/members`,
        cluster_agents: `${web}/api/v4/projects/${projectId}/cluster_agents`,
      },
      packages_enabled: true,
      empty_repo: rng.chance(0.05),
      archived,
      visibility,
      ...(ns === personalNs ? { owner: emb(owner) } : {}),
      resolve_outdated_diff_discussions: false,
      container_registry_enabled: true,
      container_registry_access_level: 'enabled',
      issues_enabled: true,
      merge_requests_enabled: mrsEnabled,
      wiki_enabled: true,
      jobs_enabled: true,
      snippets_enabled: true,
      can_create_merge_request_in: member && mrsEnabled,
      issues_access_level: 'enabled',
      repository_access_level: 'enabled',
      merge_requests_access_level: mrsEnabled ? 'enabled' : 'disabled',
      forking_access_level: 'enabled',
      wiki_access_level: 'enabled',
      builds_access_level: 'enabled',
      snippets_access_level: 'enabled',
      pages_access_level: 'private',
      analytics_access_level: 'enabled',
      security_and_compliance_access_level: 'private',
      emails_disabled: false,
      emails_enabled: true,
      shared_runners_enabled: true,
      lfs_enabled: true,
      creator_id: owner.id,
      import_url: null,
      import_type: null,
      import_status: 'none',
      open_issues_count: rng.int(0, 30),
      description_html: '',
      updated_at: iso(updatedMs),
      ci_default_git_depth: 20,
      public_jobs: true,
      shared_with_groups: [],
      only_allow_merge_if_pipeline_succeeds: rng.chance(0.3),
      allow_merge_on_skipped_pipeline: null,
      request_access_enabled: true,
      only_allow_merge_if_all_discussions_are_resolved: false,
      remove_source_branch_after_merge: true,
      printing_merge_request_link_enabled: true,
      merge_method: rng.pick(['merge', 'merge', 'rebase_merge', 'ff']),
      squash_option: 'default_off',
      enforce_auth_checks_on_uploads: true,
      suggestion_commit_message: null,
      merge_commit_template: null,
      squash_commit_template: null,
      issue_branch_template: null,
      autoclose_referenced_issues: true,
      marked_for_deletion_at: markedForDeletion ? isoDate(DATA_END - rng.int(1, 20) * DAY) : null,
      marked_for_deletion_on: null,
      permissions: {
        project_access: member ? { access_level: accessLevel, notification_level: 3 } : null,
        group_access: null,
      },
    };
    p.marked_for_deletion_on = p.marked_for_deletion_at;
    projects.push(p);
    projectId += rng.int(1, 4);
  }

  // ---- merge request counts with skew: some projects many, some none
  const total = o.projects * o.mergeRequestsPerProject;
  const weights = projects.map((p) => (p.merge_requests_enabled === false || rng.chance(0.15) ? 0 : Math.pow(1 - rng.next(), -0.9)));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => (weightSum > 0 ? Math.floor((total * w) / weightSum) : 0));
  let remainder = total - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; remainder > 0 && weightSum > 0; i = (i + 1) % counts.length) {
    if ((weights[i] ?? 0) > 0) {
      counts[i] = (counts[i] ?? 0) + 1;
      remainder--;
    }
  }

  // ---- merge requests
  /** @type {MergeRequest[]} */
  const mrs = [];
  let bigIndex = -1;
  counts.forEach((c, i) => {
    if (bigIndex < 0 || c > (counts[bigIndex] ?? 0)) bigIndex = i;
  });
  let largeDescriptionDone = false;
  projects.forEach((p, pi) => {
    const c = counts[pi] ?? 0;
    const pCreated = Date.parse(p.created_at);
    /** @type {number[]} */
    const created = [];
    for (let k = 0; k < c; k++) created.push(between(pCreated, DATA_END - DAY));
    created.sort((a, b) => a - b);
    const projectMrs = created.map((createdMs, k) => {
      const big = pi === bigIndex && !largeDescriptionDone;
      if (big) largeDescriptionDone = true;
      return makeMergeRequest(p, k + 1, createdMs, big || rng.chance(0.0003));
    });
    // a few natural ties
    for (let k = 1; k < projectMrs.length; k++) {
      const prev = /** @type {MergeRequest} */ (projectMrs[k - 1]);
      const cur = /** @type {MergeRequest} */ (projectMrs[k]);
      if (rng.chance(0.01) && Date.parse(prev.updated_at) >= Date.parse(cur.created_at) && !cur.merged_at && !cur.closed_at) cur.updated_at = prev.updated_at;
    }
    mrs.push(...projectMrs);
  });

  /** @type {{ projectId: number, updatedAt: string, count: number } | null} */
  let bulkEdit = null;
  const bigProject = projects[bigIndex];
  if (bigProject && o.bulkEditSize > 0 && (counts[bigIndex] ?? 0) > 0) {
    const block = mrs.filter((m) => m.project_id === bigProject.id).slice(0, o.bulkEditSize);
    let t = 0;
    for (const m of block) t = Math.max(t, Date.parse(m.created_at), Date.parse(m.merged_at ?? m.created_at), Date.parse(m.closed_at ?? m.created_at));
    t = Math.min(t + 3_600_000 + 123, DATA_END);
    const ts = iso(t);
    for (const m of block) {
      m.updated_at = ts;
      if (!m.labels.includes('bulk-edited')) m.labels = [...m.labels, 'bulk-edited'];
    }
    bulkEdit = { projectId: bigProject.id, updatedAt: ts, count: block.length };
  }

  // instance-unique ids in creation order
  const byCreated = mrs.slice().sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.project_id - b.project_id || a.iid - b.iid);
  let mrId = 1000;
  for (const m of byCreated) {
    m.id = mrId;
    mrId += rng.int(1, 3);
  }
  byCreated.sort((a, b) => a.id - b.id);

  // project last_activity_at follows MR activity
  /** @type {Map<number, number>} */
  const lastActivity = new Map();
  let maxTimestamp = DATA_END;
  for (const m of byCreated) {
    const u = Date.parse(m.updated_at);
    lastActivity.set(m.project_id, Math.max(lastActivity.get(m.project_id) ?? 0, u));
    if (u > maxTimestamp) maxTimestamp = u;
  }
  for (const p of projects) {
    const la = lastActivity.get(p.id);
    if (la !== undefined && la > Date.parse(p.last_activity_at)) p.last_activity_at = iso(la);
  }

  // moved projects: old paths answering 301
  /** @type {Redirect[]} */
  const redirects = [];
  if (o.movedProjects) {
    const candidates = projects.filter((p) => p.visibility !== 'private' || p.permissions.project_access);
    for (const p of candidates.slice(0, Math.min(2, candidates.length))) {
      redirects.push({ from: `${p.namespace.full_path}/${p.path}-old`, projectId: p.id });
    }
  }

  return {
    owner, users, usersById: new Map(users.map((u) => [u.id, u])), groups, projects, mergeRequests: byCreated, redirects,
    bulkEdit, webUrl: web, maxTimestamp, nextMergeRequestId: mrId,
  };

  /**
   * @param {Project} p @param {number} iid @param {number} createdMs @param {boolean} largeDescription
   * @returns {MergeRequest}
   */
  function makeMergeRequest(p, iid, createdMs, largeDescription) {
    const r = rng.next();
    const state = r < 0.55 ? 'merged' : r < 0.8 ? 'opened' : r < 0.98 ? 'closed' : 'locked';
    const updatedMs = between(createdMs + 1000, Math.min(DATA_END, createdMs + 120 * DAY));
    const doneMs = between(createdMs + 500, updatedMs);
    const author = rng.chance(0.02) ? ghost : rng.pick(authorsPool);
    const assignees = rng.sample(authorsPool, rng.int(0, 2));
    const reviewers = rng.sample(reviewersPool, rng.int(0, 3));
    const mergeUser = state === 'merged' ? rng.pick(authorsPool) : null;
    const closedBy = state === 'closed' ? rng.pick(authorsPool) : null;
    const title = rng.pick(TITLES).replace('{x}', rng.pick(TOPICS_X));
    const draft = title.startsWith('Draft:');
    let description = rng.chance(0.1) ? null : `## What does this MR do?\n\nChanges ${rng.pick(TOPICS_X)} — see #${rng.int(1, 500)}.\n\n* [x] tests\n* [ ] docs ✅`;
    if (largeDescription) {
      const para = 'Lorem ipsum dolor sit amet, naïve café “quotes” — ünïcödé 🚀 ' + hex(40) + '\n';
      description = `# Very large description\n\n${para.repeat(Math.ceil(150_000 / para.length))}`;
    }
    const sourceBranch = `${rng.pick(['feature', 'fix', 'chore'])}/${rng.pick(TOPICS_X)}-${iid}`;
    const labels = rng.sample(LABELS, rng.int(0, 3));
    const merged = state === 'merged';
    const pwn = p.path_with_namespace;
    return {
      id: 0,
      iid,
      project_id: p.id,
      title,
      description,
      state,
      created_at: iso(createdMs),
      updated_at: iso(updatedMs),
      merged_by: mergeUser ? emb(mergeUser) : null,
      merge_user: mergeUser ? emb(mergeUser) : null,
      merged_at: merged ? iso(doneMs) : null,
      merge_after: null,
      prepared_at: iso(createdMs + 2000),
      closed_by: closedBy ? emb(closedBy) : null,
      closed_at: state === 'closed' ? iso(doneMs) : null,
      target_branch: p.default_branch,
      source_branch: sourceBranch,
      user_notes_count: rng.int(0, 25),
      upvotes: rng.int(0, 3),
      downvotes: rng.chance(0.05) ? 1 : 0,
      author: emb(author),
      assignees: assignees.map(emb),
      assignee: assignees[0] ? emb(assignees[0]) : null,
      reviewers: reviewers.map(emb),
      source_project_id: rng.chance(0.03) ? p.id + 100000 : p.id,
      target_project_id: p.id,
      labels,
      draft,
      imported: false,
      imported_from: 'none',
      work_in_progress: draft,
      milestone: null,
      merge_when_pipeline_succeeds: false,
      merge_status: merged ? 'merged' : 'can_be_merged',
      detailed_merge_status: merged ? 'merged' : state === 'opened' ? rng.pick(['mergeable', 'not_approved', 'ci_still_running', 'draft_status']) : 'not_open',
      sha: hex(40),
      merge_commit_sha: merged ? hex(40) : null,
      squash_commit_sha: null,
      discussion_locked: state === 'locked' ? true : null,
      should_remove_source_branch: null,
      force_remove_source_branch: rng.chance(0.5),
      prepared: true,
      reference: `!${iid}`,
      references: { short: `!${iid}`, relative: `!${iid}`, full: `${pwn}!${iid}` },
      web_url: `${web}/${pwn}/-/merge_requests/${iid}`,
      time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
      squash: false,
      squash_on_merge: false,
      task_completion_status: { count: 2, completed_count: rng.int(0, 2) },
      has_conflicts: state === 'opened' && rng.chance(0.1),
      blocking_discussions_resolved: true,
      approvals_before_merge: null,
    };
  }
}
