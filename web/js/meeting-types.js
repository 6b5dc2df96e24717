// The meeting types a stored meeting may have: Meeting Guide codes with plain names, the
// same table as server/src/meeting_types.rs (a Rust test keeps them equal). The admin page
// shows them as checkboxes, the directory as tags and a filter.

/** `[code, name]`, in the order the admin page shows them. */
export const MEETING_TYPES = [
  ['O', 'Open'],
  ['C', 'Closed'],
  ['BE', 'Newcomer'],
  ['D', 'Discussion'],
  ['SP', 'Speaker'],
  ['ST', 'Step Study'],
  ['TR', 'Tradition Study'],
  ['12x12', '12 Steps & 12 Traditions'],
  ['B', 'Big Book'],
  ['LIT', 'Literature'],
  ['LS', 'Living Sober'],
  ['DR', 'Daily Reflections'],
  ['ABSI', 'As Bill Sees It'],
  ['GR', 'Grapevine'],
  ['MED', 'Meditation'],
  ['11', '11th Step Meditation'],
  ['CAN', 'Candlelight'],
  ['H', 'Birthday'],
  ['XT', 'Cross Talk Permitted'],
  ['A', 'Secular'],
  ['DD', 'Dual Diagnosis'],
  ['ASL', 'American Sign Language'],
  ['W', 'Women'],
  ['M', 'Men'],
  ['Y', 'Young People'],
  ['SEN', 'Seniors'],
  ['LGBTQ', 'LGBTQ'],
  ['G', 'Gay'],
  ['L', 'Lesbian'],
  ['BI', 'Bisexual'],
  ['T', 'Transgender'],
  ['NB', 'Non-Binary'],
  ['POC', 'People of Color'],
  ['NDG', 'Indigenous'],
  ['N', 'Native American'],
  ['P', 'Professionals'],
  ['CF', 'Child-Friendly'],
  ['AL-AN', 'Concurrent with Al-Anon'],
  ['AL', 'Concurrent with Alateen'],
];

const NAMES = new Map(MEETING_TYPES);

/** A type's plain name; an unknown code as it is. */
export const typeName = (code) => NAMES.get(code) ?? code;
