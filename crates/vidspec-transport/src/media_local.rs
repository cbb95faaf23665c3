//! Pre-flight of local video and audio files (`check_local_video`,
//! `check_local_audio`): the same judging as for URLs (`media_fetch`), with
//! the bytes read from disk.
//!
//! Owns opening the file — a regular file only, through
//! `vidspec_core::load::open_regular_file`, so a FIFO or device is refused
//! without hanging — and which findings are errors for a local file. It reads
//! only the first `REMOTE_READ_BYTES` and, for MP4/MOV, the `moov` box; it
//! must never read a whole video.

use std::path::Path;

use vidspec_core::spec::{AudioConstraints, VideoConstraints};

use crate::media::MediaError;
use crate::media_check::{check_audio, check_video};
use crate::media_fetch::{Opened, Source, findings, inspect_audio, inspect_video};
use crate::preflight::{Finding, REMOTE_READ_BYTES};

/// Opens a local media file: a regular file only (never a FIFO or device),
/// its first `REMOTE_READ_BYTES`, and its size from the file system. Only the
/// head and, for MP4/MOV, the `moov` box are ever read.
async fn open_local(path: &Path) -> Result<Opened<'static>, String> {
    let owned = path.to_owned();
    let (file, size) =
        tokio::task::spawn_blocking(move || vidspec_core::load::open_regular_file(&owned))
            .await
            .map_err(|_| "reading the file stopped unexpectedly; try again".to_owned())?
            .map_err(|error| format!("cannot read the file: {error}"))?;
    let mut source = Source::Local(tokio::fs::File::from_std(file));
    let head = source.read_at(0, REMOTE_READ_BYTES as u64).await?;
    Ok(Opened {
        shown: path.display().to_string(),
        head,
        total: Some(size),
        source,
    })
}

/// Checks a local video file against `constraints`, as pre-flight checks one
/// behind a URL. Findings have an empty `path` and name the file. A file that
/// cannot be opened, is empty, or is in no recognised format while the spec
/// names `formats` is an `Error`; what cannot be read is a `Warning`.
pub async fn check_local_video(path: &Path, constraints: &VideoConstraints) -> Vec<Finding> {
    let rule = &constraints.rule;
    let mut opened = match open_local(path).await {
        Ok(opened) => opened,
        Err(why) => {
            return vec![Finding::error(
                "",
                format!("{}: {why}", path.display()),
                rule,
            )];
        }
    };
    let shown = opened.shown.clone();
    match inspect_video(&mut opened).await {
        Ok((info, problem)) => {
            let judgement = check_video(&info, opened.total, constraints);
            findings(
                "",
                &shown,
                "video",
                judgement,
                problem,
                opened.total,
                constraints.max_bytes,
                rule,
            )
        }
        Err(error) => vec![unreadable_local(
            &shown,
            error,
            !constraints.formats.is_empty(),
            "video",
            rule,
        )],
    }
}

/// Checks a local audio file against `constraints`; see `check_local_video`.
pub async fn check_local_audio(path: &Path, constraints: &AudioConstraints) -> Vec<Finding> {
    let rule = &constraints.rule;
    let mut opened = match open_local(path).await {
        Ok(opened) => opened,
        Err(why) => {
            return vec![Finding::error(
                "",
                format!("{}: {why}", path.display()),
                rule,
            )];
        }
    };
    let shown = opened.shown.clone();
    match inspect_audio(&mut opened).await {
        Ok((info, problem)) => {
            let judgement = check_audio(&info, opened.total, constraints);
            findings(
                "",
                &shown,
                "audio file",
                judgement,
                problem,
                opened.total,
                constraints.max_bytes,
                rule,
            )
        }
        Err(error) => vec![unreadable_local(
            &shown,
            error,
            !constraints.formats.is_empty(),
            "audio file",
            rule,
        )],
    }
}

/// An empty file is an `Error`; one in no recognised format is an `Error`
/// only when the spec names formats (no `formats` means no format check).
fn unreadable_local(
    shown: &str,
    error: MediaError,
    formats_named: bool,
    what: &str,
    rule: &Option<String>,
) -> Finding {
    if matches!(error, MediaError::Empty) || formats_named {
        Finding::error("", format!("{shown}: {error}"), rule)
    } else {
        Finding::warning(
            "",
            format!("could not check the {what} at {shown}: {error}; the gateway may reject it"),
            rule,
        )
    }
}
