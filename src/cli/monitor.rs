//! `qingling monitor add|enable|token|revoke|list`: dust monitors and their device credentials. A
//! device token is printed alone on the last line of stdout (for scripts), everything else on
//! stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::domain::dust::device::{Hj212Profile, Protocol};
use crate::domain::dust::reading::ParticulateUnit;
use crate::service::dust::monitors::{self, NewMonitor};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Register a monitor; prints its HTTP device token (shown once) on the last line.
    Add(AddArgs),
    /// Give a monitor imported with the layer (on the map, without credentials) its HJ 212
    /// password and an HTTP device token, printed on the last line.
    Enable {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        mn: String,
        /// The HJ 212 access password (PW) the device sends; left out, a strong one is generated
        /// and printed (on stderr).
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        hj212: Hj212Args,
    },
    /// Issue a new HTTP device token (the old one stops working); printed on the last line.
    Token {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        mn: String,
    },
    /// Revoke a monitor's HTTP device token: its batches get 401 until `monitor token` issues a
    /// new one. HJ 212 packets are checked by MN and PW, not by this token.
    Revoke {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        mn: String,
    },
    /// List monitors: MN, name, mine, holder, district, token state, values stored as implausible
    /// for their unit (tab-separated).
    List {
        #[arg(long)]
        db: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct AddArgs {
    #[arg(long)]
    db: PathBuf,
    /// The device id (HJ 212 MN), up to 24 letters, digits, - or _.
    #[arg(long)]
    mn: String,
    /// The HJ 212 access password (PW) the device sends; left out, a strong one is generated and
    /// printed (on stderr). A weak one (short, a run, few digits…) is refused.
    #[arg(long)]
    password: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    lon: f64,
    #[arg(long, allow_hyphen_values = true)]
    lat: f64,
    #[arg(long)]
    name: Option<String>,
    /// The mine (licence_no) the monitor belongs to, instead of the mining right containing it.
    #[arg(long)]
    mine: Option<String>,
    /// What it measures, comma-separated (default all): tsp, pm10, pm25, wind_speed, wind_dir,
    /// temperature, humidity.
    #[arg(long)]
    measures: Option<String>,
    #[command(flatten)]
    hj212: Hj212Args,
}

/// How the monitor speaks HJ 212.
#[derive(clap::Args)]
pub struct Hj212Args {
    /// The unit of the particulate values in its HJ 212 packets: ug (µg/m³, what field dust and
    /// air monitors send) or mg (mg/m³).
    #[arg(long, default_value = "ug", value_parser = ["ug", "mg"])]
    hj212_unit: String,
    /// The system code (ST) the device is set up with, e.g. 39 (construction-site dust), 22
    /// (ambient air) or 31 (air pollution source); left out, any of these is accepted.
    #[arg(long)]
    st: Option<String>,
    /// The HJ 212 edition it speaks (2005, 2017 or 2025); left out, each packet's Flag says.
    #[arg(long, value_parser = ["2005", "2017", "2025"])]
    protocol: Option<String>,
}

impl Hj212Args {
    fn profile(&self) -> Hj212Profile {
        Hj212Profile {
            unit: ParticulateUnit::parse(&self.hj212_unit).unwrap_or_default(),
            st: self.st.as_deref().map(|s| s.trim().to_string()),
            protocol: self.protocol.as_deref().and_then(Protocol::parse),
        }
    }
}

/// The password given, or a generated one to be shown once it is stored.
fn password_or_generated(given: Option<String>) -> (String, bool) {
    match given {
        Some(pw) => (pw, false),
        None => (monitors::generate_password(), true),
    }
}

/// Shows a generated password (on stderr, like everything but the token).
fn show_generated(pw: &str) {
    eprintln!(
        "{}\n{pw}",
        crate::i18n::text(super::lang(), "cli.dust_password_generated")
    );
}

/// Writes the token alone on the last line of stdout.
fn print_token(token: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{token}").and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(format!("stdout: {e}")),
    }
}

