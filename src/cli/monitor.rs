//! `qingling monitor add|enable|token|revoke|list`: dust monitors and their device credentials. A
//! device token is printed alone on the last line of stdout (for scripts), everything else on
//! stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// The unit of the particulate values in its HJ 212 packets: mg or ug.
        #[arg(long, default_value = "mg", value_parser = ["mg", "ug"])]
        hj212_unit: String,
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
    /// List monitors: MN, name, mine, holder, district, token state (tab-separated).
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
    /// The unit of the particulate values in its HJ 212 packets: mg (mg/m³, the standard's code
    /// table) or ug (µg/m³).
    #[arg(long, default_value = "mg", value_parser = ["mg", "ug"])]
    hj212_unit: String,
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
                unit: ParticulateUnit::parse(&a.hj212_unit).unwrap_or(ParticulateUnit::MgPerM3),
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
            hj212_unit,
        } => {
            let (db, registry) = open_or_exit!(&db);
            let unit = ParticulateUnit::parse(&hj212_unit).unwrap_or(ParticulateUnit::MgPerM3);
            let (password, generated) = password_or_generated(password);
            match db.write_blocking(|tx| {
                monitors::enable(tx, &registry, mn.trim(), &password, unit, now)
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
