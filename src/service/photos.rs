//! Photos as evidence: type checked from the bytes, size and pixel limits against decompression
//! bombs, orientation from EXIF applied, EXIF time and GPS kept, and served copies re-encoded
//! (which strips every EXIF field, including the position).

use std::io::Cursor;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::error::{Error, Kind, Result};
use crate::store::photos::NewPhoto;

/// Largest upload accepted, per photo.
pub const MAX_BYTES: usize = 15 << 20;
/// Largest side and pixel count decoded: 40 megapixels is more than any phone camera takes,
/// and costs at most 160 MB decoded (RGBA); a PNG of that many pixels can be a few hundred KB.
pub const MAX_SIDE: u32 = 12_000;
pub const MAX_PIXELS: u64 = 40_000_000;
/// Photos decoded at once, per core: each can hold [`MAX_PIXELS`] × 4 bytes.
pub const DECODES_PER_CORE: usize = 1;
/// How long an upload waits for a decoding slot before it is answered 503.
pub const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);
/// Long side of the served image and of the thumbnail.
pub const FULL_SIDE: u32 = 2048;
pub const THUMB_SIDE: u32 = 320;

/// The decoding slots shared by every upload: one per core (a decode is CPU-bound, so more at
/// once only adds memory, not speed).
pub static DECODES: LazyLock<Arc<tokio::sync::Semaphore>> =
    LazyLock::new(|| super::slots::per_core(DECODES_PER_CORE));

/// Waits up to `wait` for a decoding slot (see [`super::slots::acquire`]).
pub async fn decode_slot(
    gate: &Arc<tokio::sync::Semaphore>,
    wait: Duration,
) -> Result<tokio::sync::OwnedSemaphorePermit> {
    super::slots::acquire(gate, wait, "photo_busy").await
}

/// A checked photo, ready to store.
pub struct Processed {
    pub sha256: String,
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
    pub full_jpeg: Vec<u8>,
    pub thumb_jpeg: Vec<u8>,
    /// EXIF DateTimeOriginal as written by the camera (local time, no zone).
    pub exif_time: Option<String>,
    pub exif_lon: Option<f64>,
    pub exif_lat: Option<f64>,
}

impl Processed {
    /// What the store records of it.
    pub fn record(&self) -> NewPhoto<'_> {
        NewPhoto {
            sha256: &self.sha256,
            format: self.format,
            width: self.width,
            height: self.height,
            exif_time: self.exif_time.as_deref(),
            exif_lon: self.exif_lon,
            exif_lat: self.exif_lat,
        }
    }
}

fn bad(detail: impl Into<String>) -> Error {
    Error::invalid("photo_invalid").arg("detail", detail.into())
}

/// Checks and processes an uploaded photo.
pub fn process(bytes: &[u8]) -> Result<Processed> {
    if bytes.len() > MAX_BYTES {
        return Err(Error::new(Kind::TooLarge, "photo_too_large")
            .arg("limit", format!("{} MiB", MAX_BYTES >> 20)));
    }
    let format = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => "jpeg",
        Ok(ImageFormat::Png) => "png",
        Ok(ImageFormat::WebP) => "webp",
        _ => return Err(Error::invalid("photo_type")),
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA at the largest size, plus room for the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    reader.limits(limits);
    let too_many = |w: u32, h: u32| {
        Error::invalid("photo_too_many_pixels")
            .arg("width", w.to_string())
            .arg("height", h.to_string())
            .arg("max", (MAX_PIXELS / 1_000_000).to_string())
    };
    // The header alone gives the size: refuse before a single pixel is decoded.
    let (w, h) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?
        .into_dimensions()
        .map_err(|e| bad(e.to_string()))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w > MAX_SIDE || h > MAX_SIDE {
        return Err(too_many(w, h));
    }
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_many(w, h),
        e => bad(e.to_string()),
    })?;
    let orientation = decoder.orientation().map_err(|e| bad(e.to_string()))?;
    let exif = decoder.exif_metadata().ok().flatten();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_many(w, h),
        e => bad(e.to_string()),
    })?;
    img.apply_orientation(orientation);
    let (exif_time, exif_lon, exif_lat) = exif.map(read_exif).unwrap_or_default();
    Ok(Processed {
        sha256: hex::encode(Sha256::digest(bytes)),
        format,
        width: img.width(),
        height: img.height(),
        full_jpeg: jpeg(&img, FULL_SIDE)?,
        thumb_jpeg: jpeg(&img, THUMB_SIDE)?,
        exif_time,
        exif_lon,
        exif_lat,
    })
}