pub fn run(cmd: Command) -> ExitCode {
    let now = chrono::Utc::now();
    match cmd {
        Command::Add(a) => {
            let (db, registry) = open_or_exit!(&a.db);
            let measures = match a.measures.as_deref().map(monitors::parse_measures) {
                None => vec![],
                Some(Ok(m)) => m,
                Some(Err(e)) => return super::fail(super::message(&e)),
            };
            let (password, generated) = password_or_generated(a.password);
            let m = NewMonitor {
                mn: a.mn.trim().to_string(),
                password,
                lon: a.lon,
                lat: a.lat,
                name: a.name,
                mine: a.mine.filter(|m| !m.trim().is_empty()),
                measures,
                hj212: a.hj212.profile(),
            };
            match db.write_blocking(|tx| monitors::add(tx, &registry, &m, now)) {
                Ok(added) => {
                    let mine = match (&added.mine, added.mine_via) {
                        (Some(l), "manager") => format!("mine {l} (as given)"),
                        (Some(l), _) => format!("mine {l} (the mining right containing it)"),
                        _ => "in no mining right".to_string(),
                    };
                    eprintln!(
                        "monitor {} added: {mine}, district {}",
                        m.mn,
                        added.district_code.as_deref().unwrap_or("none")
                    );
                    if added.district_code.is_none() {
                        eprintln!(
                            "note: no district contains ({}, {}); check that --lon is the longitude and --lat the latitude",
                            m.lon, m.lat
                        );
                    }
                    if generated {
                        show_generated(&m.password);
                    }
                    eprintln!("HTTP device token (shown once; keep it):");
                    print_token(&added.token)
                }
                Err(e) => super::fail(super::message(&e)),
            }
        }
        Command::Enable {
            db,
            mn,
            password,
            hj212,
        } => {
            let (db, registry) = open_or_exit!(&db);
            let profile = hj212.profile();
            let (password, generated) = password_or_generated(password);
            match db.write_blocking(|tx| {
                monitors::enable(tx, &registry, mn.trim(), &password, &profile, now)
            }) {
                Ok(token) => {
                    if generated {
                        show_generated(&password);
                    }
                    eprintln!(
                        "monitor {mn} can report now; HTTP device token (shown once; keep it):"
                    );
                    print_token(&token)
                }
                Err(e) => super::fail(super::message(&e)),
            }
        }
        Command::Token { db, mn } => {
            let (db, _) = open_or_exit!(&db);
            match db.write_blocking(|tx| monitors::new_token(tx, mn.trim(), now)) {
                Ok(token) => {
                    eprintln!("new HTTP device token for {mn} (the old one no longer works):");
                    print_token(&token)
                }
                Err(e) => super::fail(super::message(&e)),
            }
        }
        Command::Revoke { db, mn } => {
            let (db, _) = open_or_exit!(&db);
            match db.write_blocking(|tx| monitors::revoke(tx, mn.trim(), now)) {
                Ok(()) => {
                    eprintln!("the HTTP device token of {mn} is revoked");
                    ExitCode::SUCCESS
                }
                Err(e) => super::fail(super::message(&e)),
            }
        }
        Command::List { db } => {
            let (db, _) = open_or_exit!(&db);
            match db.read_blocking(|c| monitors::list(c)) {
                Ok(rows) => {
                    let mut out = std::io::stdout().lock();
                    for r in rows {
                        let line = [
                            r.mn,
                            r.name.unwrap_or_default(),
                            r.mine.unwrap_or_default(),
                            r.holder.unwrap_or_default(),
                            r.district_code.unwrap_or_default(),
                            r.token.to_string(),
                            format!("{} suspect values", r.suspect_values),
                        ]
                        .join("\t");
                        if let Err(e) = writeln!(out, "{line}") {
                            return super::fail(format!("stdout: {e}"));
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => super::fail(super::message(&e)),
            }
        }
    }
}
