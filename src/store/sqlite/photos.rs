//! Photo records in the `photos` table (the subject's id is in the column `fire`, because fires
//! came first; `(fire, sha256)` is the key).

use rusqlite::{OptionalExtension, params};

use super::{Result, SqliteTx};
use crate::store::photos::{NewPhoto, Photo, Photos, Subject};

const COLUMNS: &str = "id, subject, fire, sha256, width, height, exif_time, exif_lon, exif_lat, uploaded_by, uploaded_at, uploaded_role";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Photo> {
    Ok(Photo {
        id: r.get(0)?,
        subject: Subject::parse(&r.get::<_, String>(1)?),
        fire: r.get(2)?,
        sha256: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        exif_time: r.get(6)?,
        exif_lon: r.get(7)?,
        exif_lat: r.get(8)?,
        uploaded_by: r.get(9)?,
        uploaded_at: r.get(10)?,
        uploaded_role: r.get(11)?,
    })
}

impl Photos for SqliteTx<'_> {
    fn insert(
        &self,
        subject: Subject,
        id: &str,
        p: &NewPhoto,
        (by, role): (&str, &str),
        at: &str,
    ) -> Result<Photo> {
        self.conn.prepare_cached(
            "INSERT INTO photos(subject, fire, sha256, format, width, height, exif_time, exif_lon, exif_lat, uploaded_by, uploaded_at, uploaded_role)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(fire, sha256) DO NOTHING",
        )?
        .execute(params![subject.as_str(), id, p.sha256, p.format, p.width, p.height, p.exif_time, p.exif_lon, p.exif_lat, by, at, role])?;
        let sql = format!(
            "SELECT {COLUMNS} FROM photos WHERE subject = ?1 AND fire = ?2 AND sha256 = ?3"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![subject.as_str(), id, p.sha256], row)?)
    }

    fn for_subject(&self, subject: Subject, id: &str) -> Result<Vec<Photo>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM photos WHERE subject = ?1 AND fire = ?2 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![subject.as_str(), id], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn get(&self, id: i64) -> Result<Option<Photo>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM photos WHERE id = ?1"))?
            .query_row([id], row)
            .optional()?)
    }
}
