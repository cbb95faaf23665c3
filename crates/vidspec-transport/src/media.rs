//! Reading what a video's or an audio file's header says — container
//! format by magic bytes, duration, displayed size and average frame rate —
//! and judging it against a spec's `VideoConstraints` / `AudioConstraints`.
//!
//! Owns the sniffers for the names of `vidspec_core::media_formats::VIDEO`
//! and `AUDIO` (a test proves each is sniffed), the top-level box header of
//! MP4/MOV files (size and type only, so the caller can find `moov`), the
//! WAV and FLAC duration fields. The judging lives in `media_check`.
//! The `moov` box itself is read by Mozilla's `mp4parse`, never by hand.
//! It does no I/O (the caller fetches bytes, see `media_fetch`) and never
//! panics: any input is answered with a `MediaError`.

use std::io::Cursor;

use crate::image::hex_start;
use vidspec_core::media_formats::MediaKind;

/// What a video's container says. Each part is `None` when the file does
/// not say it (a fragmented MP4's `moov` holds no sample timing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// Canonical format name (`mp4`, `mov`).
    pub format: &'static str,
    /// Duration of the video track in seconds.
    pub seconds: Option<f64>,
    /// Width and height in pixels as displayed (a 90° rotation applied).
    pub size: Option<(u32, u32)>,
    /// Average frame rate: samples over the track's duration.
    pub fps: Option<f64>,
}

/// What an audio file's header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioInfo {
    /// Canonical format name (`wav`, `mp3`, …).
    pub format: &'static str,
    /// Duration in seconds, for the formats whose header gives it.
    pub seconds: Option<f64>,
}

/// Why a media file's header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// No bytes at all.
    #[error("the file is empty (0 bytes)")]
    Empty,
    /// The magic bytes are none of the formats pre-flight recognises.
    #[error(
        "not a {kind} format pre-flight recognises ({expected}); it starts with {start}; convert it to one of those"
    )]
    UnknownFormat {
        /// `video` or `audio`.
        kind: &'static str,
        /// The recognised formats, for people.
        expected: String,
        /// The first bytes, in hex.
        start: String,
    },
    /// The container ends, or a box runs past it, before `moov`.
    #[error(
        "the {format} file has no moov box (the index of its samples); it may be truncated or still being written"
    )]
    NoMovie {
        /// The format.
        format: &'static str,
    },
    /// The `moov` box is larger than pre-flight reads.
    #[error("the {format} moov box is {size} bytes, more than the {cap} bytes pre-flight reads")]
    MovieTooLarge {
        /// The format.
        format: &'static str,
        /// Its declared size.
        size: u64,
        /// `MAX_MOVIE_BYTES`.
        cap: u64,
    },
    /// The header is not what the format prescribes.
    #[error("the {format} header is malformed: {reason}")]
    Malformed {
        /// The format.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The largest `moov` box pre-flight reads (a minute of 60 fps video indexes
/// in well under 1 MiB).
pub const MAX_MOVIE_BYTES: u64 = 32 * 1024 * 1024;

fn unknown(kind: MediaKind, bytes: &[u8]) -> MediaError {
    if bytes.is_empty() {
        return MediaError::Empty;
    }
    MediaError::UnknownFormat {
        kind: kind.key(),
        expected: kind.names().join(", "),
        start: hex_start(bytes),
    }
}

/// Top-level box types a QuickTime file may start with when it has no
/// `ftyp` (files from before the ISO format).
const QUICKTIME_FIRST_BOXES: [&[u8; 4]; 6] = [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

fn is_iso_container(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"ftyp")
}

/// The video container of `bytes` by magic bytes: `mov` for a QuickTime
/// brand (`qt  `) or a file that starts with a QuickTime box, `mp4` for any
/// other ISO `ftyp`.
pub fn sniff_video(bytes: &[u8]) -> Option<&'static str> {
    if is_iso_container(bytes) {
        return Some(if bytes.get(8..12) == Some(b"qt  ") {
            "mov"
        } else {
            "mp4"
        });
    }
    let kind = bytes.get(4..8)?;
    QUICKTIME_FIRST_BOXES
        .iter()
        .any(|first| kind == *first)
        .then_some("mov")
}

