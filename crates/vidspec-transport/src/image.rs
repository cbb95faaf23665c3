//! Reading an image's format and pixel size from the first bytes of its file,
//! and judging them against a spec's `ImageConstraints`; reading local image
//! files.
//!
//! Owns the header parsers (PNG `IHDR`, JPEG frame headers, WebP `VP8 ` /
//! `VP8L` / `VP8X`, GIF logical screen; BMP and TIFF through the `imagesize`
//! crate, whose JPEG reader skips no fill bytes and runs past a scan, so the
//! four older readers stay), the human messages for broken
//! constraints, and the one way a local image file is read (by the pre-flight,
//! the upload, and the CLI's double-spend key): a regular file only, never
//! more than the gateway's upload limit, through `vidspec_core::load`'s
//! bounded reader. The parsers do no I/O (the caller fetches the bytes of a
//! remote image, see `preflight`), decode no pixels, and never panic: any
//! input, truncated or garbage, is answered with a `ProbeError`.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use vidspec_core::load::{FileReadError, open_regular_file, read_regular_file};
use vidspec_core::media_formats::MediaKind;
use vidspec_core::spec::ImageConstraints;

/// The gateway's upload limit: `POST /v1/uploads/images` refuses a file of
/// more than 20,971,520 bytes (413). A larger local image is refused before
/// it is read.
pub const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;

/// Why a local image file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalImageError {
    /// Missing, unreadable, or not a regular file (a directory, a FIFO,
    /// `/dev/zero`); the source says which.
    #[error("cannot read the image")]
    Unreadable(#[source] FileReadError),
    /// Larger than the gateway accepts.
    #[error(
        "the image is larger than the gateway's upload limit of {MAX_UPLOAD_BYTES} bytes \
         (20 MiB); compress or shrink it"
    )]
    TooLarge,
    /// The blocking read was cancelled or panicked.
    #[error("reading the image stopped unexpectedly; try again")]
    Stopped,
}

impl From<FileReadError> for LocalImageError {
    fn from(error: FileReadError) -> Self {
        match error {
            FileReadError::TooLarge { .. } => LocalImageError::TooLarge,
            other => LocalImageError::Unreadable(other),
        }
    }
}

/// Reads a whole local image (for the upload, or to digest it): a regular
/// file of at most `MAX_UPLOAD_BYTES`, refused before any byte is read when
/// it reports more, and cut at the limit whatever it reports.
pub fn read_local_image(path: &Path) -> Result<Vec<u8>, LocalImageError> {
    Ok(read_regular_file(path, MAX_UPLOAD_BYTES)?)
}

/// The first `head` bytes of a local image, and its size as the file system
/// reports it; a file that is not regular, or reports more than
/// `MAX_UPLOAD_BYTES`, is refused before any byte is read.
pub fn read_local_image_head(path: &Path, head: u64) -> Result<(Vec<u8>, u64), LocalImageError> {
    let (file, size) = open_regular_file(path)?;
    if size > MAX_UPLOAD_BYTES {
        return Err(LocalImageError::TooLarge);
    }
    let mut bytes = Vec::new();
    file.take(head)
        .read_to_end(&mut bytes)
        .map_err(|error| LocalImageError::Unreadable(FileReadError::Read(error)))?;
    Ok((bytes, size))
}

/// [`read_local_image`] on tokio's blocking pool.
pub async fn load_local_image(path: &Path) -> Result<Vec<u8>, LocalImageError> {
    let path: PathBuf = path.to_owned();
    tokio::task::spawn_blocking(move || read_local_image(&path))
        .await
        .unwrap_or(Err(LocalImageError::Stopped))
}

/// [`read_local_image_head`] on tokio's blocking pool.
pub async fn load_local_image_head(
    path: &Path,
    head: u64,
) -> Result<(Vec<u8>, u64), LocalImageError> {
    let path: PathBuf = path.to_owned();
    tokio::task::spawn_blocking(move || read_local_image_head(&path, head))
        .await
        .unwrap_or(Err(LocalImageError::Stopped))
}

/// An image format pre-flight reads, known by its magic bytes: one per name
/// of `vidspec_core::media_formats::IMAGE` (a test proves each is sniffed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG (`\x89PNG\r\n\x1a\n`).
    Png,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// WebP (`RIFF….WEBP`).
    Webp,
    /// GIF (`GIF87a` / `GIF89a`).
    Gif,
    /// BMP (`BM`, then a known DIB header size).
    Bmp,
    /// TIFF (`II*\0` little-endian, `MM\0*` big-endian).
    Tiff,
}

