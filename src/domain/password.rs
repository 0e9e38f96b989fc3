//! What a new password must be: long enough, not the username, not easy to guess (zxcvbn's
//! frequency lists of leaked passwords, words and names, plus keyboard walks and repeats).

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 8;

/// The least zxcvbn score accepted: 2 means it takes more than 10^6 guesses.
const MIN_SCORE: u8 = 2;

/// Why a password is refused; each is a message key with the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Fewer than [`MIN_CHARS`] characters.
    TooShort,
    /// The username is in it (either case).
    ContainsUsername,
    /// In a list of common passwords, or a repeat, sequence or keyboard walk.
    TooCommon,
}

impl Problem {
    pub fn key(self) -> &'static str {
        match self {
            Problem::TooShort => "password_too_short",
            Problem::ContainsUsername => "password_contains_username",
            Problem::TooCommon => "password_too_common",
        }
    }
}

/// [`check`] as the 422 a person reads (the key, with the minimum length filled in).
pub fn check_new(username: &str, password: &str) -> crate::error::Result<()> {
    check(username, password)
        .map_err(|p| crate::error::Error::invalid(p.key()).arg("min", MIN_CHARS.to_string()))
}

/// Checks a password someone wants to set for `username`.
pub fn check(username: &str, password: &str) -> Result<(), Problem> {
    if password.chars().count() < MIN_CHARS {
        return Err(Problem::TooShort);
    }
    let name = username.trim().to_lowercase();
    if !name.is_empty() && password.to_lowercase().contains(&name) {
        return Err(Problem::ContainsUsername);
    }
    // zxcvbn is slow on very long input and gains nothing there; 64 characters decide it.
    let head: String = password.chars().take(64).collect();
    if (zxcvbn::zxcvbn(&head, &[username]).score() as u8) < MIN_SCORE {
        return Err(Problem::TooCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_username_passwords_are_refused() {
        assert_eq!(check("li", "short"), Err(Problem::TooShort));
        for common in [
            "11111111",
            "password1",
            "12345678",
            "qwertyuiop",
            "iloveyou123",
            "abcdefgh",
        ] {
            assert_eq!(check("li", common), Err(Problem::TooCommon), "{common}");
        }
        assert_eq!(
            check("wang", "Wang-2024-xyz"),
            Err(Problem::ContainsUsername)
        );
        for fine in ["long enough", "hill fire clearance", "Ke7#pq!2vz"] {
            assert_eq!(check("li", fine), Ok(()), "{fine}");
        }
    }
}
