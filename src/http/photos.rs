//! Photos of a fire or a dust violation: `POST /api/fires/{id}/photos` and
//! `POST /api/dust/issues/{id}/photos` (multipart, field `photo`, one or more; the second is
//! routed in `dust_issues.rs` through [`upload_for`]), `GET /api/photos/{id}` and
//! `/api/photos/{id}/thumb` (JPEG without EXIF). Whoever may see the subject may add and see its
//! photos.

use crate::http::routes::Routes;
use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::{Error, Kind};
use crate::service::fires::visible;
use crate::service::photos::{self, MAX_BYTES};
use crate::store::Tx;
use crate::store::fires::ts;
use crate::store::photos::{self as store, Subject};

/// The route's body limit: a few photos at once.
pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(4 * MAX_BYTES)
}

pub fn router() -> Routes {
    Routes::new()
        .post_limited("/api/fires/{id}/photos", upload, body_limit())
        .get("/api/photos/{id}", full)
        .get("/api/photos/{id}/thumb", thumb)
}

/// The subject's id if this user may see it (fires by id or code, violations by uuid or code).
fn visible_subject(
    tx: &dyn Tx,
    app: &App,
    actor: &Actor,
    subject: Subject,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, Error> {
    Ok(match subject {
        Subject::Fire => tx
            .fires()
            .get(id)?
            .filter(|f| visible(actor, f, now, &app.rules))
            .map(|f| f.id),
        Subject::DustIssue => {
            let layer = crate::service::dust_issues::layer(&app.registry)?;
            crate::service::dust_issues::find_visible(tx, layer, actor, id)?.map(|i| i.uuid)
        }
    })
}

/// The photo's JSON as listed on a fire, for this reader: owners are not told which patrol,
/// manager or district officer took it.
pub fn photo_json(p: &store::Photo, reader: &Actor) -> Value {
    let by = reader
        .sees_name_of(p.uploaded_role.as_deref())
        .then(|| p.uploaded_by.clone());
    json!({
        "id": p.id,
        "url": format!("/api/photos/{}", p.id),
        "thumb_url": format!("/api/photos/{}/thumb", p.id),
        "width": p.width,
        "height": p.height,
        "exif_time": p.exif_time,
        "exif_position": p.exif_lon.zip(p.exif_lat).map(|(x, y)| [x, y]),
        "uploaded_by": by,
        "uploaded_at": p.uploaded_at,
    })
}

async fn upload(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    upload_for(app, actor, Subject::Fire, id, form).await
}

/// Stores the photos of a multipart upload for a subject this user may see (else 404).
pub async fn upload_for(
    app: App,
    actor: Actor,
    subject: Subject,
    id: String,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let now = chrono::Utc::now();
    let (a, who) = (app.clone(), actor.clone());
    let subject_id = app
        .db
        .read(move |c| visible_subject(c, &a, &who, subject, &id, now))
        .await?
        .ok_or_else(|| {
            ApiError(Error::not_found(match subject {
                Subject::Fire => "fire",
                Subject::DustIssue => "dust_issue",
            }))
        })?;
    let mut files = vec![];
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError(Error::bad_request("photo_invalid").arg("detail", e.body_text())))?
    {
        if field.name() != Some("photo") {
            continue;
        }
        let bytes = field.bytes().await.map_err(|e| {
            let kind = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Kind::TooLarge
            } else {
                Kind::BadRequest
            };
            ApiError(
                Error::new(kind, "upload_too_large")
                    .arg("limit", format!("{} MiB", 4 * (MAX_BYTES >> 20))),
            )
        })?;
        files.push(bytes);
    }
    if files.is_empty() {
        return Err(ApiError(Error::invalid("photo_missing")));
    }
    let dir = store::dir(app.db.path());
    // Bounded: a few decodes at once, the rest queue a while, then 503.
    let slot = photos::decode_slot(&photos::DECODES, photos::DECODE_WAIT).await?;
    let saved = tokio::task::spawn_blocking(move || -> Result<Vec<photos::Processed>, Error> {
        let _slot = slot;
        let mut out = vec![];
        for bytes in files {
            let p = photos::process(&bytes)?;
            // Files first, synced: a record never points at a missing file.
            store::write_file(&dir.join(format!("{}.orig", p.sha256)), &bytes)?;
            store::write_file(&dir.join(format!("{}.jpg", p.sha256)), &p.full_jpeg)?;
            store::write_file(&dir.join(format!("{}.thumb.jpg", p.sha256)), &p.thumb_jpeg)?;
            out.push(p);
        }
        Ok(out)
    })
    .await
    .map_err(|e| {
        ApiError(Error::Store(crate::store::StoreError::Worker(
            e.to_string(),
        )))
    })??;
    let by = actor.clone();
    let records = app
        .db
        .write(move |tx| {
            saved
                .iter()
                .map(|p| {
                    let who = (by.username.as_str(), by.role.as_str());
                    tx.photos()
                        .insert(subject, &subject_id, &p.record(), who, &ts(now))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let photos: Vec<Value> = records.iter().map(|p| photo_json(p, &actor)).collect();
    Ok((StatusCode::CREATED, Json(json!({"photos": photos}))))
}

async fn serve(
    app: App,
    actor: Actor,
    id: i64,
    suffix: &'static str,
) -> Result<Response, ApiError> {
    let now = chrono::Utc::now();
    let a = app.clone();
    let photo = app
        .db
        .read(move |c| {
            let Some(p) = c.photos().get(id)? else {
                return Ok(None);
            };
            let ok = visible_subject(c, &a, &actor, p.subject, &p.fire, now)?.is_some();
            Ok::<_, Error>(ok.then_some(p))
        })
        .await?
        .ok_or_else(|| ApiError(Error::not_found("photo")))?;
    let path = store::dir(app.db.path()).join(format!("{}{suffix}", photo.sha256));
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        ApiError(Error::Store(crate::store::StoreError::Worker(format!(
            "{}: {e}",
            path.display()
        ))))
    })?;
    Response::builder()
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header(header::CACHE_CONTROL, "private, max-age=86400")
        .body(Body::from(bytes))
        .map_err(|e| {
            ApiError(Error::Store(crate::store::StoreError::Worker(
                e.to_string(),
            )))
        })
}

async fn full(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    serve(app, actor, id, ".jpg").await
}

async fn thumb(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    serve(app, actor, id, ".thumb.jpg").await
}
