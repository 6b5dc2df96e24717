//! Random identifiers and secrets. Imports nothing from the crate.

use rand::Rng;

/// Lower-case letters and digits without look-alikes (no 0/o, 1/l/i), easy to read aloud.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A random token of `len` characters from the OS-seeded generator (≈4.95 bits each).
pub fn random_token(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_have_the_length_asked_and_differ() {
        let a = super::random_token(24);
        assert_eq!(a.len(), 24);
        assert_ne!(a, super::random_token(24));
    }
}
