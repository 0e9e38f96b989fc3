//! `qingling backup` and `qingling restore`: a backup is a folder holding a copy of the database
//! (SQLite's online backup, taken while the server runs), the photo files that copy records, and a
//! manifest with the SHA-256 of every file; restore verifies all of it before writing anything.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{finish, lang};
use crate::i18n::format;
use crate::store::backup as store;
use crate::store::photos;

const FORMAT: &str = "qingling-backup";
const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "database.gpkg";
const PHOTOS: &str = "photos";
/// The files kept for each photo (see `http/photos.rs`): the original, the served copy, the thumb.
const PHOTO_FILES: [&str; 3] = [".orig", ".jpg", ".thumb.jpg"];

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The database to back up; a server may be running on it.
    #[arg(long)]
    db: PathBuf,
    /// The backup folder to create (it must not exist yet).
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup folder.
    #[arg(long)]
    from: PathBuf,
    /// The database file to create (its photos go to FILE.photos/).
    #[arg(long, required_unless_present = "check")]
    db: Option<PathBuf>,
    /// Replace an existing database (stop the server on it first); the old one is kept as
    /// FILE.before-restore.
    #[arg(long)]
    force: bool,
    /// Only verify the backup (checksums, integrity); write nothing.
    #[arg(long, conflicts_with_all = ["db", "force"])]
    check: bool,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    created_at: String,
    source: String,
    schema_version: i64,
    /// Rows per table in the database copy.
    counts: BTreeMap<String, i64>,
    files: Vec<Entry>,
    /// Photo files the database records that were not found when the backup was taken.
    #[serde(default)]
    missing: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    /// Relative to the backup folder, with `/`.
    path: String,
    bytes: u64,
    sha256: String,
}

fn t(key: &str, args: &[(&str, String)]) -> String {
    format(lang(), key, args)
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

fn io_failed<'a>(key: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> String + 'a {
    move |e| t(key, &[("detail", std::format!("{}: {e}", path.display()))])
}

/// A backup file whose size or hash is not the manifest's: found when checking the backup and
/// again when hashing what was copied, with the same message.
fn mismatch(file: &Path, e: &Entry, actual: String) -> String {
    t(
        "cli.restore_file_mismatch",
        &[
            ("file", shown(file)),
            ("expected", e.sha256.clone()),
            ("actual", actual),
        ],
    )
}

/// `p` with `suffix` appended to its file name.
fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Size and SHA-256 of a file, read in pieces (a database may be large).
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)?;
    Ok((n, hex::encode(h.finalize())))
}

/// Copies `src` to the new file `dst`, synced, and returns what was copied: size and SHA-256.
fn copy_hashed(src: &Path, dst: &Path) -> std::io::Result<(u64, String)> {
    let mut from = File::open(src)?;
    let mut to = File::create(dst)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = from.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        to.write_all(&buf[..k])?;
        n += k as u64;
    }
    to.sync_all()?;
    Ok((n, hex::encode(h.finalize())))
}

/// Makes renames and new names in a folder durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

pub fn run_backup(args: BackupArgs) -> ExitCode {
    finish(backup(&args.db, &args.out))
}

pub fn run_restore(args: RestoreArgs) -> ExitCode {
    let done = match &args.db {
        Some(db) if !args.check => restore(&args.from, db, args.force),
        _ => check(&args.from),
    };
    finish(done)
}