/// The audio format of `bytes` by magic bytes: `wav` (`RIFF….WAVE`), `flac`
/// (`fLaC`), `ogg` (`OggS`), `m4a` (an ISO `ftyp`), `mp3` (an ID3 tag or an
/// MPEG layer I–III frame sync), `aac` (an ADTS frame sync).
pub fn sniff_audio(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Some("wav")
    } else if bytes.starts_with(b"fLaC") {
        Some("flac")
    } else if bytes.starts_with(b"OggS") {
        Some("ogg")
    } else if is_iso_container(bytes) {
        Some("m4a")
    } else if bytes.starts_with(b"ID3") {
        Some("mp3")
    } else if let [0xFF, second, ..] = bytes {
        // 12 sync bits and layer 00: ADTS; 11 sync bits and a layer: MPEG audio.
        if second & 0xF6 == 0xF0 {
            Some("aac")
        } else if second & 0xE0 == 0xE0 && second & 0x06 != 0 {
            Some("mp3")
        } else {
            None
        }
    } else {
        None
    }
}

/// The format of a video, or the error for one pre-flight does not recognise.
pub fn video_format(bytes: &[u8]) -> Result<&'static str, MediaError> {
    sniff_video(bytes).ok_or_else(|| unknown(MediaKind::Video, bytes))
}

/// The format of an audio file, or the error for one pre-flight does not
/// recognise.
pub fn audio_format(bytes: &[u8]) -> Result<&'static str, MediaError> {
    sniff_audio(bytes).ok_or_else(|| unknown(MediaKind::Audio, bytes))
}

/// A top-level box header of an MP4/MOV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// The four-character type (`moov`).
    pub kind: [u8; 4],
    /// Bytes of the header itself (8, or 16 with a 64-bit size).
    pub header_len: u64,
    /// The whole box's size in bytes; `None`: it runs to the end of the file.
    pub size: Option<u64>,
}

/// The box header at the start of `bytes`: `Ok(None)` when more bytes are
/// needed (a header is at most 16), an error when its size is impossible.
pub fn box_header(bytes: &[u8], format: &'static str) -> Result<Option<BoxHeader>, MediaError> {
    let Some(head) = bytes.get(0..8) else {
        return Ok(None);
    };
    let small = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
    let kind = [head[4], head[5], head[6], head[7]];
    let (header_len, size) = match small {
        0 => (8, None),
        1 => {
            let Some(large) = bytes.get(8..16) else {
                return Ok(None);
            };
            let mut be = [0u8; 8];
            be.copy_from_slice(large);
            (16, Some(u64::from_be_bytes(be)))
        }
        size => (8, Some(size)),
    };
    if let Some(size) = size
        && size < header_len
    {
        return Err(MediaError::Malformed {
            format,
            reason: format!(
                "box {:?} declares {size} bytes, fewer than its own header",
                String::from_utf8_lossy(&kind)
            ),
        });
    }
    Ok(Some(BoxHeader {
        kind,
        header_len,
        size,
    }))
}

/// What a `moov` box says, read by `mp4parse`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Movie {
    /// The first video track: its duration, displayed size and frame rate.
    pub video: Option<VideoInfo>,
    /// The longest duration of any track, in seconds.
    pub seconds: Option<f64>,
}

/// Reads the `moov` box `moov` (the whole box, header included) with
/// `mp4parse`; `format` names the container in errors and in the result.
pub fn read_movie(moov: &[u8], format: &'static str) -> Result<Movie, MediaError> {
    let context =
        mp4parse::read_mp4(&mut Cursor::new(moov)).map_err(|error| MediaError::Malformed {
            format,
            reason: format!("mp4parse could not read its moov box ({error})"),
        })?;
    let mut longest: Option<f64> = None;
    let mut video = None;
    for track in context.tracks.iter() {
        let seconds = track_seconds(track);
        if let Some(seconds) = seconds {
            longest = Some(longest.map_or(seconds, |longest| longest.max(seconds)));
        }
        if video.is_none() && track.track_type == mp4parse::TrackType::Video {
            video = Some(VideoInfo {
                format,
                seconds,
                size: track_size(track),
                fps: track_fps(track),
            });
        }
    }
    Ok(Movie {
        video,
        seconds: longest,
    })
}

/// The track's `mdhd` duration over its timescale; `None` when unknown (all
/// ones), zero (a fragmented file) or without a timescale.
fn track_seconds(track: &mp4parse::Track) -> Option<f64> {
    let duration = track.duration?.0;
    let timescale = track.timescale?.0;
    (duration != 0 && duration != u64::MAX && timescale != 0)
        .then(|| duration as f64 / timescale as f64)
}

