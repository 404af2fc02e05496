import t from 'tap';
import { GitLabResponseError } from '../lib/errors.js';
import { checkSchema, validateRecord } from '../lib/singer/schema-contract.js';
import { plainSchema } from '../lib/singer/schema-helpers.js';
import type { EmbeddedUser } from '../lib/streams/merge-requests-schema.js';
import { toUserRecord, userSchema } from '../lib/streams/users-schema.js';

const embedded: EmbeddedUser = {
  id: 31,
  username: 'zoë',
  name: 'Zoë Ångström',
  state: 'active',
  avatar_url: 'https://secure.gravatar.com/avatar/31',
  web_url: 'https://gitlab.example.com/zoe',
  locked: false,
};

/** GET /users/:id as an admin sees it. */
const adminView = {
  id: 31,
  username: 'zoe',
  name: 'Zoë Ångström',
  state: 'active',
  locked: false,
  avatar_url: 'https://gitlab.example.com/uploads/-/system/user/avatar/31/a.png',
  web_url: 'https://gitlab.example.com/zoe',
  created_at: '2019-02-03T04:05:06.789+01:00',
  bio: '',
  location: 'Zürich',
  public_email: '',
  job_title: 'Data engineer',
  organization: '',
  bot: false,
  email: 'zoe@example.com',
  is_admin: false,
  last_activity_on: '2024-04-30',
  last_sign_in_at: '2024-04-30T08:00:00.000Z',
  identities: [],
  private_profile: false,
};

t.test('an embedded user alone gives a record with profile fields null', async (t) => {
  const rec = toUserRecord(embedded);
  t.same(rec, {
    id: 31,
    username: 'zoë',
    name: 'Zoë Ångström',
    state: 'active',
    locked: false,
    bot: null,
    avatar_url: 'https://secure.gravatar.com/avatar/31',
    web_url: 'https://gitlab.example.com/zoe',
    email: null,
    public_email: null,
    job_title: null,
    organization: null,
    location: null,
    is_admin: null,
    created_at: null,
    last_activity_on: null,
  });
  t.same(Object.keys(rec), Object.keys(userSchema.properties));
  t.same(validateRecord(plainSchema(userSchema), rec), []);
});

t.test('an admin profile fills email, is_admin and last_activity_on; blanks become null', async (t) => {
  const rec = toUserRecord(embedded, adminView);
  t.same(rec, {
    id: 31,
    username: 'zoe',
    name: 'Zoë Ångström',
    state: 'active',
    locked: false,
    bot: false,
    avatar_url: 'https://gitlab.example.com/uploads/-/system/user/avatar/31/a.png',
    web_url: 'https://gitlab.example.com/zoe',
    email: 'zoe@example.com',
    public_email: null,
    job_title: 'Data engineer',
    organization: null,
    location: 'Zürich',
    is_admin: false,
    created_at: '2019-02-03T03:05:06.789Z',
    last_activity_on: '2024-04-30',
  });
  t.notOk('last_sign_in_at' in rec, 'fields outside the schema are not copied');
  t.same(validateRecord(plainSchema(userSchema), rec), []);
});

t.test('a public profile leaves admin-only fields null and keeps embedded values the profile lacks', async (t) => {
  const rec = toUserRecord(embedded, { id: 31, created_at: '2019-02-03T03:05:06Z', bot: true, public_email: 'z@example.org', name: null });
  t.equal(rec.email, null);
  t.equal(rec.is_admin, null);
  t.equal(rec.last_activity_on, null);
  t.equal(rec.bot, true);
  t.equal(rec.public_email, 'z@example.org');
  t.equal(rec.name, 'Zoë Ångström', 'a null in the profile does not erase the embedded name');
  t.equal(rec.username, 'zoë');
  t.equal(rec.created_at, '2019-02-03T03:05:06.000Z');
});

t.test('rejects a profile of another user or with wrong types, naming the problem', async (t) => {
  t.throws(() => toUserRecord(embedded, { id: 32 }), { message: /profile of user 32 where user 31/ });
  t.throws(() => toUserRecord(embedded, { is_admin: 'no' }), GitLabResponseError);
  t.throws(() => toUserRecord(embedded, { is_admin: 'no' }), { message: /"is_admin" must be boolean or null/ });
  t.throws(() => toUserRecord(embedded, { last_activity_on: 'yesterday' }), { message: /user 31 with field "last_activity_on" that is not a date/ });
});

t.test('the users schema: integer id, everything else nullable, contract-clean', async (t) => {
  const s = plainSchema(userSchema) as { properties: Record<string, { type: unknown }>; required: string[] };
  t.same(s.properties.id, { type: 'integer' });
  t.same(s.required, ['id']);
  for (const [name, p] of Object.entries(s.properties)) {
    if (name !== 'id') t.ok(Array.isArray(p.type) && (p.type as string[]).includes('null'), `${name} is nullable`);
  }
  for (const f of 'id username name email state created_at last_activity_on avatar_url public_email bot'.split(' ')) t.ok(f in s.properties, f);
  t.same(checkSchema(s), []);
});
