//! Display names: the only thing a member tells us about themselves. Imports nothing.
//!
//! A name may be any text a person would write, but nothing invisible that could make two
//! names look the same: no control, bidi-override or format characters (general category
//! Cf, such as a zero-width space), but for the joiners inside an emoji. [`look_alike_key`]
//! is what two names that only *look* alike have in common (NFKC, case, UTS #39 confusables:
//! "Ana", "ANA", "Аna" with a Cyrillic А), so the room can refuse a name that would pass for
//! a facilitator's.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

pub const MAX_NAME_CHARS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Please type a name (a first name or a nickname is fine).")]
    Empty,
    #[error("Please use a name of at most 32 characters.")]
    TooLong,
    #[error("That name contains characters that cannot be shown.")]
    ControlCharacters,
}

/// Trims and checks a display name; returns the name to show.
pub fn validate(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    // Control, bidi-override and format characters could disguise a name as someone else's.
    let mut previous: Option<char> = None;
    for c in name.chars() {
        let format = c.general_category() == GeneralCategory::Format;
        // A zero-width joiner or tag inside an emoji (a family, a flag) is part of the picture.
        // (Format characters that are emoji components: the joiner and the tags. Not after a
        // letter or digit, where they would only hide.)
        let in_emoji = format
            && c.is_emoji_char_or_emoji_component()
            && previous.is_some_and(|p| !p.is_ascii() && p.is_emoji_char_or_emoji_component());
        if c.is_control() || (format && !in_emoji) {
            return Err(NameError::ControlCharacters);
        }
        previous = Some(c);
    }
    Ok(name.to_string())
}

/// What names that look alike share: equal keys mean a reader could take one for the other.
pub fn look_alike_key(name: &str) -> String {
    let folded: String = name.nfkc().collect::<String>().to_lowercase();
    let words: Vec<&str> = folded.split_whitespace().collect();
    unicode_security::confusable_detection::skeleton(&words.join(" ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(validate("  Sam ").unwrap(), "Sam");
    }

    #[test]
    fn empty_long_and_control_names_are_refused() {
        assert_eq!(validate("   "), Err(NameError::Empty));
        assert_eq!(validate(&"a".repeat(33)), Err(NameError::TooLong));
        assert_eq!(validate("Sam\u{7}"), Err(NameError::ControlCharacters));
        assert_eq!(validate("Sam\u{202e}"), Err(NameError::ControlCharacters));
    }

    #[test]
    fn invisible_format_characters_are_refused_but_emoji_joiners_are_not() {
        assert_eq!(validate("Ana\u{200b}"), Err(NameError::ControlCharacters), "zero-width space");
        assert_eq!(validate("A\u{2060}na"), Err(NameError::ControlCharacters), "word joiner");
        assert_eq!(validate("Ana\u{feff}"), Err(NameError::ControlCharacters), "BOM");
        assert_eq!(validate("Ana\u{200d}"), Err(NameError::ControlCharacters), "a joiner after a letter");
        assert_eq!(validate("Ana \u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}").as_deref(), Ok("Ana 👨‍👩‍👧"));
        // England's flag: a black flag, tag letters, a cancel tag.
        assert!(validate("Sam \u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}").is_ok());
    }

    #[test]
    fn names_that_only_look_alike_share_a_key() {
        let ana = look_alike_key("Ana");
        assert_eq!(look_alike_key("ANA"), ana);
        assert_eq!(look_alike_key("\u{410}na"), ana, "Cyrillic А");
        assert_eq!(look_alike_key("Ａｎａ"), ana, "fullwidth");
        assert_eq!(look_alike_key("Ana\u{200d}"), ana, "an invisible joiner");
        assert_eq!(look_alike_key("Ana  Lee"), look_alike_key("Ana Lee"));
        assert_ne!(look_alike_key("Anna"), ana);
        assert_ne!(look_alike_key("Ana L"), ana);
    }

    #[test]
    fn thirty_two_characters_of_any_script_are_fine() {
        assert!(validate(&"é".repeat(32)).is_ok());
        assert!(validate("Łucja 🌱").is_ok());
    }
}
