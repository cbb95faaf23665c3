//! Pre-flight of local video and audio files (`check_local_video`,
//! `check_local_audio`): the same judging as for URLs (`media_fetch`), with
//! the bytes read from disk.
//!
//! Owns opening the file — a regular file only, through
//! `vidspec_core::load::open_regular_file`, so a FIFO or device is refused
//! without hanging; the file is judged by `media_fetch::judge`, as a remote one. It reads
//! only the first `REMOTE_READ_BYTES` and, for MP4/MOV, the `moov` box; it
//! must never read a whole video.

use std::path::Path;

use vidspec_core::spec::{AudioConstraints, VideoConstraints};

use crate::media_fetch::{Opened, Source, Wanted, judge};
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
    check_local(path, Wanted::Video(constraints)).await
}

/// Checks a local audio file against `constraints`; see `check_local_video`.
pub async fn check_local_audio(path: &Path, constraints: &AudioConstraints) -> Vec<Finding> {
    check_local(path, Wanted::Audio(constraints)).await
}

async fn check_local(path: &Path, wanted: Wanted<'_>) -> Vec<Finding> {
    match open_local(path).await {
        Ok(mut opened) => judge(&mut opened, "", wanted).await,
        Err(why) => vec![Finding::error(
            "",
            format!("{}: {why}", path.display()),
            wanted.rule(),
        )],
    }
}