impl ImageFormat {
    /// Every format, in the order of `media_formats::IMAGE`.
    pub const ALL: [ImageFormat; 6] = [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Webp,
        ImageFormat::Gif,
        ImageFormat::Bmp,
        ImageFormat::Tiff,
    ];

    /// The canonical name a spec's `ImageConstraints::formats` uses (`png`,
    /// `jpeg`, `webp`, `gif`, `bmp`, `tiff`; see `media_formats::IMAGE`).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
            ImageFormat::Bmp => "bmp",
            ImageFormat::Tiff => "tiff",
        }
    }

    /// The format a spec spells `name` (case-insensitive; the aliases of
    /// `media_formats::IMAGE`, such as `jpg`, included).
    pub fn from_name(name: &str) -> Option<ImageFormat> {
        let canonical = MediaKind::Image.canonical(name)?;
        ImageFormat::ALL
            .into_iter()
            .find(|format| format.name() == canonical)
    }

    /// The format of `bytes` by magic bytes alone, if pre-flight reads it.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(PNG_SIGNATURE) {
            Some(ImageFormat::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else if bytes.starts_with(b"BM") {
            Some(ImageFormat::Bmp)
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(ImageFormat::Tiff)
        } else {
            None
        }
    }
}

/// Upper-case name for messages (`PNG`, `JPEG`, `WebP`, `GIF`).
impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Webp => "WebP",
            ImageFormat::Gif => "GIF",
            ImageFormat::Bmp => "BMP",
            ImageFormat::Tiff => "TIFF",
        })
    }
}

/// What the header says about an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// Format, by magic bytes.
    pub format: ImageFormat,
    /// Width in pixels (never 0).
    pub width: u32,
    /// Height in pixels (never 0).
    pub height: u32,
}

/// Why the format or size of an image could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// No bytes at all.
    #[error("the image is empty (0 bytes); point at a PNG, JPEG, WebP, GIF, BMP or TIFF file")]
    Empty,
    /// The magic bytes are none of the formats pre-flight reads.
    #[error(
        "not a PNG, JPEG, WebP, GIF, BMP or TIFF image (it starts with {start}); convert it to one of those"
    )]
    UnknownFormat {
        /// The first bytes, in hex.
        start: String,
    },
    /// The bytes end before the header says the size.
    #[error("the {format} header is cut short ({what}); the file may be truncated")]
    Truncated {
        /// The format.
        format: ImageFormat,
        /// What was missing.
        what: &'static str,
    },
    /// The header is not what the format prescribes.
    #[error("the {format} header is malformed: {reason}; re-save the image with a standard tool")]
    Malformed {
        /// The format.
        format: ImageFormat,
        /// What is wrong.
        reason: String,
    },
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Reads the format (magic bytes) and pixel size (header) of an image.
///
/// Only the first bytes are needed: a PNG's first 24, a GIF's first 10, a
/// WebP's first 30, a JPEG's up to its frame header (after any EXIF/ICC
/// segments, usually well inside the first 64 KiB).
pub fn probe(bytes: &[u8]) -> Result<ImageInfo, ProbeError> {
    if bytes.is_empty() {
        return Err(ProbeError::Empty);
    }
    let (width, height, format) = match ImageFormat::sniff(bytes) {
        Some(ImageFormat::Png) => png(bytes).map(|(w, h)| (w, h, ImageFormat::Png))?,
        Some(ImageFormat::Jpeg) => jpeg(bytes).map(|(w, h)| (w, h, ImageFormat::Jpeg))?,
        Some(ImageFormat::Webp) => webp(bytes).map(|(w, h)| (w, h, ImageFormat::Webp))?,
        Some(ImageFormat::Gif) => gif(bytes).map(|(w, h)| (w, h, ImageFormat::Gif))?,
        Some(ImageFormat::Bmp) => bmp(bytes).map(|(w, h)| (w, h, ImageFormat::Bmp))?,
        Some(ImageFormat::Tiff) => tiff(bytes).map(|(w, h)| (w, h, ImageFormat::Tiff))?,
        None => {
            return Err(ProbeError::UnknownFormat {
                start: hex_start(bytes),
            });
        }
    };
    if width == 0 || height == 0 {
        return Err(ProbeError::Malformed {
            format,
            reason: format!("it declares a size of {width}×{height} pixels"),
        });
    }
    Ok(ImageInfo {
        format,
        width,
        height,
    })
}

