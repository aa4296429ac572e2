// A short, human name for a session's device ("Chrome", "Windows") from its User-Agent header, so a
// person can recognise their own devices in the session list. Deliberately tiny: a wrong guess costs
// nothing, and the full header is never shown (it is noise to people and a fingerprint to others).

export interface UserAgentSummary {
  browser: string | null;
  os: string | null;
}

// Order matters: most browsers claim to be several others ("Chrome … Safari", Edge says "Chrome"),
// so the specific names are tried before the ones they imitate.
const BROWSERS: [RegExp, string][] = [
  [/\bYaBrowser\//, 'Yandex Browser'],
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\bChromium\//, 'Chromium'],
  [/\b(?:Chrome|CriOS)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/\b(?:MSIE |Trident\/)/, 'Internet Explorer'],
];

// iPhones say "like Mac OS X" and Android says "Linux": the specific systems come first.
const SYSTEMS: [RegExp, string][] = [
  [/\biPad\b/, 'iPadOS'],
  [/\b(?:iPhone|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\b(?:Macintosh|Mac OS X)\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

// A header is attacker-supplied; looking at its head is enough and bounds the regex work.
const MAX_LENGTH = 512;

function first(table: [RegExp, string][], ua: string): string | null {
  for (const [pattern, name] of table) if (pattern.test(ua)) return name;
  return null;
}

export function describeUserAgent(ua: string | null | undefined): UserAgentSummary {
  if (!ua) return { browser: null, os: null };
  const head = ua.slice(0, MAX_LENGTH);
  return { browser: first(BROWSERS, head), os: first(SYSTEMS, head) };
}
