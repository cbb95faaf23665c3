//! `POST /v1/uploads/images`: reading the multipart `file` field, telling the
//! image type from its magic bytes, enforcing the 20 MB cap, and the answer
//! `{url, filename, content_type, bytes, created_at}` of `gateway-facts.md` §3.1.
//!
//! This module must not trust the client's declared content type or file
//! name: the type comes from the bytes and the stored name is sanitised.

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use serde_json::json;

use crate::replies::Reply;
use crate::state::{SimState, StoredUpload, unix_seconds};
use crate::stats::bump;

/// The gateway's upload cap (20 MB).
pub(crate) const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// The message the gateway answers when the `file` field is missing.
const MISSING_FILE: &str = "missing or invalid file field: http: no such file";

/// The image type of `bytes` as (MIME type, file extension), if it is one of
/// the accepted formats.
pub(crate) fn sniff_image(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// A name for what an unsupported file looks like, for the error message.
fn describe_other(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if bytes.starts_with(b"BM") {
        "image/bmp"
    } else if !bytes.is_empty() && std::str::from_utf8(bytes).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// A file name safe to put in a URL path: ASCII letters, digits, `.`, `-`, `_`.
fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    cleaned.trim_start_matches('.').to_owned()
}

/// Why reading the `file` field failed.
enum ReadError {
    /// No `file` field (or no multipart body at all).
    Missing,
    /// The file is larger than the cap; the size read so far.
    TooLarge(usize),
}

/// The `file` field: its declared name and its bytes.
async fn read_file_field(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Option<String>, Bytes), ReadError> {
    let Ok(mut multipart) = multipart else {
        return Err(ReadError::Missing);
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) | Err(_) => return Err(ReadError::Missing),
        };
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().map(str::to_owned);
        let mut field = field;
        let mut data = Vec::new();
        let mut size = 0usize;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len();
                    if size <= MAX_UPLOAD_BYTES {
                        data.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                // The body limit cut the stream: report the size seen so far.
                Err(_) if size > MAX_UPLOAD_BYTES => return Err(ReadError::TooLarge(size)),
                Err(_) => return Err(ReadError::Missing),
            }
        }
        if size > MAX_UPLOAD_BYTES {
            return Err(ReadError::TooLarge(size));
        }
        return Ok((file_name, Bytes::from(data)));
    }
}

/// Handles an authorised upload.
pub(crate) async fn receive(
    state: &SimState,
    multipart: Result<Multipart, MultipartRejection>,
) -> Reply {
    let (file_name, bytes) = match read_file_field(multipart).await {
        Ok(file) => file,
        Err(ReadError::Missing) => {
            bump(&state.counters.rejected);
            return Reply::upload_error(StatusCode::BAD_REQUEST, MISSING_FILE);
        }
        Err(ReadError::TooLarge(size)) => {
            return Reply::upload_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("file size {size} exceeds maximum {MAX_UPLOAD_BYTES} bytes"),
            );
        }
    };
    let Some((content_type, extension)) = sniff_image(&bytes) else {
        bump(&state.counters.rejected);
        return Reply::upload_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "unsupported image type: {}, allowed: jpeg, png, gif, webp",
                describe_other(&bytes)
            ),
        );
    };
    let mut filename = file_name.as_deref().map(sanitise).unwrap_or_default();
    if filename.is_empty() {
        filename = format!("image.{extension}");
    }
    let created_at = unix_seconds();
    let name = format!("{created_at}-{}-{filename}", state.random_hex());
    let size = bytes.len();
    state.store_upload(
        name.clone(),
        StoredUpload {
            content_type,
            bytes,
        },
    );
    bump(&state.counters.uploads);
    Reply::ok(json!({
        "url": format!("{}/__sim/uploads/{name}", state.base_url),
        "filename": filename,
        "content_type": content_type,
        "bytes": size,
        "created_at": created_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_type() {
        assert_eq!(
            sniff_image(b"\xff\xd8\xff\xe0rest"),
            Some(("image/jpeg", "jpg"))
        );
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\n...."),
            Some(("image/png", "png"))
        );
        assert_eq!(sniff_image(b"GIF89a..."), Some(("image/gif", "gif")));
        assert_eq!(
            sniff_image(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(("image/webp", "webp"))
        );
        assert_eq!(sniff_image(b"%PDF-1.7"), None);
        assert_eq!(describe_other(b"%PDF-1.7"), "application/pdf");
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise("../../etc/passwd"), "passwd");
        assert_eq!(sanitise("my photo (1).jpg"), "my_photo__1_.jpg");
        assert_eq!(sanitise(".hidden"), "hidden");
    }
}