/// The first eight bytes in hex (`25 50 44 46 …`), for "not a … file" messages
/// about images, videos and audio alike.
pub(crate) fn hex_start(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn slice(bytes: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    bytes.get(at..at.checked_add(len)?)
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    slice(bytes, at, 2).map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
}

fn le16(bytes: &[u8], at: usize) -> Option<u32> {
    slice(bytes, at, 2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    slice(bytes, at, 3).map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    slice(bytes, at, 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    slice(bytes, at, 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn truncated(format: ImageFormat, what: &'static str) -> ProbeError {
    ProbeError::Truncated { format, what }
}

fn malformed(format: ImageFormat, reason: impl Into<String>) -> ProbeError {
    ProbeError::Malformed {
        format,
        reason: reason.into(),
    }
}

/// PNG: signature, then the `IHDR` chunk (length, type, width, height; big-endian).
fn png(bytes: &[u8]) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Png;
    let chunk_type = slice(bytes, 12, 4).ok_or_else(|| truncated(format, "no IHDR chunk"))?;
    if chunk_type != b"IHDR" {
        return Err(malformed(format, "the first chunk is not IHDR"));
    }
    let width = be32(bytes, 16).ok_or_else(|| truncated(format, "no width in IHDR"))?;
    let height = be32(bytes, 20).ok_or_else(|| truncated(format, "no height in IHDR"))?;
    if width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(malformed(format, "IHDR declares a size above 2^31 - 1"));
    }
    Ok((width, height))
}

/// GIF: signature, then the logical screen width and height (little-endian).
fn gif(bytes: &[u8]) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Gif;
    let width = le16(bytes, 6).ok_or_else(|| truncated(format, "no logical screen width"))?;
    let height = le16(bytes, 8).ok_or_else(|| truncated(format, "no logical screen height"))?;
    Ok((width, height))
}

/// The DIB header sizes of the BMP versions (OS/2 1.x core, Windows 3.x
/// info, the v2–v5 and OS/2 2.x headers): a file that starts with `BM` but
/// has none of them is not a BMP.
const BMP_DIB_SIZES: [u32; 7] = [12, 40, 52, 56, 64, 108, 124];

/// BMP: `BM`, the DIB header size at byte 14, then the size read by
/// `imagesize` (a 12-byte OS/2 core header holds 16-bit sizes, which it does
/// not know, so those are read here). A negative height (a top-down bitmap)
/// is its magnitude.
fn bmp(bytes: &[u8]) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Bmp;
    let dib = le32(bytes, 14).ok_or_else(|| truncated(format, "no DIB header size"))?;
    if !BMP_DIB_SIZES.contains(&dib) {
        return Err(malformed(
            format,
            format!("the DIB header size {dib} is none of a BMP's"),
        ));
    }
    if dib == 12 {
        let width = le16(bytes, 18).ok_or_else(|| truncated(format, "no width"))?;
        let height = le16(bytes, 20).ok_or_else(|| truncated(format, "no height"))?;
        return Ok((width, height));
    }
    let (width, height) = sized_by_imagesize(bytes, format)?;
    // imagesize reads the signed 32-bit fields as unsigned.
    let signed = |value: u32| (value as i32).unsigned_abs();
    Ok((signed(width), signed(height)))
}

/// TIFF: the size from the first image file directory, read by `imagesize`
/// (the directory may sit anywhere in the file; a head that ends before it
/// is `Truncated`).
fn tiff(bytes: &[u8]) -> Result<(u32, u32), ProbeError> {
    sized_by_imagesize(bytes, ImageFormat::Tiff)
}

fn sized_by_imagesize(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), ProbeError> {
    match imagesize::blob_size(bytes) {
        Ok(size) => {
            let side = |value: usize| {
                u32::try_from(value)
                    .map_err(|_| malformed(format, format!("it declares a side of {value} pixels")))
            };
            Ok((side(size.width)?, side(size.height)?))
        }
        Err(imagesize::ImageError::IoError(error))
            if error.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            Err(truncated(format, "the header ends early"))
        }
        Err(error) => Err(malformed(format, error.to_string())),
    }
}

