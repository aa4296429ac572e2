// The Russian ЙЦУКЕН and the US QWERTY layouts, key by key. People in Russia very often "encrypt" a
// Russian word by typing it with the Latin layout switched on (пароль → gfhjkm, привет → ghbdtn), or
// type an English password with the Russian layout on (password → зфыыцщкв). Attackers' dictionaries
// know both tricks, so the common-password check maps every candidate through the layouts both ways.
//
// scripts/build-common-passwords.mjs holds a copy of this table (it runs with plain Node, which cannot
// import TypeScript); common-passwords.test.ts checks that the generated list agrees with this module.

/** Each string lists the characters of one row, in key order; the two layouts are aligned index by index. */
const LATIN_ROWS = [
  "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./",
  '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?',
];
const RUSSIAN_ROWS = [
  'ё1234567890-=йцукенгшщзхъ\\фывапролджэячсмитьбю.',
  'Ё!"№;%:?*()_+ЙЦУКЕНГШЩЗХЪ/ФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,',
];

function buildMap(from: string[], to: string[]): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (let row = 0; row < from.length; row++) {
    const src = [...(from[row] ?? '')];
    const dst = [...(to[row] ?? '')];
    if (src.length !== dst.length) throw new Error('keyboard-layout: rows are not aligned');
    src.forEach((ch, i) => {
      const target = dst[i]!;
      if (ch !== target) map.set(ch, target);
    });
  }
  return map;
}

const LATIN_TO_RUSSIAN = buildMap(LATIN_ROWS, RUSSIAN_ROWS);
const RUSSIAN_TO_LATIN = buildMap(RUSSIAN_ROWS, LATIN_ROWS);

function mapThrough(map: ReadonlyMap<string, string>, text: string): string {
  let out = '';
  for (const ch of text) out += map.get(ch) ?? ch;
  return out;
}

/**
 * What appears when the keys that produce `text` on QWERTY are pressed with ЙЦУКЕН on
 * (`qwerty` → `йцукен`, `password` → `зфыыцщкв`). Characters not on the keyboard pass through.
 */
export function latinToRussianKeys(text: string): string {
  return mapThrough(LATIN_TO_RUSSIAN, text);
}

/**
 * What appears when the keys that produce `text` on ЙЦУКЕН are pressed with QWERTY on
 * (`пароль` → `gfhjkm`, `любовь` → `k.,jdm`). Characters not on the keyboard pass through.
 */
export function russianToLatinKeys(text: string): string {
  return mapThrough(RUSSIAN_TO_LATIN, text);
}
