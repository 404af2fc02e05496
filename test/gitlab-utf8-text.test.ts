import t from 'tap';
import { utf8Text } from '../lib/gitlab/utf8-text.js';

const decoder = new TextDecoder();
const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('a body reads as TextDecoder reads it: ASCII, text in any script, emoji, and a leading BOM dropped', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty', bytes()],
    ['ASCII JSON', utf8('[{"id":1,"title":"Fix the \\u003cdiv\\u003e"}]')],
    ['Latin, Greek, CJK, emoji', utf8('[{"name":"Zoë Müller","title":"Ελληνικά 中文 😀 \u2028"}]')],
    ['BOM then ASCII', bytes(0xef, 0xbb, 0xbf, 0x5b, 0x5d)],
    ['BOM then other text', new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('["é"]')])],
    ['only a BOM', bytes(0xef, 0xbb, 0xbf)],
    ['a BOM in the middle stays', utf8('["a\ufeffb"]')],
  ];
  for (const [name, input] of cases) t.equal(utf8Text(input), decoder.decode(input), name);
});

t.test('malformed bytes become U+FFFD exactly where TextDecoder puts them', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['a lone continuation byte', bytes(0x22, 0x80, 0x22)],
    ['a sequence cut by a quote', bytes(0x22, 0xc3, 0x22)],
    ['a sequence cut at the end', bytes(0x22, 0x61, 0xe2, 0x82)],
    ['an overlong slash', bytes(0xc0, 0xaf)],
    ['an encoded surrogate', bytes(0xed, 0xa0, 0x80)],
    ['past U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80)],
    ['0xff and 0xfe', bytes(0x61, 0xff, 0xfe, 0x62)],
    ['valid text after a bad byte', new Uint8Array([0xff, ...utf8('Zoë 😀')])],
  ];
  for (const [name, input] of cases) t.equal(utf8Text(input), decoder.decode(input), name);
});

t.test('a view into a larger buffer reads only its own bytes', async (t) => {
  const whole = utf8('xx["Zoë"]yy');
  const view = whole.subarray(2, whole.length - 2);
  t.equal(utf8Text(view), '["Zoë"]');
  const asciiView = utf8('ab[1]cd').subarray(2, 5);
  t.equal(utf8Text(asciiView), '[1]');
});

t.test('5,000 random byte strings, valid and not, read the same as with TextDecoder', async (t) => {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['a', '"', '\\', '{', '1', 'é', 'ß', '中', '😀', '\u2028', '\ufeff'].map(utf8);
  let mismatches = 0;
  for (let i = 0; i < 5000; i++) {
    const parts: number[] = [];
    const len = rand(40);
    for (let j = 0; j < len; j++) {
      if (rand(10) === 0) parts.push(0x80 + rand(0x80)); // a stray high byte
      else parts.push(...(pieces[rand(pieces.length)] as Uint8Array));
    }
    if (rand(20) === 0) parts.unshift(0xef, 0xbb, 0xbf);
    const input = Uint8Array.from(parts);
    if (utf8Text(input) !== decoder.decode(input)) mismatches += 1;
  }
  t.equal(mismatches, 0);
});
