//! PURE: the meeting types an organisation may give a stored meeting: the Meeting Guide
//! codes (code4recovery's spec, "Meeting Types") that mean something for an online
//! peer-support meeting, with their plain English names. Place codes (wheelchair access,
//! breakfast…), language codes (the feed derives them from `language`), `ONL` (every Haven
//! meeting is online) and proof of attendance (nothing about members is kept) are left out.
//! The admin page and the directory carry the same table (web/js/meeting-types.js; a test
//! keeps the two equal). Imports nothing.

/// `(code, name)`, in the order the admin page shows them.
pub const MEETING_TYPES: &[(&str, &str)] = &[
    ("O", "Open"),
    ("C", "Closed"),
    ("BE", "Newcomer"),
    ("D", "Discussion"),
    ("SP", "Speaker"),
    ("ST", "Step Study"),
    ("TR", "Tradition Study"),
    ("12x12", "12 Steps & 12 Traditions"),
    ("B", "Big Book"),
    ("LIT", "Literature"),
    ("LS", "Living Sober"),
    ("DR", "Daily Reflections"),
    ("ABSI", "As Bill Sees It"),
    ("GR", "Grapevine"),
    ("MED", "Meditation"),
    ("11", "11th Step Meditation"),
    ("CAN", "Candlelight"),
    ("H", "Birthday"),
    ("XT", "Cross Talk Permitted"),
    ("A", "Secular"),
    ("DD", "Dual Diagnosis"),
    ("ASL", "American Sign Language"),
    ("W", "Women"),
    ("M", "Men"),
    ("Y", "Young People"),
    ("SEN", "Seniors"),
    ("LGBTQ", "LGBTQ"),
    ("G", "Gay"),
    ("L", "Lesbian"),
    ("BI", "Bisexual"),
    ("T", "Transgender"),
    ("NB", "Non-Binary"),
    ("POC", "People of Color"),
    ("NDG", "Indigenous"),
    ("N", "Native American"),
    ("P", "Professionals"),
    ("CF", "Child-Friendly"),
    ("AL-AN", "Concurrent with Al-Anon"),
    ("AL", "Concurrent with Alateen"),
];

pub fn name(code: &str) -> Option<&'static str> {
    MEETING_TYPES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The codes given, each known, once, in the table's order; the first unknown one otherwise.
pub fn normalize(codes: &[String]) -> Result<Vec<String>, String> {
    if let Some(unknown) = codes.iter().find(|c| name(c).is_none()) {
        return Err(unknown.clone());
    }
    Ok(MEETING_TYPES
        .iter()
        .filter(|(c, _)| codes.iter().any(|given| given == c))
        .map(|(c, _)| c.to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_kept_once_in_the_tables_order_and_an_unknown_code_is_named() {
        let given = ["SP", "O", "SP"].map(String::from);
        assert_eq!(normalize(&given).unwrap(), ["O", "SP"]);
        assert_eq!(normalize(&["O".into(), "ONL".into()]).unwrap_err(), "ONL");
        assert_eq!(normalize(&["o".into()]).unwrap_err(), "o", "codes are case-sensitive, as in the spec");
    }

    #[test]
    fn the_web_clients_table_is_the_same() {
        let js = include_str!("../../web/js/meeting-types.js");
        let mut found = Vec::new();
        for line in js.lines().map(str::trim).filter(|l| l.starts_with('[')) {
            let parts: Vec<&str> = line.split('\'').collect();
            if parts.len() >= 4 {
                found.push((parts[1], parts[3]));
            }
        }
        assert_eq!(found, MEETING_TYPES);
    }
}
