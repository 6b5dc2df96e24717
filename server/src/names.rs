//! Display names: the only thing a member tells us about themselves. Imports nothing.

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
    // Control and bidi-override characters could disguise a name as someone else's.
    if name.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)) {
        return Err(NameError::ControlCharacters);
    }
    Ok(name.to_string())
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
    fn thirty_two_characters_of_any_script_are_fine() {
        assert!(validate(&"é".repeat(32)).is_ok());
        assert!(validate("Łucja 🌱").is_ok());
    }
}