/// The displayed size: `tkhd`'s 16.16 width and height, swapped when its
/// matrix turns the picture by 90° or 270°; the sample entry's coded size
/// when `tkhd` gives none.
fn track_size(track: &mp4parse::Track) -> Option<(u32, u32)> {
    let from_header = track.tkhd.as_ref().and_then(|tkhd| {
        let (width, height) = (tkhd.width >> 16, tkhd.height >> 16);
        let turned = tkhd.matrix.a == 0 && tkhd.matrix.d == 0;
        (width > 0 && height > 0).then_some(if turned {
            (height, width)
        } else {
            (width, height)
        })
    });
    from_header.or_else(|| {
        track
            .stsd
            .as_ref()?
            .descriptions
            .iter()
            .find_map(|entry| match entry {
                mp4parse::SampleEntry::Video(video) if video.width > 0 && video.height > 0 => {
                    Some((u32::from(video.width), u32::from(video.height)))
                }
                _ => None,
            })
    })
}

/// Samples per second over the track's sample timing (`stts`).
fn track_fps(track: &mp4parse::Track) -> Option<f64> {
    let timescale = track.timescale?.0;
    let (mut samples, mut ticks) = (0u128, 0u128);
    for entry in track.stts.as_ref()?.samples.iter() {
        samples += u128::from(entry.sample_count);
        ticks += u128::from(entry.sample_count) * u128::from(entry.sample_delta);
    }
    (samples > 0 && ticks > 0 && timescale > 0)
        .then(|| samples as f64 * timescale as f64 / ticks as f64)
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let part = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([part[0], part[1], part[2], part[3]]))
}

/// A WAV's duration: the `data` chunk's size over the `fmt ` chunk's byte
/// rate, walking the RIFF chunks of `head`. `None` when `head` ends before
/// both are found, or the size is unknown (`0xFFFFFFFF`, a stream).
pub fn wav_seconds(head: &[u8]) -> Result<Option<f64>, MediaError> {
    let malformed = |reason: &str| MediaError::Malformed {
        format: "wav",
        reason: reason.to_owned(),
    };
    let mut at = 12usize;
    let mut byte_rate = None;
    while let (Some(id), Some(size)) = (head.get(at..at + 4), le32(head, at + 4)) {
        let data = at + 8;
        match id {
            b"fmt " => {
                let rate =
                    le32(head, data + 8).ok_or_else(|| malformed("the fmt chunk is cut short"))?;
                if rate == 0 {
                    return Err(malformed("the fmt chunk declares a byte rate of 0"));
                }
                byte_rate = Some(rate);
            }
            b"data" => {
                let Some(rate) = byte_rate else {
                    return Err(malformed("the data chunk comes before the fmt chunk"));
                };
                return Ok((size != u32::MAX).then(|| f64::from(size) / f64::from(rate)));
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        let padded = (size as usize).saturating_add(size as usize & 1);
        at = match data.checked_add(padded) {
            Some(next) => next,
            None => return Ok(None),
        };
    }
    Ok(None)
}

/// A FLAC's duration from its `STREAMINFO` block (the first metadata block):
/// total samples over the sample rate. `None` when the encoder left the
/// total unknown (0).
pub fn flac_seconds(head: &[u8]) -> Result<Option<f64>, MediaError> {
    let malformed = |reason: &str| MediaError::Malformed {
        format: "flac",
        reason: reason.to_owned(),
    };
    let block = head
        .get(4..8 + 18)
        .ok_or_else(|| malformed("the STREAMINFO block is cut short"))?;
    if block[0] & 0x7F != 0 {
        return Err(malformed("the first metadata block is not STREAMINFO"));
    }
    let info = &block[4..];
    let rate =
        (u32::from(info[10]) << 12) | (u32::from(info[11]) << 4) | (u32::from(info[12]) >> 4);
    let total = (u64::from(info[13] & 0x0F) << 32)
        | u64::from(u32::from_be_bytes([info[14], info[15], info[16], info[17]]));
    if rate == 0 {
        return Err(malformed("STREAMINFO declares a sample rate of 0"));
    }
    Ok((total != 0).then(|| total as f64 / f64::from(rate)))
}
