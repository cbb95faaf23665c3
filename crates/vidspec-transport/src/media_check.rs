//! Judging what a video's or audio file's header says (`media`) against a
//! spec's `VideoConstraints` / `AudioConstraints`: every broken constraint as
//! a message for people, and every constraint the file did not let us check.
//!
//! Owns those messages only; it reads no bytes and decides nothing about
//! severity (pre-flight makes broken constraints errors and unchecked ones
//! warnings).

use vidspec_core::media_formats::MediaKind;
use vidspec_core::spec::{AudioConstraints, VideoConstraints};

use crate::image::{gcd, parse_ratio, show_bytes};
use crate::media::{AudioInfo, VideoInfo};

/// What `check_*` found: broken constraints (errors) and constraints that
/// could not be checked because the file does not say (warnings).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// Broken constraints, for people.
    pub broken: Vec<String>,
    /// Constraints left unchecked, for people.
    pub unchecked: Vec<String>,
}

fn formats_broken(kind: MediaKind, format: &str, formats: &[String], broken: &mut Vec<String>) {
    if !formats.is_empty()
        && !formats
            .iter()
            .any(|name| kind.canonical(name) == Some(format))
    {
        broken.push(format!(
            "the {} is {}, but only {} are accepted; convert it",
            kind.key(),
            format.to_ascii_uppercase(),
            formats.join(", ")
        ));
    }
}

fn bytes_broken(kind: MediaKind, max: Option<u64>, len: Option<u64>, broken: &mut Vec<String>) {
    if let (Some(max), Some(len)) = (max, len)
        && len > max
    {
        broken.push(format!(
            "the {} is {}, larger than the maximum {}; compress or shorten it",
            kind.key(),
            show_bytes(len),
            show_bytes(max)
        ));
    }
}

fn seconds_judged(
    kind: MediaKind,
    seconds: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    why_unknown: &str,
    judgement: &mut Judgement,
) {
    if min.is_none() && max.is_none() {
        return;
    }
    let Some(seconds) = seconds else {
        judgement.unchecked.push(format!(
            "the {}'s duration could not be read ({why_unknown}), so its length was not checked",
            kind.key()
        ));
        return;
    };
    if let Some(min) = min
        && seconds < min
    {
        judgement.broken.push(format!(
            "the {} lasts {seconds:.2} s, shorter than the minimum {min} s; use a longer one",
            kind.key()
        ));
    }
    if let Some(max) = max
        && seconds > max
    {
        judgement.broken.push(format!(
            "the {} lasts {seconds:.2} s, longer than the maximum {max} s; trim it",
            kind.key()
        ));
    }
}

/// Every constraint the video `info` (and its size in bytes, when known)
/// breaks, and those it could not be judged on.
pub fn check_video(
    info: &VideoInfo,
    bytes_len: Option<u64>,
    constraints: &VideoConstraints,
) -> Judgement {
    let kind = MediaKind::Video;
    let mut judgement = Judgement::default();
    formats_broken(
        kind,
        info.format,
        &constraints.formats,
        &mut judgement.broken,
    );
    seconds_judged(
        kind,
        info.seconds,
        constraints.min_seconds,
        constraints.max_seconds,
        "its moov box gives no duration",
        &mut judgement,
    );
    let wants_size = constraints.min_width.is_some()
        || constraints.min_height.is_some()
        || constraints.min_short_side.is_some()
        || constraints.min_aspect.is_some()
        || constraints.max_aspect.is_some();
    match info.size {
        Some((width, height)) => size_judged(width, height, constraints, &mut judgement.broken),
        None if wants_size => judgement.unchecked.push(
            "the video's picture size could not be read (no video track with a size), so its dimensions were not checked".to_owned(),
        ),
        None => {}
    }
    let wants_fps = constraints.min_fps.is_some()
        || constraints.fps_above.is_some()
        || constraints.max_fps.is_some();
    match info.fps {
        Some(fps) => {
            if let Some(min) = constraints.min_fps
                && fps < min
            {
                judgement.broken.push(format!(
                    "the video runs at {fps:.2} fps, below the minimum {min} fps; re-encode it at a higher frame rate"
                ));
            }
            if let Some(above) = constraints.fps_above
                && fps <= above
            {
                judgement.broken.push(format!(
                    "the video runs at {fps:.2} fps; it must run at more than {above} fps; re-encode it at a higher frame rate"
                ));
            }
            if let Some(max) = constraints.max_fps
                && fps > max
            {
                judgement.broken.push(format!(
                    "the video runs at {fps:.2} fps, above the maximum {max} fps; re-encode it at a lower frame rate"
                ));
            }
        }
        None if wants_fps => judgement.unchecked.push(
            "the video's frame rate could not be read (no sample timing in its moov box), so it was not checked".to_owned(),
        ),
        None => {}
    }
    bytes_broken(
        kind,
        constraints.max_bytes,
        bytes_len,
        &mut judgement.broken,
    );
    judgement
}

