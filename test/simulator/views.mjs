// @ts-check
/** Views of simulator entities as GitLab serialises them for different callers. */

/**
 * @typedef {import('./dataset.mjs').User} User
 * @typedef {import('./dataset.mjs').Project} Project
 * @typedef {Record<string, any>} Json
 */

const BASIC = ['id', 'username', 'name', 'state', 'locked', 'avatar_url', 'web_url'];
const PUBLIC = [...BASIC, 'created_at', 'bio', 'location', 'public_email', 'skype', 'linkedin', 'twitter', 'discord', 'github', 'website_url', 'organization', 'job_title', 'pronouns', 'bot', 'work_information', 'followers', 'following', 'is_followed', 'local_time'];
const ADMIN = [...PUBLIC, 'last_sign_in_at', 'confirmed_at', 'last_activity_on', 'email', 'theme_id', 'color_scheme_id', 'projects_limit', 'current_sign_in_at', 'identities', 'can_create_group', 'can_create_project', 'two_factor_enabled', 'external', 'private_profile', 'commit_email', 'is_admin', 'note', 'namespace_id', 'created_by', 'sign_in_count'];
const SELF = [...PUBLIC, 'last_sign_in_at', 'confirmed_at', 'last_activity_on', 'email', 'theme_id', 'color_scheme_id', 'projects_limit', 'current_sign_in_at', 'identities', 'can_create_group', 'can_create_project', 'two_factor_enabled', 'external', 'private_profile', 'commit_email', 'preferred_language'];
const SIMPLE_PROJECT = ['id', 'description', 'name', 'name_with_namespace', 'path', 'path_with_namespace', 'created_at', 'default_branch', 'tag_list', 'topics', 'ssh_url_to_repo', 'http_url_to_repo', 'web_url', 'readme_url', 'forks_count', 'avatar_url', 'star_count', 'last_activity_at', 'namespace'];
const SIMPLE_MR = ['id', 'iid', 'project_id', 'title', 'description', 'state', 'created_at', 'updated_at', 'web_url'];

/**
 * @param {Json} obj
 * @param {readonly string[]} keys
 * @returns {Json}
 */
function pick(obj, keys) {
  /** @type {Json} */
  const out = {};
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}

/** @param {User} u */
export const basicUser = (u) => pick(u, BASIC);
/** Public view: private profiles hide most public fields, as GitLab does. @param {User} u */
export const publicUser = (u) => {
  const out = pick(u, PUBLIC);
  if (u.private_profile) for (const k of ['bio', 'location', 'organization', 'job_title', 'public_email']) out[k] = k === 'public_email' ? null : '';
  return out;
};
/** @param {User} u */
export const adminUser = (u) => pick(u, ADMIN);
/** @param {User} u */
export const selfUser = (u) => pick(u, SELF);
/** @param {Project} p */
export const simpleProject = (p) => pick(p, SIMPLE_PROJECT);
/** @param {Json} mr */
export const simpleMergeRequest = (mr) => pick(mr, SIMPLE_MR);

/**
 * GraphQL `User` node with the fields the tap asks for (camelCase, global id).
 * @param {User} u
 * @returns {Json}
 */
export function graphqlUser(u) {
  const pub = publicUser(u);
  return {
    id: `gid://gitlab/User/${u.id}`,
    username: u.username,
    name: u.name,
    state: u.state,
    publicEmail: pub.public_email ?? null,
    createdAt: u.created_at,
    avatarUrl: u.avatar_url,
    webUrl: u.web_url,
    webPath: `/${u.username}`,
    bot: u.bot,
    location: pub.location ?? null,
    jobTitle: pub.job_title ?? null,
    organization: pub.organization ?? null,
    bio: pub.bio ?? null,
    pronouns: u.pronouns ?? null,
    lastActivityOn: null,
    active: u.state === 'active',
    human: !u.bot && u.username !== 'ghost',
  };
}
