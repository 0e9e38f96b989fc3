//! `qingling serve`: the HTTP server (and the HJ 212 listener), with the background jobs beside
//! it; SIGTERM or Ctrl-C stops it after the requests and job rounds in progress.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::app::App;
use crate::layers::Registry;
use crate::service::dust::alerts as dust_alerts;
use crate::service::jobs::Jobs;
use crate::service::webhooks;
use crate::store::Db;

#[derive(clap::Args)]
pub struct Args {
    /// The database file (a GeoPackage).
    #[arg(long, default_value = "qingling.gpkg")]
    db: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Build the database from the sample folder if the file does not exist.
    #[arg(long)]
    demo: bool,
    #[arg(long, default_value = "samples")]
    samples: PathBuf,
    /// The web app's folder.
    #[arg(long, default_value = "web")]
    web: PathBuf,
    /// A raster tile URL template for the basemap, e.g.
    /// `https://t0.tianditu.gov.cn/vec_w/wmts?…&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY`.
    #[arg(long)]
    tiles: Option<String>,
    /// An origin (`https://qingling.example.org`) whose pages may write with the session cookie
    /// although the `Host` the server sees differs, e.g. behind a reverse proxy; repeatable.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Also accept HJ 212-2017 packets from dust monitors on this TCP address, e.g. 0.0.0.0:9212.
    #[arg(long, value_name = "HOST:PORT")]
    hj212: Option<SocketAddr>,
    #[command(flatten)]
    hj212_limits: Hj212Limits,
    /// A PEM file of CA certificates to trust for https:// webhook receivers besides the public
    /// roots (a city's own CA); repeatable.
    #[arg(long = "webhook-ca", value_name = "FILE")]
    webhook_ca: Vec<PathBuf>,
}

/// The HJ 212 listener's defences (see `hj212::listener::Config` for why the defaults).
#[derive(clap::Args)]
struct Hj212Limits {
    /// HJ 212 connections served at once.
    #[arg(long, default_value_t = crate::hj212::listener::MAX_CONNECTIONS)]
    hj212_max_connections: usize,
    /// HJ 212 connections served at once from one address (IPv4, or IPv6 /64).
    #[arg(long, default_value_t = 16)]
    hj212_per_address: usize,
    /// Seconds a new HJ 212 connection has to send an authenticated data packet.
    #[arg(long, default_value_t = 60)]
    hj212_auth_timeout: u64,
    /// Seconds an authenticated HJ 212 connection may stay silent.
    #[arg(long, default_value_t = 900)]
    hj212_idle_timeout: u64,
    /// Wrong PWs (or unknown MNs) from one address before it is locked out.
    #[arg(long, default_value_t = 5)]
    hj212_lockout_after: u32,
    /// Wrong PWs for one MN, from addresses it never authenticated from, before the MN is locked
    /// for them.
    #[arg(long, default_value_t = 10)]
    hj212_mn_lockout_after: u32,
    /// Seconds of the first lockout; each further one doubles it.
    #[arg(long, default_value_t = 60)]
    hj212_lockout: u64,
    /// Seconds a lockout grows to at most.
    #[arg(long, default_value_t = 3600)]
    hj212_lockout_max: u64,
    /// Seconds between two log lines of the same kind of bad packet (the rest are counted).
    #[arg(long, default_value_t = 60)]
    hj212_log_every: u64,
    /// Seconds the parts of a split HJ 212 packet (Flag bit D) wait for the rest.
    #[arg(long, default_value_t = 30)]
    hj212_split_timeout: u64,
}

impl Hj212Limits {
    fn config(&self) -> crate::hj212::listener::Config {
        use std::time::Duration;
        crate::hj212::listener::Config {
            max_connections: self.hj212_max_connections,
            per_address: self.hj212_per_address,
            auth_timeout: Duration::from_secs(self.hj212_auth_timeout),
            idle: Duration::from_secs(self.hj212_idle_timeout),
            lockout: crate::hj212::guard::Lockout {
                after: self.hj212_lockout_after,
                mn_after: self.hj212_mn_lockout_after,
                first: Duration::from_secs(self.hj212_lockout),
                max: Duration::from_secs(self.hj212_lockout_max),
            },
            log_every: Duration::from_secs(self.hj212_log_every),
            split_timeout: Duration::from_secs(self.hj212_split_timeout),
        }
    }
}

