// A meeting's schedule as the form edits it: one rule (the API takes up to 16; a schedule
// with more is kept as it is unless the person changes the schedule). Pure: no DOM.

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const NTH = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', 5: 'fifth', '-1': 'last' };

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

const dayName = (d) => DAY_NAMES[DAYS.indexOf(d)] ?? d;

function describeRule(rule) {
  switch (rule.kind) {
    case 'weekly':
      return `every ${DAYS.filter((d) => rule.days.includes(d)).map(dayName).join(', ')} at ${rule.time}`;
    case 'monthly_weekday':
      return `the ${NTH[rule.nth]} ${dayName(rule.day)} of each month at ${rule.time}`;
    case 'monthly_day':
      return `day ${rule.day_of_month} of each month at ${rule.time}`;
    case 'once':
      return `once, on ${rule.date} at ${rule.time}`;
    default:
      return rule.kind;
  }
}

/** "Every Tuesday at 19:00, 90 minutes (America/New_York); opens 15 minutes before". */
export function describeSchedule(schedule) {
  if (!schedule) return 'No schedule: always open.';
  const rules = schedule.rules.map(describeRule).join('; ');
  const opens = schedule.opens_minutes_before == null
    ? 'always open'
    : `opens ${schedule.opens_minutes_before} minutes before`;
  const text = `${rules}, ${schedule.duration_minutes} minutes (${schedule.time_zone}); ${opens}.`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