fn size_judged(width: u32, height: u32, constraints: &VideoConstraints, broken: &mut Vec<String>) {
    let (width, height) = (u64::from(width), u64::from(height));
    if width < constraints.min_width.unwrap_or(0) || height < constraints.min_height.unwrap_or(0) {
        let minimum = match (constraints.min_width, constraints.min_height) {
            (Some(w), Some(h)) => format!("{w}×{h}"),
            (Some(w), None) => format!("{w} pixels wide"),
            (None, Some(h)) => format!("{h} pixels high"),
            (None, None) => String::new(),
        };
        broken.push(format!(
            "the video is {width}×{height} pixels, smaller than the minimum {minimum}; use a larger one"
        ));
    }
    if let Some(short) = constraints.min_short_side
        && width.min(height) < short
    {
        broken.push(format!(
            "the video is {width}×{height} pixels; its shorter side must be at least {short} pixels; use a larger one"
        ));
    }
    let divisor = gcd(width, height).max(1);
    let shown = format!("{}:{}", width / divisor, height / divisor);
    for (bound, is_min) in [
        (&constraints.min_aspect, true),
        (&constraints.max_aspect, false),
    ] {
        let Some(text) = bound else { continue };
        let Some((a, b)) = parse_ratio(text) else {
            broken.push(format!(
                "the spec's {} {text:?} is not a W:H ratio, so the aspect ratio could not be checked (report it)",
                if is_min { "min_aspect" } else { "max_aspect" }
            ));
            continue;
        };
        let (lhs, rhs) = (width as f64 * b, a * height as f64);
        if is_min && lhs < rhs {
            broken.push(format!(
                "the video's aspect ratio is {shown}, narrower than the narrowest allowed {text}; crop or pad it"
            ));
        } else if !is_min && lhs > rhs {
            broken.push(format!(
                "the video's aspect ratio is {shown}, wider than the widest allowed {text}; crop or pad it"
            ));
        }
    }
}

/// Every constraint the audio `info` (and its size in bytes, when known)
/// breaks, and those it could not be judged on.
pub fn check_audio(
    info: &AudioInfo,
    bytes_len: Option<u64>,
    constraints: &AudioConstraints,
) -> Judgement {
    let kind = MediaKind::Audio;
    let mut judgement = Judgement::default();
    formats_broken(
        kind,
        info.format,
        &constraints.formats,
        &mut judgement.broken,
    );
    let why = if vidspec_core::media_formats::AUDIO_WITH_DURATION.contains(&info.format) {
        format!("its {} header gives none", info.format.to_ascii_uppercase())
    } else {
        format!(
            "pre-flight reads a duration only from {} files",
            vidspec_core::media_formats::AUDIO_WITH_DURATION.join(", ")
        )
    };
    seconds_judged(
        kind,
        info.seconds,
        constraints.min_seconds,
        constraints.max_seconds,
        &why,
        &mut judgement,
    );
    bytes_broken(
        kind,
        constraints.max_bytes,
        bytes_len,
        &mut judgement.broken,
    );
    judgement
}