pub fn run(args: Args) -> ExitCode {
    fewer_malloc_arenas();
    // Held until the process ends: no restore, and no second server, under this one.
    let _held = match crate::store::lock::hold(&args.db) {
        Ok(Some(f)) => f,
        Ok(None) => {
            let path = args.db.display().to_string();
            return super::fail(crate::i18n::format(
                super::lang(),
                "cli.db_in_use",
                &[("path", path)],
            ));
        }
        Err(e) => return super::fail(format!("{}: {e}", args.db.display())),
    };
    if args.demo
        && !args.db.exists()
        && let Err(e) = super::build_demo(&args.db, &args.samples)
    {
        return super::fail(e);
    }
    let registry = match Registry::builtin() {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    let db = match Db::open(&args.db, &registry) {
        Ok(db) => db,
        Err(e) => return super::fail(e),
    };
    let web = args.web.is_dir().then_some(args.web.clone());
    let app = match App::new(db, registry, web) {
        Ok(a) => a
            .with_tiles(args.tiles.clone())
            .with_allowed_origins(&args.allowed_origins),
        Err(e) => return super::fail(e),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return super::fail(e),
    };
    let hj212 = args.hj212.map(|at| (at, args.hj212_limits.config()));
    let mut hooks = webhooks::Config::default();
    for f in &args.webhook_ca {
        match std::fs::read(f) {
            Ok(pem) => hooks.extra_roots.push(pem),
            Err(e) => return super::fail(format!("--webhook-ca {}: {e}", f.display())),
        }
    }
    // Refused here, not later in the worker's log: a bad CA file stops the start.
    if let Err(e) = webhooks::http_client(&hooks) {
        return super::fail(format!("--webhook-ca: {e}"));
    }
    match rt.block_on(serve(app, args.addr, hj212, hooks)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(e),
    }
}

async fn serve(
    app: App,
    addr: SocketAddr,
    hj212: Option<(SocketAddr, crate::hj212::listener::Config)>,
    hooks: webhooks::Config,
) -> std::io::Result<()> {
    if let Some((at, config)) = hj212 {
        crate::hj212::listener::start_with(at, app.db.clone(), config)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("HJ 212 listener on {at}: {e}")))?;
    }
    // The handlers before the port: once a client can connect, a SIGTERM is a clean stop (a
    // signal before its handler is installed would kill the process mid-start).
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Qingling listening on http://{}", listener.local_addr()?);
    // Beside requests, never in them; on shutdown each finishes the round it is in.
    let mut jobs = Jobs::new();
    let a = app.clone();
    jobs.every("hourly sweep", Duration::from_secs(3600), move || {
        hourly_sweep(a.clone())
    });
    let a = app.clone();
    jobs.spawn("dust check", move |stop| {
        dust_alerts::checker(a.db.clone(), move || a.index(), stop)
    });
    let db = app.db.clone();
    jobs.spawn("webhooks", move |stop| webhooks::worker(db, hooks, stop));
    // With the peer address: sign-in limits per address and the audit log need it.
    axum::serve(
        listener,
        crate::http::router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await?;
    tracing::info!("stopping: waiting for background jobs");
    jobs.shutdown(Duration::from_secs(30)).await;
    Ok(())
}

/// Ctrl-C (SIGINT), or SIGTERM (what systemd and container runtimes send): both handlers are
/// installed when this is called; the future resolves at the first of them.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// The hourly round: controlled fires that met the extinguished standard, and ended sessions.
async fn hourly_sweep(app: App) {
    let rules = app.rules.clone();
    let done = app
        .db
        .write(move |tx| crate::service::fires::sweep(tx, chrono::Utc::now(), &rules))
        .await;
    match done {
        Ok(n) if n > 0 => tracing::info!(
            extinguished = n,
            "controlled fires met the extinguished standard"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "extinguish sweep failed"),
    }
    let now = chrono::Utc::now();
    let purged = app.db.write(move |tx| tx.users().purge_sessions(now)).await;
    if let Err(e) = purged {
        tracing::error!(error = %e, "purging ended sessions failed");
    }
    if let Err(e) = app.db.trim().await {
        tracing::warn!(error = %e, "giving back the sweep's cache failed");
    }
}

/// glibc gives each thread that allocates under contention an arena of its own (up to eight a
/// core) and keeps what is freed in it: under load the blocking threads' arenas held over
/// 100 MB that the requests had long given back. Two arenas a core keep the server's memory
/// flat without making threads queue on one lock; `MALLOC_ARENA_MAX` still decides when set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fewer_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let arenas = libc::c_int::try_from(2 * cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a malloc parameter; it runs before any thread is started.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fewer_malloc_arenas() {}
