//! `qingling check --db FILE --recount [--days N] [--to DATE] [--fix]`: the clearance counts kept
//! with every event, checked against a full replay of the event log.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Duration, NaiveDate, Utc};

use crate::domain::deadline::local_date;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::error::Error;
use crate::service::clearance::{self, Names, RECOUNT_HOLDERS};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    /// Compare the read model's counts with a replay of every event.
    #[arg(long)]
    recount: bool,
    /// How many days back the comparison reaches (each day's end, and now).
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// The last day compared (default: today).
    #[arg(long)]
    to: Option<NaiveDate>,
    /// Rebuild the read model from the event log first.
    #[arg(long)]
    fix: bool,
}

pub fn run(args: Args) -> ExitCode {
    if !args.recount {
        return super::fail("nothing to check: add --recount");
    }
    let (db, _) = open_or_exit!(&args.db);
    let now = Utc::now();
    let to = args.to.unwrap_or_else(|| local_date(now));
    let days: Vec<NaiveDate> = (0..args.days.max(1))
        .map(|i| to - Duration::days(i))
        .rev()
        .collect();
    if args.fix {
        match db.write_blocking(|tx| tx.counts().rebuild()) {
            Ok(n) => eprintln!("rebuilt the counts from {n} events"),
            Err(e) => return super::fail(e),
        }
    }
    let checked = db.read_blocking(|tx| {
        let names = Names::of(&ResponsibilityIndex::new(tx.areas().load()?));
        Ok::<_, Error>(clearance::recount(tx, &names, &days, now)?)
    });
    match checked {
        Ok(r) if r.problems.is_empty() => {
            eprintln!(
                "the counts agree with a replay of {} events: {} scopes (everything, every district, up to {RECOUNT_HOLDERS} holders) at {} moments, and the daily counts from {} to {to}",
                r.events,
                r.scopes,
                r.moments,
                days.first().copied().unwrap_or(to)
            );
            ExitCode::SUCCESS
        }
        Ok(r) => {
            for p in &r.problems {
                eprintln!("{p}");
            }
            super::fail(format!(
                "{} differences between the counts and a replay of {} events (qingling check --recount --fix rebuilds them)",
                r.problems.len(),
                r.events
            ))
        }
        Err(e) => super::fail(super::message(&e)),
    }
}
