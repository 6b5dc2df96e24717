// The directory's sense of time, in the visitor's own time zone (the browser's): what to say
// about a meeting now, and which meetings a day / time-of-day filter keeps. Pure: `now` and
// the meetings (from /api/directory) are passed in; no DOM.

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

const timeFormat = () => new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayTimeFormat = () =>
  new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

export const formatTime = (seconds) => timeFormat().format(at(seconds));
export const formatDayTime = (seconds) => dayTimeFormat().format(at(seconds));

/**
 * What to say about a meeting at `now` (Unix seconds): { live, words }.
 * `live`: the server says someone is in it. `words`: "On now, until 8:30 PM", "Starts in 10
 * minutes", "Next: Tuesday, Dec 8, 7:00 PM", or "Open any time".
 */
export function status(meeting, now, times = meeting.next) {
  const current = times.find((o) => o.start <= now && now < o.end);
  if (current) return { live: meeting.live, words: `On now, until ${formatTime(current.end)}` };
  const next = times.find((o) => o.start > now);
  if (next) {
    const minutes = Math.ceil((next.start - now) / 60);
    if (minutes <= SOON_MINUTES) {
      return { live: meeting.live, words: `Starts in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}` };
    }
    return { live: meeting.live, words: `Next: ${formatDayTime(next.start)}` };
  }
  if (!meeting.time_zone) return { live: meeting.live, words: 'Open any time' };
  return { live: meeting.live, words: 'No coming times' };
}

/** The language's name in the visitor's language, or the tag itself. */
export function languageName(tag) {
  if (!tag) return '';
  try {
    return new Intl.DisplayNames(undefined, { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}
