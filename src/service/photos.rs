//! Photos as evidence: type checked from the bytes, size and pixel limits against decompression
//! bombs, orientation from EXIF applied, EXIF time and GPS kept, and served copies re-encoded
//! (which strips every EXIF field, including the position).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::error::{Error, Kind, Result};

/// Largest upload accepted, per photo.
pub const MAX_BYTES: usize = 15 << 20;
/// Largest side and pixel count decoded.
pub const MAX_SIDE: u32 = 12_000;
pub const MAX_PIXELS: u64 = 60_000_000;
/// Long side of the served image and of the thumbnail.
pub const FULL_SIDE: u32 = 2048;
pub const THUMB_SIDE: u32 = 320;

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
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| bad(e.to_string()))?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(bad(format!("{w}×{h} pixels is more than {MAX_PIXELS}")));
    }
    let orientation = decoder.orientation().map_err(|e| bad(e.to_string()))?;
    let exif = decoder.exif_metadata().ok().flatten();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| bad(e.to_string()))?;
    img.apply_orientation(orientation);
    let (exif_time, exif_lon, exif_lat) = exif.map(read_exif).unwrap_or_default();
    Ok(Processed {
        sha256: Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
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