fn backup(db: &Path, out: &Path) -> Result<String, String> {
    if !db.is_file() {
        return Err(t("cli.backup_no_db", &[("path", shown(db))]));
    }
    if out.exists() {
        return Err(t("cli.backup_exists", &[("path", shown(out))]));
    }
    // Built beside OUT and renamed when complete: a folder named OUT is always a whole backup.
    let part = with_suffix(out, ".partial");
    if part.exists() {
        std::fs::remove_dir_all(&part).map_err(io_failed("cli.backup_failed", &part))?;
    }
    let photos_out = part.join(PHOTOS);
    std::fs::create_dir_all(&photos_out).map_err(io_failed("cli.backup_failed", &photos_out))?;
    let db_out = part.join(DATABASE);
    let failed = |e: crate::store::StoreError| t("cli.backup_failed", &[("detail", e.to_string())]);
    store::snapshot(db, &db_out).map_err(failed)?;
    let problems = store::problems(&db_out).map_err(failed)?;
    if !problems.is_empty() {
        return Err(t(
            "cli.backup_damaged",
            &[("path", shown(db)), ("detail", problems.join("; "))],
        ));
    }
    let store::Contents {
        schema_version,
        counts,
        photo_hashes: hashes,
    } = store::contents(&db_out).map_err(failed)?;

    let (bytes, sha256) = hash_file(&db_out).map_err(io_failed("cli.backup_failed", &db_out))?;
    let mut files = vec![Entry {
        path: DATABASE.into(),
        bytes,
        sha256,
    }];
    let mut missing = vec![];
    // Photo files are written (and synced) before the record that names them and are never
    // changed, so every photo the copy records is complete on disk now.
    let photos_in = photos::dir(db);
    for hash in &hashes {
        for suffix in PHOTO_FILES {
            let name = std::format!("{hash}{suffix}");
            let src = photos_in.join(&name);
            let dst = photos_out.join(&name);
            match copy_hashed(&src, &dst) {
                Ok((bytes, sha256)) => {
                    if suffix == ".orig" && sha256 != *hash {
                        eprintln!(
                            "{}",
                            t("cli.backup_photo_damaged", &[("file", shown(&src))])
                        );
                    }
                    files.push(Entry {
                        path: std::format!("{PHOTOS}/{name}"),
                        bytes,
                        sha256,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !src.exists() => {
                    eprintln!(
                        "{}",
                        t("cli.backup_photo_missing", &[("file", shown(&src))])
                    );
                    let _ = std::fs::remove_file(&dst);
                    missing.push(std::format!("{PHOTOS}/{name}"));
                }
                Err(e) => {
                    return Err(t(
                        "cli.backup_failed",
                        &[("detail", std::format!("{}: {e}", src.display()))],
                    ));
                }
            }
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: std::fs::canonicalize(db).map_or_else(|_| shown(db), |p| shown(&p)),
        schema_version,
        counts,
        files,
        missing,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    let manifest_path = part.join(MANIFEST);
    let write_manifest = || -> std::io::Result<()> {
        let mut f = File::create(&manifest_path)?;
        f.write_all(&text)?;
        f.sync_all()?;
        sync_dir(&photos_out)?;
        sync_dir(&part)?;
        std::fs::rename(&part, out)?;
        sync_dir(parent(out))
    };
    write_manifest().map_err(io_failed("cli.backup_failed", &part))?;
    let count = |table: &str| manifest.counts.get(table).copied().unwrap_or(0).to_string();
    Ok(t(
        "cli.backup_done",
        &[
            ("out", shown(out)),
            ("schema", schema_version.to_string()),
            ("fires", count("fire_points")),
            ("photos", count("photos")),
            ("files", (manifest.files.len() - 1).to_string()),
            ("manifest", hex::encode(Sha256::digest(&text))),
        ],
    ))
}

/// A manifest path names a file inside the backup: the database or a file in `photos/`.
fn safe_path(path: &str) -> bool {
    path == DATABASE
        || path.strip_prefix("photos/").is_some_and(|name| {
            !name.is_empty()
                && !name.starts_with('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        })
}

/// Reads the manifest and checks every file it lists against its size and checksum.
fn verified(from: &Path) -> Result<Manifest, String> {
    let path = from.join(MANIFEST);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(t("cli.restore_no_manifest", &[("dir", shown(from))]));
        }
        Err(e) => {
            return Err(t(
                "cli.restore_bad_manifest",
                &[("file", shown(&path)), ("detail", e.to_string())],
            ));
        }
    };
    let bad = |detail: String| {
        t(
            "cli.restore_bad_manifest",
            &[("file", shown(&path)), ("detail", detail)],
        )
    };
    let m: Manifest = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if m.format != FORMAT || m.format_version != FORMAT_VERSION {
        return Err(bad(std::format!(
            "format {} {}, expected {FORMAT} {FORMAT_VERSION}",
            m.format,
            m.format_version
        )));
    }
    if let Some(e) = m.files.iter().find(|e| !safe_path(&e.path)) {
        return Err(bad(std::format!("unexpected path {}", e.path)));
    }
    if !m.files.iter().any(|e| e.path == DATABASE) {
        return Err(bad(std::format!("{DATABASE} is not listed")));
    }
    for e in &m.files {
        let file = from.join(&e.path);
        match hash_file(&file) {
            Ok((bytes, sha256)) if bytes == e.bytes && sha256 == e.sha256 => {}
            Ok((_, sha256)) => return Err(mismatch(&file, e, sha256)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(t("cli.restore_file_missing", &[("file", shown(&file))]));
            }
            Err(err) => return Err(io_failed("cli.restore_failed", &file)(err)),
        }
    }
    let known = store::known_schema_version();
    if m.schema_version > known {
        return Err(t(
            "cli.restore_newer",
            &[
                ("found", m.schema_version.to_string()),
                ("known", known.to_string()),
            ],
        ));
    }
    Ok(m)
}

/// `PRAGMA integrity_check` on a database copy.
fn sound(db: &Path) -> Result<(), String> {
    let failed =
        |e: crate::store::StoreError| t("cli.restore_failed", &[("detail", e.to_string())]);
    let problems = store::problems(db).map_err(failed)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(t(
            "cli.restore_integrity",
            &[("detail", problems.join("; "))],
        ))
    }
}

fn count(m: &Manifest, table: &str) -> String {
    m.counts.get(table).copied().unwrap_or(0).to_string()
}

fn check(from: &Path) -> Result<String, String> {
    let m = verified(from)?;
    sound(&from.join(DATABASE))?;
    Ok(t(
        "cli.restore_checked",
        &[
            ("from", shown(from)),
            ("files", m.files.len().to_string()),
            ("schema", m.schema_version.to_string()),
            ("fires", count(&m, "fire_points")),
            ("photos", count(&m, "photos")),
        ],
    ))
}

fn failed_lock(db: &Path, e: std::io::Error) -> String {
    io_failed("cli.restore_failed", &crate::store::lock::path_of(db))(e)
}

fn restore(from: &Path, db: &Path, force: bool) -> Result<String, String> {
    // Everything is verified before anything is written.
    let m = verified(from)?;
    let present = |p: &Path| ["", "-wal"].iter().any(|ext| with_suffix(p, ext).exists());
    // Not even with --force: the server would go on with the old file's pages in memory.
    match crate::store::lock::held(db) {
        Ok(crate::store::lock::Held::ByServer) => {
            return Err(t("cli.restore_in_use", &[("path", shown(db))]));
        }
        Ok(crate::store::lock::Held::Free) => {}
        Err(e) => return Err(failed_lock(db, e)),
    }
    if present(db) && !force {
        return Err(t("cli.restore_exists", &[("path", shown(db))]));
    }
    let failed = |path: &Path, e: std::io::Error| io_failed("cli.restore_failed", path)(e);
    // A file changed between the check and the copy is caught by hashing what was copied.
    let copy = |e: &Entry, dst: &Path| -> Result<(), String> {
        let src = from.join(&e.path);
        let (bytes, sha256) = copy_hashed(&src, dst).map_err(|err| failed(&src, err))?;
        if bytes != e.bytes || sha256 != e.sha256 {
            let _ = std::fs::remove_file(dst);
            return Err(mismatch(&src, e, sha256));
        }
        Ok(())
    };
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    }
    let tmp = with_suffix(db, ".restoring");
    let database = m.files.iter().find(|e| e.path == DATABASE);
    if let Some(e) = database {
        copy(e, &tmp)?;
    }
    if let Err(e) = sound(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Photo files are named by content, so a name already there holds the same bytes; each is
    // still written to a temporary name and renamed, and the database comes last, so a restore
    // cut short never leaves a database that names a missing photo.
    let photos_dir = photos::dir(db);
    std::fs::create_dir_all(&photos_dir).map_err(|e| failed(&photos_dir, e))?;
    for e in m.files.iter().filter(|e| e.path != DATABASE) {
        let name = e.path.trim_start_matches("photos/");
        let dst = photos_dir.join(name);
        let part = photos_dir.join(std::format!("{name}.restoring"));
        copy(e, &part)?;
        std::fs::rename(&part, &dst).map_err(|err| failed(&dst, err))?;
    }
    sync_dir(&photos_dir).map_err(|e| failed(&photos_dir, e))?;
    let mut kept = None;
    if present(db) {
        // The old database moves aside with its WAL: a WAL left beside the restored file would
        // be replayed into it.
        let old = with_suffix(db, ".before-restore");
        for ext in ["", "-wal", "-shm"] {
            let to = with_suffix(&old, ext);
            let _ = std::fs::remove_file(&to);
            let from = with_suffix(db, ext);
            if from.exists() {
                std::fs::rename(&from, &to).map_err(|e| failed(&from, e))?;
            }
        }
        kept = Some(old);
    }
    std::fs::rename(&tmp, db).map_err(|e| failed(db, e))?;
    sync_dir(parent(db)).map_err(|e| failed(parent(db), e))?;
    let mut msg = t(
        "cli.restore_done",
        &[
            ("from", shown(from)),
            ("db", shown(db)),
            ("fires", count(&m, "fire_points")),
            ("photos", count(&m, "photos")),
        ],
    );
    if let Some(old) = kept {
        msg += "\n";
        msg += &t("cli.restore_kept_old", &[("path", shown(&old))]);
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside_the_backup() {
        assert!(safe_path("database.gpkg"));
        assert!(safe_path("photos/ab12.thumb.jpg"));
        for p in [
            "../x",
            "/etc/passwd",
            "photos/../database.gpkg",
            "photos/",
            "photos/a/b",
            "other.gpkg",
            "photos/..",
        ] {
            assert!(!safe_path(p), "{p}");
        }
    }
}
