// The "commonly used or compromised passwords" check of NIST 800-63B. The list
// (common-passwords.txt, built by scripts/build-common-passwords.mjs) is NFKC + lower case, one entry a
// line, sorted, no comments — so any line is a password.
//
// What counts as a match, on purpose kept small and predictable (a person must be able to understand
// why a password was refused):
//  - the candidate is NFKC-normalized and lower-cased (`ПАРОЛЬ`, `Password` → a hit);
//  - it is also tried as the same keys on the other layout, both ways (`Gfhjkm` → пароль,
//    `зфыыцщкв` → password), because that is the first trick a Russian speaker tries and the first
//    one attackers' tools undo;
//  - a list word followed by up to 4 digits and up to 2 `!` (`пароль123`, `qwerty2024!`) is a hit
//    too, when the word itself has at least 4 characters: appending a year or "1!" to satisfy a
//    composition rule is the most common way people make a common password "strong".
import { readFileSync } from 'node:fs';
import { latinToRussianKeys, russianToLatinKeys } from './keyboard-layout.ts';

export interface CommonPasswordList {
  /** True when `password` is on the list (see the file header for what counts as a match). */
  has(password: string): boolean;
  /** Number of entries (loads the list). */
  size(): number;
}

const DEFAULT_FILE = new URL('./common-passwords.txt', import.meta.url);
/** A trailing run of digits and `!` marks that is stripped to find the "base word". */
const SUFFIX = /^(\d{0,4})(!{0,2})$/;
const MAX_SUFFIX = 6;
const MIN_BASE_LENGTH = 4;

const normalize = (s: string): string => s.normalize('NFKC').toLowerCase();

/** The spellings of one candidate that are looked up: as typed, and through the layouts both ways. */
function variants(password: string): string[] {
  const typed = normalize(password);
  const asLatin = russianToLatinKeys(typed).toLowerCase();
  const asRussian = latinToRussianKeys(typed).toLowerCase();
  return [...new Set([typed, asLatin, asRussian])];
}

function matches(set: ReadonlySet<string>, maxEntryLength: number, candidate: string): boolean {
  // Nothing longer than the longest entry plus a suffix can match; skip the work on long passphrases.
  if (candidate.length > maxEntryLength + MAX_SUFFIX) return false;
  if (set.has(candidate)) return true;
  for (let cut = 1; cut <= MAX_SUFFIX && cut < candidate.length; cut++) {
    const suffix = candidate.slice(-cut);
    if (!SUFFIX.test(suffix)) break;
    const base = candidate.slice(0, -cut);
    if ([...base].length >= MIN_BASE_LENGTH && set.has(base)) return true;
  }
  return false;
}

/** A list over the given entries (normalized here); for tests and for realms that bring their own. */
export function createCommonPasswordList(entries: Iterable<string>): CommonPasswordList {
  return fromLoader(() => entries);
}

/**
 * The built-in list, or the one in `file` (same format). Read synchronously on first use and kept in
 * a Set on this instance (a few ms once; then a lookup costs about a microsecond). Create one per
 * process at start-up and pass it in `deps`; call `size()` there to pay the load before traffic.
 */
export function loadCommonPasswords(file: string | URL = DEFAULT_FILE): CommonPasswordList {
  return fromLoader(() => readFileSync(file, 'utf8').split('\n'));
}

function fromLoader(load: () => Iterable<string>): CommonPasswordList {
  let set: Set<string> | null = null;
  let maxEntryLength = 0;
  const get = (): Set<string> => {
    if (set) return set;
    const loaded = new Set<string>();
    for (const line of load()) {
      const entry = normalize(line.trim());
      if (entry === '') continue;
      loaded.add(entry);
      if (entry.length > maxEntryLength) maxEntryLength = entry.length;
    }
    set = loaded;
    return set;
  };
  return {
    has(password) {
      const s = get();
      return variants(password).some((v) => matches(s, maxEntryLength, v));
    },
    size() {
      return get().size;
    },
  };
}
