//! A dust monitor's credentials, pure: what an MN and an HJ 212 PW may be, how weak a PW is, and
//! the hashes they are kept as (the store never sees a PW or a device token).

use sha2::{Digest, Sha256};

use crate::domain::dust::reading::ParticulateUnit;
use crate::error::{Error, Result};

/// MN: HJ 212-2017 allows 24 characters; letters, digits, `-` and `_` cannot clash with the
/// packet's `;`, `=`, `,` and `&`.
pub fn mn_ok(mn: &str) -> bool {
    (1..=24).contains(&mn.len())
        && mn
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// PW: printable ASCII without the packet's separators.
pub fn password_ok(pw: &str) -> bool {
    (1..=64).contains(&pw.len())
        && pw
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b";=,&".contains(&b))
}

/// What generated passwords are made of: digits and upper-case letters without the look-alikes
/// 0/O and 1/I, because a PW is typed by hand into a device's panel or its vendor's tool. 32
/// symbols, 5 bits each.
pub const PW_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Length of a generated PW: 10 symbols are 50 bits. HJ 212-2017's data-segment table gives the
/// PW field 6 characters (`PW=` + 6, the 123456 every device ships with), but the field is text
/// and data loggers take longer ones. 50 bits stand even without the listener's lockout: at the
/// ~30,000 guesses/s one pipelined loopback connection got before it, 2^50 take over 1,000 years.
pub const GENERATED_PW_LEN: usize = 10;

/// Why a password someone chose is too weak for a device, as a message key; `None` when it will
/// do. A device whose panel takes only the standard's 6 characters can still be given 6 mixed
/// letters and digits (31+ bits): the listener's lockout leaves an online attacker a few hundred
/// guesses a day per MN, not the seconds a 6-digit PW lasted without it.
pub fn password_weakness(pw: &str) -> Option<&'static str> {
    let b = pw.as_bytes();
    if b.len() < 6 {
        return Some("dust_password_too_short");
    }
    if b.iter().all(|&c| c == b[0]) {
        return Some("dust_password_one_character");
    }
    let step = |d: i16| b.windows(2).all(|w| i16::from(w[1]) - i16::from(w[0]) == d);
    if step(1) || step(-1) {
        return Some("dust_password_sequence");
    }
    if b.iter().all(u8::is_ascii_digit) && b.len() < 10 {
        return Some("dust_password_digits_only");
    }
    // A naive estimate: length times the bits of the character classes used. 30 bits is a
    // billion guesses; "abcxyz" (28) is refused, "ab12cd" (31) passes.
    let classes = [
        (b.iter().any(u8::is_ascii_digit), 10.0),
        (b.iter().any(u8::is_ascii_lowercase), 26.0),
        (b.iter().any(u8::is_ascii_uppercase), 26.0),
        (b.iter().any(|c| !c.is_ascii_alphanumeric()), 32.0),
    ];
    let symbols: f64 = classes.iter().filter(|c| c.0).map(|c| c.1).sum();
    if (b.len() as f64) * symbols.log2() < 30.0 {
        return Some("dust_password_too_simple");
    }
    None
}

/// Checks a password given for a device: its form, then its strength.
pub fn check_password(pw: &str) -> Result<()> {
    if !password_ok(pw) {
        return Err(Error::invalid("dust_bad_password"));
    }
    match password_weakness(pw) {
        Some(why) => Err(Error::invalid(why)),
        None => Ok(()),
    }
}

/// Bytes as lower-case hex (salts and tokens are drawn as random bytes and kept as hex).
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    to_hex(&h.finalize())
}

/// How an HJ 212 PW is kept: a salted SHA-256. The PW travels in clear text in every packet, so
/// a fast hash (20,000 packets a second to check, unlike argon2) only keeps it from being read
/// off the database.
pub fn password_hash(salt: &str, pw: &str) -> String {
    sha256_hex(&[salt, pw])
}

/// How an HTTP device token is kept (random, so unsalted).
pub fn token_hash(token: &str) -> String {
    sha256_hex(&[token])
}

/// Whether a packet's PW is the one kept as `salt` and `hash`; comparing hashes leaks nothing
/// by timing.
pub fn password_matches(salt: &str, hash: &str, pw: &str) -> bool {
    password_hash(salt, pw) == hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mns_and_passwords_must_fit_in_a_packet() {
        assert!(mn_ok("010000A8900016F000169DC0"));
        assert!(mn_ok("WH-DUST_01"));
        assert!(!mn_ok(""));
        assert!(!mn_ok("WH;01"));
        assert!(!mn_ok("0123456789012345678901234"));
        assert!(password_ok("123456"));
        assert!(!password_ok("12;456"));
        assert!(!password_ok("12 456"));
    }
}

/// The HJ 212 editions a server meets in the field. A packet says which it follows in Flag's
/// upper bits (Flag & 0xFC): 0 for 2005 (whose packets often carry no Flag at all), 4 for 2017,
/// 8 for 2025 (HJ 212-2025, in force since 2026-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    V2005,
    V2017,
    V2025,
}

impl Protocol {
    /// The edition a packet's Flag names; `None` for version bits no edition uses.
    pub fn of_flag(flag: u8) -> Option<Protocol> {
        match flag & 0xFC {
            0 => Some(Protocol::V2005),
            4 => Some(Protocol::V2017),
            8 => Some(Protocol::V2025),
            _ => None,
        }
    }

    /// The version bits this edition puts in Flag.
    pub fn flag_bits(self) -> u8 {
        match self {
            Protocol::V2005 => 0,
            Protocol::V2017 => 4,
            Protocol::V2025 => 8,
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        match s.trim() {
            "2005" => Some(Protocol::V2005),
            "2017" => Some(Protocol::V2017),
            "2025" => Some(Protocol::V2025),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::V2005 => "2005",
            Protocol::V2017 => "2017",
            Protocol::V2025 => "2025",
        }
    }
}

/// HJ 212 system codes (ST) that carry data from the monitors this system keeps: 22 ambient air
/// quality, 31 air pollution source, 39 construction-site dust (工地扬尘污染源, what most mine
/// and site dust monitors send). 91 is the system-interaction code of replies, never data.
pub const DATA_SYSTEMS: [&str; 3] = ["22", "31", "39"];

/// Whether an ST is a two-digit system code (HJ 212-2017 table 3 / appendix).
pub fn st_ok(st: &str) -> bool {
    st.len() == 2 && st.bytes().all(|b| b.is_ascii_digit())
}

/// How a monitor speaks HJ 212, as registered: the unit of its particulate values, the system
/// code (ST) it was set up with, and the edition it follows. An ST or edition left unset
/// accepts any of [`DATA_SYSTEMS`] / any edition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hj212Profile {
    pub unit: ParticulateUnit,
    pub st: Option<String>,
    pub protocol: Option<Protocol>,
}

impl Hj212Profile {
    /// Whether a data packet's ST is one this monitor sends.
    pub fn accepts_st(&self, st: &str) -> bool {
        match &self.st {
            Some(own) => own == st,
            None => DATA_SYSTEMS.contains(&st),
        }
    }
}
