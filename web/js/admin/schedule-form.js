// A meeting's schedule as the form edits it: one rule (the API takes up to 16; a schedule
// with more is kept as it is unless the person changes the schedule), and said in words in
// the page's language (weekdays and dates named by Intl). No DOM.

import { locale, t } from '../i18n.js';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const NTH = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', 5: 'fifth', '-1': 'last' };

/** A weekday (`mon`…) named in the page's language: "Monday", "lunes". */
export function dayName(day) {
  const i = DAYS.indexOf(day);
  if (i < 0) return day;
  // 2026-03-02 was a Monday: the days from it name them in order (noon UTC: the same date everywhere).
  return new Intl.DateTimeFormat(locale(), { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2026, 2, 2 + i, 12));
}

/** The form's fields for `schedule` (null: no schedule), with `zone` as the default zone. */
export function fieldsFromSchedule(schedule, zone) {
  const fields = {
    kind: 'none', days: [], nth: 1, weekday: 'mon', dayOfMonth: 1, date: '', time: '19:00',
    timeZone: zone, duration: 60, opens: 'always', opensBefore: 15, extraRules: 0,
  };
  if (!schedule) return fields;
  const rule = schedule.rules[0];
  Object.assign(fields, {
    kind: rule.kind,
    time: rule.time.padStart(5, '0'),
    timeZone: schedule.time_zone,
    duration: schedule.duration_minutes,
    opens: schedule.opens_minutes_before == null ? 'always' : 'before',
    opensBefore: schedule.opens_minutes_before ?? 15,
    extraRules: schedule.rules.length - 1,
  });
  if (rule.kind === 'weekly') fields.days = [...rule.days];
  if (rule.kind === 'monthly_weekday') Object.assign(fields, { nth: rule.nth, weekday: rule.day });
  if (rule.kind === 'monthly_day') fields.dayOfMonth = rule.day_of_month;
  if (rule.kind === 'once') fields.date = rule.date;
  return fields;
}

/** The API's schedule for the form's fields, or null for "no schedule". */
export function scheduleFromFields(f) {
  if (f.kind === 'none') return null;
  const rule = { kind: f.kind, time: f.time };
  if (f.kind === 'weekly') rule.days = DAYS.filter((d) => f.days.includes(d));
  if (f.kind === 'monthly_weekday') Object.assign(rule, { nth: Number(f.nth), day: f.weekday });
  if (f.kind === 'monthly_day') rule.day_of_month = Number(f.dayOfMonth);
  if (f.kind === 'once') rule.date = f.date;
  return {
    time_zone: f.timeZone.trim(),
    rules: [rule],
    duration_minutes: Number(f.duration),
    opens_minutes_before: f.opens === 'always' ? null : Number(f.opensBefore),
  };
}

/** A rule's time as set, "19:00" (a wall clock in the meeting's zone, the form's own 24-hour form). */
const clock = (time) => time.padStart(5, '0');

/** A once date, "2026-11-20", as the page's language writes it. */
function dateWords(date) {
  const [y, m, d] = date.split('-').map(Number);
  if (!y || !m || !d) return date;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d, 12));
}

function describeRule(rule) {
  const time = clock(rule.time);
  switch (rule.kind) {
    case 'weekly': {
      const days = DAYS.filter((d) => rule.days.includes(d)).map(dayName);
      return t('admin.schedule.weekly', { days: new Intl.ListFormat(locale(), { type: 'conjunction' }).format(days), time });
    }
    case 'monthly_weekday':
      return t('admin.schedule.monthlyWeekday', { nth: t(`admin.schedule.nth.${NTH[rule.nth]}`), day: dayName(rule.day), time });
    case 'monthly_day':
      return t('admin.schedule.monthlyDay', { day: rule.day_of_month, time });
    case 'once':
      return t('admin.schedule.once', { date: dateWords(rule.date), time });
    default:
      return rule.kind;
  }
}

/** "Every Tuesday at 19:00, 90 minutes (America/New_York); opens 15 minutes before." */
export function describeSchedule(schedule) {
  if (!schedule) return t('admin.schedule.none');
  const rules = schedule.rules.map(describeRule).join(t('admin.schedule.ruleSeparator'));
  const opens = schedule.opens_minutes_before == null
    ? t('admin.schedule.alwaysOpen')
    : t('admin.schedule.opensBefore', { count: schedule.opens_minutes_before });
  const duration = t('admin.schedule.minutes', { count: schedule.duration_minutes });
  const text = t('admin.schedule.summary', { rules, duration, zone: schedule.time_zone, opens });
  return text.charAt(0).toLocaleUpperCase(locale()) + text.slice(1);
}
