// The admin page's state: written by the actions (admin.js) from the API's answers, read by
// the views. Nothing here touches the DOM.

import { t } from '../i18n.js';

export const admin = {
  /** loading | disabled | signin | list | edit | links */
  view: 'loading',
  /** Every meeting, archived ones too, as the API gives them (people: counts only). */
  meetings: [],
  /** The meeting being edited; null while making a new one. */
  editing: null,
  /** The meeting whose links are shown, and its facilitator links (never a secret). */
  linksOf: null,
  keys: [],
  /** The one facilitator link shown once: { id, label, url }, gone when the view changes. */
  issued: null,
  /**
   * Encrypted links made on the links view: { key (a MeetingKey), memberUrl, suffix }, never
   * stored, gone when the view changes.
   */
  e2ee: null,
};

export const meetingBySlug = (slug) => admin.meetings.find((m) => m.slug === slug) ?? null;

/** "2 people in now", in the page's language: counts only. */
export const peopleWords = (n) => (n > 0 ? t('admin.list.people', { count: n }) : t('admin.list.nobody'));
