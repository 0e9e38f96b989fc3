//! The command line: `serve`, `import`, `export`, `user add|disable|enable|passwd|sessions`,
//! `demo`, `backup`, `restore`. The benchmarks are in `benches/` (`cargo bench`).

/// Opens the database for a command, or ends the command with the reason.
macro_rules! open_or_exit {
    ($path:expr) => {
        match $crate::cli::open($path) {
            Ok(x) => x,
            Err(e) => return $crate::cli::fail(e),
        }
    };
}

mod backup;
mod check;
mod export;
mod import;
mod monitor;
mod rules;
mod serve;
mod user;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::domain::role::Role;
use crate::error::Error;
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::store::Db;
use crate::store::users::{self, NewUser};

#[derive(Parser)]
#[command(
    name = "qingling",
    version,
    about = "清零 — coal-mining-area fire and dust tracking until every fire is cleared"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API.
    Serve(serve::Args),
    /// Import a layer from any GDAL vector file (Shapefile, GeoPackage, KML, GeoJSON, CSV);
    /// all or nothing, updating features matched by key.
    Import(import::Args),
    /// Export a layer to GPKG, Shapefile, KML, GeoJSON, CSV, or the XLSX fire-point ledger.
    Export(export::Args),
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Build a demo database from the sample folder.
    Demo {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value = "samples")]
        samples: PathBuf,
    },
    /// Show or change the rules in force (thresholds, periods, deadlines, code prefix).
    Rules(rules::Args),
    /// Dust monitors and their device credentials.
    Monitor {
        #[command(subcommand)]
        command: monitor::Command,
    },
    /// Back up a database, while the server runs, with its photos and a checksummed manifest.
    Backup(backup::BackupArgs),
    /// Restore a backup after verifying every checksum (or only verify it with --check).
    Restore(backup::RestoreArgs),
    /// Check the database: `--recount` compares the clearance counts with a replay of the log.
    Check(check::Args),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account.
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long, value_parser = ["manager", "district", "owner", "patrol"])]
        role: String,
        /// The district code a district account is bound to.
        #[arg(long)]
        district: Option<String>,
        /// The holder an owner account acts for.
        #[arg(long)]
        holder: Option<String>,
    },
    #[command(flatten)]
    Manage(user::Command),
}

/// The language for command-line messages, from LANG (Chinese by default).
fn lang() -> Lang {
    Lang::from_accept_language(
        std::env::var("LANG")
            .ok()
            .as_deref()
            .filter(|l| !l.starts_with('C') && !l.is_empty()),
    )
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("qingling: {msg}");
    ExitCode::FAILURE
}

/// A command's end: its summary on stderr and success, or its error through [`fail`] — how the
/// commands that answer with one message finish.
fn finish(done: Result<String, impl std::fmt::Display>) -> ExitCode {
    match done {
        Ok(summary) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn open(db: &Path) -> Result<(Db, Registry), String> {
    let registry = Registry::builtin().map_err(|e| e.to_string())?;
    let db = Db::open(db, &registry).map_err(|e| e.to_string())?;
    Ok((db, registry))
}

pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    crate::gis::quiet_gdal_warnings();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::User {
            command:
                UserCommand::Add {
                    db,
                    username,
                    password,
                    role,
                    district,
                    holder,
                },
        } => {
            let (db, _) = open_or_exit!(&db);
            let Some(role) = Role::parse(&role) else {
                return fail("unknown role");
            };
            if let Err(e) = user::check_password(&username, &password) {
                return fail(e);
            }
            let u = NewUser {
                username: &username,
                password: &password,
                role,
                district: district.as_deref(),
                holder: holder.as_deref(),
            };
            match db.write_blocking(|tx| {
                users::add(tx, &u, chrono::Utc::now())
                    .map_err(|e| Error::Store(crate::store::StoreError::Worker(e.to_string())))
            }) {
                Ok(_) => {
                    eprintln!("added {} ({})", username, role.as_str());
                    ExitCode::SUCCESS
                }
                Err(Error::Store(e)) => fail(e),
                Err(e) => fail(message(&e)),
            }
        }
        Command::User {
            command: UserCommand::Manage(cmd),
        } => user::run(cmd),
        Command::Demo { db, samples } => match build_demo(&db, &samples) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Monitor { command } => monitor::run(command),
        Command::Rules(args) => rules::run(args),
        Command::Backup(args) => backup::run_backup(args),
        Command::Restore(args) => backup::run_restore(args),
        Command::Check(args) => check::run(args),
    }
}

/// An error in the command line's language (a storage error as it is).
pub fn message(e: &Error) -> String {
    match e {
        Error::Store(s) => s.to_string(),
        e => e.message(lang()),
    }
}

/// Builds a demo database at `path` (which must not exist yet).
pub fn build_demo(path: &Path, samples: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} exists; the demo is built only into a new file",
            path.display()
        ));
    }
    let (db, registry) = open(path)?;
    let built = crate::service::demo::build(&db, &registry, samples, chrono::Utc::now())
        .map_err(|e| message(&e));
    if let Err(e) = built {
        drop(db);
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
        return Err(e);
    }
    eprintln!("demo database built at {}", path.display());
    Ok(())
}
