//! `qingling serve`: the HTTP server, with the automatic extinguish sweep in the background.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::app::App;
use crate::layers::Registry;
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
}

pub fn run(args: Args) -> ExitCode {
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
    match rt.block_on(serve(app, args.addr, args.hj212)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(e),
    }
}

async fn serve(app: App, addr: SocketAddr, hj212: Option<SocketAddr>) -> std::io::Result<()> {
    if let Some(at) = hj212 {
        crate::dust::listener::start(at, app.db.clone())
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("HJ 212 listener on {at}: {e}")))?;
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Qingling listening on http://{}", listener.local_addr()?);
    let sweeper = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let rules = sweeper.rules.clone();
            let done = sweeper
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
        }
    });
    // Webhook deliveries (and the sweep for passed deadlines) run beside requests, never in them.
    crate::service::webhooks::spawn_worker(&app);
    crate::service::dust_alerts::spawn_checker(&app);
    axum::serve(listener, crate::http::router(app))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