/// A JPEG no larger than `side` on its long edge; re-encoding writes no EXIF.
fn jpeg(img: &DynamicImage, side: u32) -> Result<Vec<u8>> {
    let small = if img.width() > side || img.height() > side {
        img.thumbnail(side, side)
    } else {
        img.clone()
    };
    let mut out = Cursor::new(vec![]);
    small
        .to_rgb8()
        .write_to(&mut out, ImageFormat::Jpeg)
        .map_err(|e| bad(e.to_string()))?;
    Ok(out.into_inner())
}

/// DateTimeOriginal and the GPS position from raw EXIF.
fn read_exif(raw: Vec<u8>) -> (Option<String>, Option<f64>, Option<f64>) {
    let Ok(exif) = exif::Reader::new().read_raw(raw) else {
        return (None, None, None);
    };
    let field = |tag| exif.get_field(tag, exif::In::PRIMARY);
    let time = field(exif::Tag::DateTimeOriginal).map(|f| f.display_value().to_string());
    let degrees = |tag, reference, negative: &str| -> Option<f64> {
        let exif::Value::Rational(parts) = &field(tag)?.value else {
            return None;
        };
        let [d, m, s] = parts.as_slice() else {
            return None;
        };
        let v = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let r = field(reference)
            .map(|f| f.display_value().to_string())
            .unwrap_or_default();
        Some(if r.contains(negative) { -v } else { v })
    };
    let lat = degrees(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S");
    let lon = degrees(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, "W");
    (
        time,
        lon.filter(|v| v.is_finite()),
        lat.filter(|v| v.is_finite()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `w`×`h` black pixels: tiny as a file (the rows compress to almost nothing),
    /// huge once decoded. Written row by row, so the test never holds the pixels either.
    pub fn bomb(w: u32, h: u32) -> Vec<u8> {
        use std::io::Write;
        let mut out = vec![];
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        let mut writer = enc.write_header().expect("header");
        let mut stream = writer.stream_writer().expect("stream");
        let row = vec![0u8; w as usize * 3];
        for _ in 0..h {
            stream.write_all(&row).expect("row");
        }
        stream.finish().expect("finish");
        writer.finish().expect("end");
        out
    }

    #[test]
    fn a_small_file_of_too_many_pixels_is_refused_from_its_header() {
        // Just over 40 megapixels, a few dozen KB as a file.
        let bytes = bomb(6400, 6400);
        assert!(bytes.len() < 300_000, "{} bytes", bytes.len());
        let e = process(&bytes).err().expect("refused");
        let Error::Problem(p) = e else {
            panic!("a problem, not {e:?}")
        };
        assert_eq!(
            (p.key, p.kind),
            ("photo_too_many_pixels", Kind::Unprocessable)
        );
        assert!(p.args.contains(&("max", "40".to_string())), "{:?}", p.args);
        assert!(p.args.contains(&("width", "6400".to_string())));
    }

    #[tokio::test]
    async fn decodes_beyond_the_slots_wait_then_are_told_to_retry() {
        let gate = Arc::new(tokio::sync::Semaphore::new(1));
        let wait = Duration::from_millis(20);
        let held = decode_slot(&gate, wait).await.expect("free slot");
        let Err(Error::Problem(p)) = decode_slot(&gate, wait).await else {
            panic!("no second slot")
        };
        assert_eq!((p.key, p.kind), ("photo_busy", Kind::Busy));
        assert!(p.args.contains(&("retry_after", "1".to_string())));
        drop(held);
        assert!(decode_slot(&gate, wait).await.is_ok(), "freed");
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Cursor::new(vec![]);
        img.write_to(&mut out, ImageFormat::Png).expect("png");
        out.into_inner()
    }

    #[test]
    fn a_photo_is_hashed_re_encoded_and_thumbnailed() {
        let p = process(&png(3000, 1000)).expect("ok");
        assert_eq!((p.format, p.width, p.height), ("png", 3000, 1000));
        assert_eq!(p.sha256.len(), 64);
        let full = image::load_from_memory(&p.full_jpeg).expect("jpeg");
        assert_eq!((full.width(), full.height()), (2048, 683));
        let thumb = image::load_from_memory(&p.thumb_jpeg).expect("jpeg");
        assert_eq!(thumb.width(), 320);
        assert_eq!(
            image::guess_format(&p.full_jpeg).ok(),
            Some(ImageFormat::Jpeg)
        );
    }

    /// A 40×20 JPEG taken with the camera turned (EXIF orientation 6) at 39.5°N 106.75°E.
    fn camera_jpeg() -> Vec<u8> {
        use exif::{Field, In, Rational, Tag, Value};
        use image::ImageEncoder;
        let mut w = exif::experimental::Writer::new();
        let r = |n: u32| Rational { num: n, denom: 1 };
        let fields = [
            Field {
                tag: Tag::Orientation,
                ifd_num: In::PRIMARY,
                value: Value::Short(vec![6]),
            },
            Field {
                tag: Tag::DateTimeOriginal,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"2026:11:20 10:30:00".to_vec()]),
            },
            Field {
                tag: Tag::GPSLatitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"N".to_vec()]),
            },
            Field {
                tag: Tag::GPSLatitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(39), r(30), r(0)]),
            },
            Field {
                tag: Tag::GPSLongitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"E".to_vec()]),
            },
            Field {
                tag: Tag::GPSLongitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(106), r(45), r(0)]),
            },
        ];
        for f in &fields {
            w.push_field(f);
        }
        let mut tiff = Cursor::new(vec![]);
        w.write(&mut tiff, false).expect("exif");
        let img = image::RgbImage::new(40, 20);
        let mut out = vec![];
        let mut enc = image::codecs::jpeg::JpegEncoder::new(&mut out);
        enc.set_exif_metadata(tiff.into_inner())
            .expect("exif accepted");
        enc.write_image(img.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
            .expect("jpeg");
        out
    }

    #[test]
    fn exif_orientation_is_applied_its_time_and_position_kept_and_the_served_copy_stripped() {
        let bytes = camera_jpeg();
        let p = process(&bytes).expect("ok");
        assert_eq!((p.width, p.height), (20, 40), "turned upright");
        assert_eq!(p.exif_time.as_deref(), Some("2026-11-20 10:30:00"));
        assert!((p.exif_lat.expect("lat") - 39.5).abs() < 1e-9);
        assert!((p.exif_lon.expect("lon") - 106.75).abs() < 1e-9);
        let mut served = ImageReader::new(Cursor::new(&p.full_jpeg))
            .with_guessed_format()
            .expect("fmt")
            .into_decoder()
            .expect("dec");
        assert_eq!(
            served.exif_metadata().expect("read"),
            None,
            "no EXIF in what is served"
        );
    }

    #[test]
    fn not_an_image_or_too_many_pixels_is_refused() {
        assert!(
            matches!(process(b"GIF89a not really"), Err(Error::Problem(p)) if p.key == "photo_type")
        );
        assert!(matches!(process(b"%PDF-1.4"), Err(Error::Problem(p)) if p.key == "photo_type"));
        // A PNG header claiming 20000×20000 is refused before any pixel is decoded.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        assert!(matches!(process(&bomb), Err(Error::Problem(p)) if p.key == "photo_invalid"));
        assert!(
            matches!(process(&vec![0u8; MAX_BYTES + 1]), Err(Error::Problem(p)) if p.key == "photo_too_large")
        );
    }
}
