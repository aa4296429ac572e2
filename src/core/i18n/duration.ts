// Durations in words for mails and pages ("the link is valid for 2 hours"). The words come from the
// catalogue's `time.*` plural messages, so Russian gets "1 час / 2 часа / 5 часов" without code here.
import type { Locale } from '../model.ts';
import type { Catalog } from './catalog.ts';

const UNITS = [
  { id: 'time.days', minutes: 24 * 60 },
  { id: 'time.hours', minutes: 60 },
  { id: 'time.minutes', minutes: 1 },
] as const;

/**
 * 30 → "30 минут", 60 → "1 час", 90 → "1 hour 30 minutes", 1440 → "1 день". Rounded to whole
 * minutes; zero units are left out, so 0 gives "0 minutes".
 */
export function formatDuration(catalog: Catalog, locale: Locale, minutes: number): string {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`invalid duration: ${minutes} minutes`);
  let rest = Math.round(minutes);
  if (rest === 0) return catalog.t(locale, 'time.minutes', { count: 0 });
  const parts: string[] = [];
  for (const unit of UNITS) {
    const count = Math.floor(rest / unit.minutes);
    rest -= count * unit.minutes;
    if (count > 0) parts.push(catalog.t(locale, unit.id, { count }));
  }
  return parts.join(' ');
}
