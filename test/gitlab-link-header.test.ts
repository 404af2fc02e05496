import t from 'tap';
import { nextLink, parseLinkHeader } from '../lib/gitlab/link-header.js';

t.test('reads every relation of a GitLab Link header', async (t) => {
  const header =
    '<https://gitlab.example.com/api/v4/projects?page=2&per_page=100>; rel="next", <https://gitlab.example.com/api/v4/projects?page=1&per_page=100>; rel="first", <https://gitlab.example.com/api/v4/projects?page=9&per_page=100>; rel="last"';
  const links = parseLinkHeader(header);
  t.same(Object.fromEntries(links), {
    next: 'https://gitlab.example.com/api/v4/projects?page=2&per_page=100',
    first: 'https://gitlab.example.com/api/v4/projects?page=1&per_page=100',
    last: 'https://gitlab.example.com/api/v4/projects?page=9&per_page=100',
  });
});

t.test('keeps commas inside URLs and accepts unquoted and multi-valued rel', async (t) => {
  const links = parseLinkHeader('<https://h/api/v4/x?labels=a,b&id_after=5>; rel=next,<https://h/api/v4/x?page=1>;rel="first prev"');
  t.equal(links.get('next'), 'https://h/api/v4/x?labels=a,b&id_after=5');
  t.equal(links.get('first'), 'https://h/api/v4/x?page=1');
  t.equal(links.get('prev'), 'https://h/api/v4/x?page=1');
});

t.test('nextLink is null without rel="next" or without a header', async (t) => {
  t.equal(nextLink('<https://h/api/v4/x?page=1>; rel="first"'), null);
  t.equal(nextLink(null), null);
  t.equal(nextLink(''), null);
  t.equal(nextLink('garbage'), null);
  t.equal(nextLink('<https://h/a>; REL="Next"'), 'https://h/a');
});
