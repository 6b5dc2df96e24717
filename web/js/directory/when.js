// The directory's sense of time, in the visitor's own time zone (the browser's): what to say
// about a meeting now, and which meetings a day / time-of-day filter keeps. Pure: `now`, the
// meetings (from /api/directory) and the page's language (a BCP 47 tag, for Intl) are passed
// in; no DOM, no catalogue: what to say comes back as a catalogue key and its parameters.

/** A time of day's hours, local: [from, to). Night wraps past midnight. */
export const PARTS = { morning: [5, 12], afternoon: [12, 17], evening: [17, 21], night: [21, 5] };
/** "Starts in N minutes" within this many minutes; a date and time after. */
const SOON_MINUTES = 60;

export function partOfDay(date) {
  const h = date.getHours();
  return Object.keys(PARTS).find((p) => {
    const [from, to] = PARTS[p];
    return from < to ? h >= from && h < to : h >= from || h < to;
  });
}

const at = (seconds) => new Date(seconds * 1000);

/** The occurrences that the filters keep: `day` 0–6 from Sunday or '', `part` or ''. */
export function matchingTimes(meeting, { day = '', part = '' } = {}) {
  return meeting.next.filter((o) => {
    const start = at(o.start);
    return (day === '' || start.getDay() === Number(day)) && (part === '' || partOfDay(start) === part);
  });
}

/** The primary language subtag, lower case: 'es-MX' → 'es'. */
export const primaryLanguage = (tag) => (tag || '').split('-')[0].toLowerCase();

/** Whether the filters keep `meeting`; a meeting without times is kept only with no day or time. */
export function keeps(meeting, filters) {
  if (filters.language && primaryLanguage(meeting.language) !== filters.language) return false;
  if (filters.type && !(meeting.types ?? []).some((t) => t.code === filters.type)) return false;
  if (!filters.day && !filters.part) return true;
  return matchingTimes(meeting, filters).length > 0;
}

const timeFormat = (lang) => new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
const dayTimeFormat = (lang) =>
  new Intl.DateTimeFormat(lang, { weekday: 'long', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

export const formatTime = (seconds, lang) => timeFormat(lang).format(at(seconds));
export const formatDayTime = (seconds, lang) => dayTimeFormat(lang).format(at(seconds));

/**
 * What to say about a meeting at `now` (Unix seconds), in `lang`: { live, key, params }.
 * `live`: the server says someone is in it. `key`: "On now, until 8:30 PM"
 * (`directory.onNow`), "Starts in 10 minutes" (`directory.startsIn`), "Next: Tuesday, Dec 8,
 * 7:00 PM" (`directory.next`), "Open any time" or "No coming times".
 */
export function status(meeting, now, times = meeting.next, lang = undefined) {
  const say = (key, params = {}) => ({ live: meeting.live, key, params });
  const current = times.find((o) => o.start <= now && now < o.end);
  if (current) return say('directory.onNow', { time: formatTime(current.end, lang) });
  const next = times.find((o) => o.start > now);
  if (next) {
    const minutes = Math.ceil((next.start - now) / 60);
    if (minutes <= SOON_MINUTES) return say('directory.startsIn', { count: minutes });
    return say('directory.next', { when: formatDayTime(next.start, lang) });
  }
  return say(meeting.time_zone ? 'directory.noComingTimes' : 'directory.openAnyTime');
}

/** The language's name in `lang` (the page's language), or the tag itself. */
export function languageName(tag, lang) {
  if (!tag) return '';
  try {
    return new Intl.DisplayNames(lang, { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}