/// WebP: `RIFF <size> WEBP`, then the first chunk: `VP8 ` (lossy key frame),
/// `VP8L` (lossless) or `VP8X` (extended, canvas size).
fn webp(bytes: &[u8]) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Webp;
    let fourcc = slice(bytes, 12, 4).ok_or_else(|| truncated(format, "no first chunk"))?;
    const DATA: usize = 20; // after the chunk's fourcc and 32-bit size
    match fourcc {
        b"VP8 " => {
            let tag = slice(bytes, DATA, 3).ok_or_else(|| truncated(format, "no VP8 frame tag"))?;
            if tag[0] & 1 != 0 {
                return Err(malformed(format, "the VP8 frame is not a key frame"));
            }
            let start =
                slice(bytes, DATA + 3, 3).ok_or_else(|| truncated(format, "no VP8 start code"))?;
            if start != [0x9D, 0x01, 0x2A] {
                return Err(malformed(format, "the VP8 start code is wrong"));
            }
            let width = le16(bytes, DATA + 6).ok_or_else(|| truncated(format, "no VP8 width"))?;
            let height = le16(bytes, DATA + 8).ok_or_else(|| truncated(format, "no VP8 height"))?;
            Ok((width & 0x3FFF, height & 0x3FFF))
        }
        b"VP8L" => {
            let signature = *bytes
                .get(DATA)
                .ok_or_else(|| truncated(format, "no VP8L signature"))?;
            if signature != 0x2F {
                return Err(malformed(format, "the VP8L signature byte is not 0x2f"));
            }
            let bits = le32(bytes, DATA + 1).ok_or_else(|| truncated(format, "no VP8L size"))?;
            Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => {
            let width =
                le24(bytes, DATA + 4).ok_or_else(|| truncated(format, "no VP8X canvas width"))?;
            let height =
                le24(bytes, DATA + 7).ok_or_else(|| truncated(format, "no VP8X canvas height"))?;
            Ok((width + 1, height + 1))
        }
        other => Err(malformed(
            format,
            format!(
                "the first chunk is {:?}, not VP8, VP8L or VP8X",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// JPEG: walks the marker segments after SOI to the first frame header
/// (SOF0–SOF15 except DHT `C4`, JPG `C8` and DAC `CC`), skipping fill bytes;
/// reaching scan data (SOS) or the end (EOI) first is an error.
fn jpeg(bytes: &[u8]) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Jpeg;
    let mut at = 2; // after SOI (FF D8)
    loop {
        match bytes.get(at) {
            None => return Err(truncated(format, "no frame header before the data ends")),
            Some(0xFF) => {}
            Some(_) => {
                return Err(malformed(
                    format,
                    format!("expected a marker at byte {at}, found other data"),
                ));
            }
        }
        // One or more 0xFF: the last one starts the marker, the others are fill.
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return Err(truncated(format, "no frame header before the data ends"));
        };
        at += 1;
        match marker {
            // Markers without a length: TEM, RSTn, a repeated SOI.
            0x01 | 0xD0..=0xD8 => continue,
            0x00 => {
                return Err(malformed(
                    format,
                    format!("a stuffed FF 00 before the frame header (byte {})", at - 2),
                ));
            }
            0xD9 => {
                return Err(malformed(
                    format,
                    "the image ends (EOI) before any frame header",
                ));
            }
            0xDA => {
                return Err(malformed(
                    format,
                    "scan data (SOS) starts before any frame header",
                ));
            }
            _ => {}
        }
        let length = be16(bytes, at).ok_or_else(|| truncated(format, "a segment length"))?;
        if length < 2 {
            return Err(malformed(
                format,
                format!("segment FF {marker:02X} has length {length}"),
            ));
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            if length < 8 {
                return Err(malformed(
                    format,
                    format!("frame header FF {marker:02X} has length {length}"),
                ));
            }
            // length (2), precision (1), height (2), width (2)
            let height = be16(bytes, at + 3).ok_or_else(|| truncated(format, "no frame height"))?;
            let width = be16(bytes, at + 5).ok_or_else(|| truncated(format, "no frame width"))?;
            if height == 0 {
                return Err(malformed(
                    format,
                    "the frame height is 0 (defined later by a DNL marker), which is not supported",
                ));
            }
            return Ok((width, height));
        }
        at += length as usize;
    }
}

/// A `W:H` ratio from a spec (`1:4`, `16:9`, `2.35:1`), as (W, H).
pub(crate) fn parse_ratio(text: &str) -> Option<(f64, f64)> {
    let (w, h) = text.split_once(':')?;
    let w: f64 = w.trim().parse().ok()?;
    let h: f64 = h.trim().parse().ok()?;
    (w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0).then_some((w, h))
}

pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A byte count for people: `12582912 bytes (12.0 MiB)`.
pub(crate) fn show_bytes(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{bytes} bytes ({:.1} MiB)", bytes as f64 / MIB)
    } else if bytes >= 1024 {
        format!("{bytes} bytes ({:.1} KiB)", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// Every constraint `info` (and the file size `bytes_len`, when known) breaks,
/// as messages for people; empty when the image fits.
///
/// Checks the format (`jpg` in the spec means JPEG), the minimum width and
/// height, the aspect ratio range (`W:H` strings; a ratio the spec spells
/// wrongly is reported rather than skipped) and `max_bytes`. An unknown
/// `bytes_len` is not a broken constraint: the caller reports it.
pub fn check(
    info: &ImageInfo,
    bytes_len: Option<u64>,
    constraints: &ImageConstraints,
) -> Vec<String> {
    let mut messages = Vec::new();
    let (width, height) = (u64::from(info.width), u64::from(info.height));
    if !constraints.formats.is_empty()
        && !constraints
            .formats
            .iter()
            .any(|name| ImageFormat::from_name(name) == Some(info.format))
    {
        messages.push(format!(
            "the image is a {}, but only {} are accepted; convert it",
            info.format,
            constraints.formats.join(", ")
        ));
    }
    let min_width = constraints.min_width.unwrap_or(0);
    let min_height = constraints.min_height.unwrap_or(0);
    if width < min_width || height < min_height {
        let minimum = match (constraints.min_width, constraints.min_height) {
            (Some(w), Some(h)) => format!("{w}×{h}"),
            (Some(w), None) => format!("{w} pixels wide"),
            (None, Some(h)) => format!("{h} pixels high"),
            (None, None) => String::new(),
        };
        messages.push(format!(
            "the image is {width}×{height} pixels, smaller than the minimum {minimum}; use a larger image"
        ));
    }
    let divisor = gcd(width, height).max(1);
    let shown = format!("{}:{}", width / divisor, height / divisor);
    // width/height < a/b  ⇔  width·b < a·height (all positive)
    let ratio = width as f64 / height as f64;
    for (bound, is_min) in [
        (&constraints.min_aspect, true),
        (&constraints.max_aspect, false),
    ] {
        let Some(text) = bound else { continue };
        let Some((a, b)) = parse_ratio(text) else {
            messages.push(format!(
                "the spec's {} {text:?} is not a W:H ratio, so the aspect ratio could not be checked (report it)",
                if is_min { "min_aspect" } else { "max_aspect" }
            ));
            continue;
        };
        let (lhs, rhs) = (width as f64 * b, a * height as f64);
        if is_min && lhs < rhs {
            messages.push(format!(
                "the image's aspect ratio is {shown} ({ratio:.3}), taller than the narrowest allowed {text}; crop or pad it"
            ));
        } else if !is_min && lhs > rhs {
            messages.push(format!(
                "the image's aspect ratio is {shown} ({ratio:.3}), wider than the widest allowed {text}; crop or pad it"
            ));
        }
    }
    if let (Some(max), Some(len)) = (constraints.max_bytes, bytes_len)
        && len > max
    {
        messages.push(format!(
            "the image is {}, larger than the maximum {}; compress or shrink it",
            show_bytes(len),
            show_bytes(max)
        ));
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = PNG_SIGNATURE.to_vec();
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]); // depth, colour, …, CRC
        bytes
    }

    fn gif_header(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = b"GIF89a".to_vec();
        bytes.extend_from_slice(&width.to_le_bytes());
        bytes.extend_from_slice(&height.to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0]);
        bytes
    }

    fn riff(chunk: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&((4 + 8 + data.len()) as u32).to_le_bytes());
        bytes.extend_from_slice(b"WEBP");
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    fn webp_lossy(width: u16, height: u16) -> Vec<u8> {
        let mut data = vec![0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]; // key frame tag, start code
        // the top two bits are the scale, to be masked away
        data.extend_from_slice(&(width | 0x4000).to_le_bytes());
        data.extend_from_slice(&(height | 0x8000).to_le_bytes());
        riff(b"VP8 ", &data)
    }

    fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
        let bits = (width - 1) | ((height - 1) << 14) | (1 << 28);
        let mut data = vec![0x2F];
        data.extend_from_slice(&bits.to_le_bytes());
        riff(b"VP8L", &data)
    }

    fn webp_extended(width: u32, height: u32) -> Vec<u8> {
        let mut data = vec![0x10, 0, 0, 0];
        data.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        data.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
        riff(b"VP8X", &data)
    }

    fn jpeg_with(segments_before: &[u8], sof: u8, width: u16, height: u16) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend_from_slice(segments_before);
        bytes.extend_from_slice(&[0xFF, sof, 0x00, 0x11, 0x08]);
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        bytes
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let app0 = [
            0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        ];
        jpeg_with(&app0, 0xC0, width, height)
    }

    pub(crate) fn bmp_header(width: i32, height: i32) -> Vec<u8> {
        let mut bytes = b"BM".to_vec();
        bytes.extend_from_slice(&[0; 8]); // file size, reserved
        bytes.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
        bytes.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
        bytes.extend_from_slice(&width.to_le_bytes());
        bytes.extend_from_slice(&height.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes()); // planes
        bytes.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
        bytes.extend_from_slice(&[0; 24]);
        bytes
    }

    fn tiff_header(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = b"II*\0".to_vec();
        bytes.extend_from_slice(&8u32.to_le_bytes()); // first directory
        bytes.extend_from_slice(&2u16.to_le_bytes()); // two entries
        for (tag, value) in [(256u16, width), (257u16, height)] {
            bytes.extend_from_slice(&tag.to_le_bytes());
            bytes.extend_from_slice(&3u16.to_le_bytes()); // SHORT
            bytes.extend_from_slice(&1u32.to_le_bytes());
            bytes.extend_from_slice(&value.to_le_bytes());
            bytes.extend_from_slice(&[0, 0]);
        }
        bytes.extend_from_slice(&0u32.to_le_bytes()); // no next directory
        bytes
    }

    fn info(format: ImageFormat, width: u32, height: u32) -> ImageInfo {
        ImageInfo {
            format,
            width,
            height,
        }
    }

    #[test]
    fn png_size_comes_from_ihdr() {
        assert_eq!(
            probe(&png_header(640, 480)),
            Ok(info(ImageFormat::Png, 640, 480))
        );
    }

    #[test]
    fn bmp_size_comes_from_the_info_header_and_a_top_down_height_is_its_magnitude() {
        assert_eq!(
            probe(&bmp_header(640, 480)),
            Ok(info(ImageFormat::Bmp, 640, 480))
        );
        assert_eq!(
            probe(&bmp_header(640, -480)),
            Ok(info(ImageFormat::Bmp, 640, 480))
        );
    }

    #[test]
    fn a_file_starting_with_bm_without_a_bmp_header_is_malformed() {
        assert!(matches!(
            probe(b"BMW owners manual, chapter one"),
            Err(ProbeError::Malformed {
                format: ImageFormat::Bmp,
                ..
            })
        ));
    }

    #[test]
    fn tiff_size_comes_from_the_first_directory() {
        assert_eq!(
            probe(&tiff_header(300, 200)),
            Ok(info(ImageFormat::Tiff, 300, 200))
        );
    }

    /// One header per format of `media_formats::IMAGE`: lint accepts exactly
    /// these names, so each must be sniffed and sized.
    #[test]
    fn every_image_format_lint_accepts_is_sniffed_and_sized() {
        let headers = [
            png_header(64, 48),
            jpeg(64, 48),
            webp_lossy(64, 48),
            gif_header(64, 48),
            bmp_header(64, 48),
            tiff_header(64, 48),
        ];
        let probed: Vec<&str> = headers
            .iter()
            .map(|header| probe(header).expect("the header reads").format.name())
            .collect();
        let listed: Vec<&str> = MediaKind::Image.names();
        assert_eq!(probed, listed);
        for format in vidspec_core::media_formats::IMAGE {
            for spelling in std::iter::once(&format.name).chain(format.aliases) {
                assert_eq!(
                    ImageFormat::from_name(spelling).map(ImageFormat::name),
                    Some(format.name)
                );
            }
        }
    }

    #[test]
    fn gif_size_comes_from_the_logical_screen() {
        assert_eq!(
            probe(&gif_header(300, 200)),
            Ok(info(ImageFormat::Gif, 300, 200))
        );
    }

    #[test]
    fn webp_sizes_come_from_each_chunk_kind() {
        assert_eq!(
            probe(&webp_lossy(1024, 768)),
            Ok(info(ImageFormat::Webp, 1024, 768))
        );
        assert_eq!(
            probe(&webp_lossless(16383, 1)),
            Ok(info(ImageFormat::Webp, 16383, 1))
        );
        assert_eq!(
            probe(&webp_lossless(333, 4444)),
            Ok(info(ImageFormat::Webp, 333, 4444))
        );
        assert_eq!(
            probe(&webp_extended(20000, 3)),
            Ok(info(ImageFormat::Webp, 20000, 3))
        );
    }

    #[test]
    fn a_webp_with_a_wrong_start_code_or_chunk_is_malformed() {
        let mut bad = webp_lossy(10, 10);
        bad[23] = 0;
        assert!(matches!(probe(&bad), Err(ProbeError::Malformed { .. })));
        let odd = riff(b"ALPH", &[0; 10]);
        assert!(matches!(probe(&odd), Err(ProbeError::Malformed { .. })));
    }

    #[test]
    fn jpeg_size_comes_from_the_first_frame_header() {
        assert_eq!(
            probe(&jpeg(1920, 1080)),
            Ok(info(ImageFormat::Jpeg, 1920, 1080))
        );
        // progressive (SOF2)
        assert_eq!(
            probe(&jpeg_with(&[], 0xC2, 7, 9)),
            Ok(info(ImageFormat::Jpeg, 7, 9))
        );
    }

    #[test]
    fn jpeg_tables_before_the_frame_and_fill_bytes_are_skipped() {
        // DHT (C4), DAC (CC) and JPG (C8) look like SOF markers but are not;
        // fill bytes (extra 0xFF) may precede any marker.
        let mut before = Vec::new();
        before.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x06, 0x10, 0x20, 0x30, 0x40]);
        before.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xCC, 0x00, 0x04, 0x01, 0x02]);
        before.extend_from_slice(&[0xFF, 0xC8, 0x00, 0x02]);
        before.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x03, 0x00]);
        before.extend_from_slice(&[0xFF, 0xFF]); // fill before the SOF's own FF
        assert_eq!(
            probe(&jpeg_with(&before, 0xC1, 50, 60)),
            Ok(info(ImageFormat::Jpeg, 50, 60))
        );
    }

    #[test]
    fn a_jpeg_whose_scan_starts_before_a_frame_is_malformed() {
        let bytes = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34];
        match probe(&bytes) {
            Err(ProbeError::Malformed { reason, .. }) => {
                assert!(reason.contains("SOS"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let eoi = [0xFF, 0xD8, 0xFF, 0xD9];
        assert!(matches!(probe(&eoi), Err(ProbeError::Malformed { .. })));
        let zero_length = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00];
        assert!(matches!(
            probe(&zero_length),
            Err(ProbeError::Malformed { .. })
        ));
    }

    #[test]
    fn every_truncation_of_a_header_is_an_error_not_a_panic() {
        let headers = [
            png_header(64, 64),
            gif_header(64, 64),
            webp_lossy(64, 64),
            webp_lossless(64, 64),
            webp_extended(64, 64),
            jpeg(64, 64),
            bmp_header(64, 64),
        ];
        // imagesize words a cut TIFF directory as corrupt: an error all the same.
        let tiff = tiff_header(64, 64);
        let needed = (0..=tiff.len())
            .find(|&len| probe(&tiff[..len]).is_ok())
            .expect("some prefix reads");
        for len in 0..needed {
            assert!(probe(&tiff[..len]).is_err(), "TIFF cut at {len}");
        }
        for header in &headers {
            let full = probe(header).expect("the full header reads");
            // the shortest prefix that still reads is the header proper
            let needed = (0..=header.len())
                .find(|&len| probe(&header[..len]).is_ok())
                .expect("some prefix reads");
            for len in 0..needed {
                let error = probe(&header[..len]).expect_err("a cut header is an error");
                if len >= 12 {
                    assert!(
                        matches!(error, ProbeError::Truncated { .. }),
                        "{:?} cut at {len}: {error:?}",
                        full.format
                    );
                }
            }
        }
    }

    #[test]
    fn zero_sizes_and_unknown_formats_are_errors() {
        assert!(matches!(
            probe(&png_header(0, 10)),
            Err(ProbeError::Malformed { .. })
        ));
        assert_eq!(probe(b""), Err(ProbeError::Empty));
        let error = probe(b"%PDF-1.7 ...").expect_err("not an image");
        assert!(error.to_string().contains("25 50 44 46"), "{error}");
    }

    /// `max_len` bytes at most, random length and content.
    fn random_bytes(rng: &mut fastrand::Rng, max_len: usize) -> Vec<u8> {
        let len = rng.usize(..=max_len);
        (0..len).map(|_| rng.u8(..)).collect()
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
        let prefixes: [&[u8]; 11] = [
            b"BM",
            b"BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0",
            b"II*\0",
            b"",
            PNG_SIGNATURE,
            &[0xFF, 0xD8, 0xFF],
            b"GIF89a",
            b"RIFF\0\0\0\0WEBPVP8 ",
            b"RIFF\0\0\0\0WEBPVP8L",
            b"RIFF\0\0\0\0WEBPVP8X",
            b"MM\0*",
        ];
        for round in 0..20_000 {
            let mut bytes = prefixes[round % prefixes.len()].to_vec();
            bytes.extend(random_bytes(&mut rng, 64));
            if let Ok(found) = probe(&bytes) {
                assert!(found.width > 0 && found.height > 0);
            }
        }
        // JPEG marker soup: mostly 0xFF and marker bytes, to walk deep.
        for _ in 0..20_000 {
            let mut bytes = vec![0xFF, 0xD8];
            let len = rng.u64(..200);
            for _ in 0..len {
                let roll = rng.u64(..);
                bytes.push(match roll % 4 {
                    0 => 0xFF,
                    1 => 0xC0 | ((roll >> 8) as u8 & 0x0F),
                    2 => 0xD0 | ((roll >> 8) as u8 & 0x0F),
                    _ => (roll >> 8) as u8,
                });
            }
            let _ = probe(&bytes);
        }
    }

    fn viduq3_like() -> ImageConstraints {
        ImageConstraints {
            formats: vec!["png".into(), "jpg".into(), "webp".into()],
            min_width: Some(128),
            min_height: Some(128),
            min_aspect: Some("1:4".into()),
            max_aspect: Some("4:1".into()),
            max_bytes: Some(50 * 1024 * 1024),
            rule: Some("V3".into()),
        }
    }

    #[test]
    fn a_fitting_image_breaks_nothing() {
        let constraints = viduq3_like();
        assert!(check(&info(ImageFormat::Png, 512, 512), Some(1000), &constraints).is_empty());
        // jpg in the spec means jpeg; the bounds are inclusive
        assert!(check(&info(ImageFormat::Jpeg, 512, 128), None, &constraints).is_empty());
        assert!(check(&info(ImageFormat::Webp, 128, 512), None, &constraints).is_empty());
    }

    #[test]
    fn every_broken_constraint_gets_a_message() {
        let constraints = viduq3_like();
        let messages = check(
            &info(ImageFormat::Gif, 100, 1000),
            Some(60 * 1024 * 1024),
            &constraints,
        );
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("GIF") && messages[0].contains("png, jpg, webp"));
        assert!(messages[1].contains("100×1000") && messages[1].contains("128×128"));
        assert!(messages[2].contains("1:10") && messages[2].contains("1:4"));
        assert!(messages[3].contains("50.0 MiB"));
        let wide = check(&info(ImageFormat::Png, 2000, 200), None, &constraints);
        assert_eq!(wide.len(), 1);
        assert!(
            wide[0].contains("10:1") && wide[0].contains("4:1"),
            "{wide:?}"
        );
    }

    #[test]
    fn a_misspelt_ratio_in_the_spec_is_reported_not_skipped() {
        let constraints = ImageConstraints {
            min_aspect: Some("wide".into()),
            ..viduq3_like()
        };
        let messages = check(&info(ImageFormat::Png, 512, 512), None, &constraints);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("min_aspect"));
    }
}
