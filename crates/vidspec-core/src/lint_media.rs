//! Lint of a field's media constraints (`image:`, `video:`, `audio:`): every
//! named format is one pre-flight can recognise (`media_formats`), ratios are
//! `W:H`, lower bounds do not exceed upper ones, the block sits on a URL field
//! (or URL items), and an audio duration bound can be checked for some listed
//! format.
//!
//! Owns the messages of those problems only; `lint` reports them at the
//! field's location. It must not read media or decide anything at run time.

use crate::media_formats::{AUDIO_WITH_DURATION, MediaKind};
use crate::spec::{Field, FieldType};

/// Every problem of `field`'s own media constraints, as messages starting
/// with `name` (the field's path, `image_urls[]` for items).
pub(crate) fn problems(name: &str, field: &Field) -> Vec<String> {
    let mut problems = Vec::new();
    let blocks = [
        field.image.as_ref().map(|c| (MediaKind::Image, &c.formats)),
        field.video.as_ref().map(|c| (MediaKind::Video, &c.formats)),
        field.audio.as_ref().map(|c| (MediaKind::Audio, &c.formats)),
    ];
    let present: Vec<MediaKind> = blocks.iter().flatten().map(|(kind, _)| *kind).collect();
    if present.len() > 1 {
        let keys: Vec<&str> = present.iter().map(|kind| kind.key()).collect();
        problems.push(format!(
            "{name}: {} describe one URL: keep the one the field takes",
            keys.join(" and ")
        ));
    }
    let url_items = field.kind == FieldType::Array
        && field
            .items
            .as_ref()
            .is_some_and(|items| items.value.kind == FieldType::Url);
    if !present.is_empty() && field.kind != FieldType::Url && !url_items {
        let keys: Vec<&str> = present.iter().map(|kind| kind.key()).collect();
        problems.push(format!(
            "{name}: {} applies to url fields (or url items, under items:) only",
            keys.join(", ")
        ));
    }
    for (kind, formats) in blocks.iter().flatten() {
        for format in formats.iter() {
            if kind.canonical(format).is_none() {
                problems.push(unreadable(name, *kind, format));
            }
        }
    }
    if let Some(image) = &field.image {
        aspect(
            name,
            "image",
            &image.min_aspect,
            &image.max_aspect,
            &mut problems,
        );
    }
    if let Some(video) = &field.video {
        aspect(
            name,
            "video",
            &video.min_aspect,
            &video.max_aspect,
            &mut problems,
        );
        ordered(
            name,
            "video",
            "min_seconds",
            video.min_seconds,
            "max_seconds",
            video.max_seconds,
            &mut problems,
        );
        ordered(
            name,
            "video",
            "min_fps",
            video.min_fps,
            "max_fps",
            video.max_fps,
            &mut problems,
        );
        if let (Some(above), Some(max)) = (video.fps_above, video.max_fps)
            && above >= max
        {
            problems.push(format!(
                "{name}: video fps_above {above} leaves no frame rate at or below max_fps {max}: lower fps_above or raise max_fps"
            ));
        }
        for (key, value) in [
            ("min_seconds", video.min_seconds),
            ("max_seconds", video.max_seconds),
            ("min_fps", video.min_fps),
            ("fps_above", video.fps_above),
            ("max_fps", video.max_fps),
        ] {
            negative(name, "video", key, value, &mut problems);
        }
    }
    if let Some(audio) = &field.audio {
        ordered(
            name,
            "audio",
            "min_seconds",
            audio.min_seconds,
            "max_seconds",
            audio.max_seconds,
            &mut problems,
        );
        negative(
            name,
            "audio",
            "min_seconds",
            audio.min_seconds,
            &mut problems,
        );
        negative(
            name,
            "audio",
            "max_seconds",
            audio.max_seconds,
            &mut problems,
        );
        let bounded = audio.min_seconds.is_some() || audio.max_seconds.is_some();
        let timed = audio.formats.is_empty()
            || audio.formats.iter().any(|format| {
                MediaKind::Audio
                    .canonical(format)
                    .is_some_and(|name| AUDIO_WITH_DURATION.contains(&name))
            });
        if bounded && !timed {
            problems.push(format!(
                "{name}: audio min_seconds/max_seconds can never be checked: pre-flight reads a duration only from {} files, and formats lists none of them",
                AUDIO_WITH_DURATION.join(", ")
            ));
        }
    }
    problems
}

fn unreadable(name: &str, kind: MediaKind, format: &str) -> String {
    let names = kind.names();
    let shown = crate::text::quote_short(format);
    let advice = crate::suggest::did_you_mean(format, &names)
        .map(|close| format!("did you mean {close}? "))
        .unwrap_or_default();
    format!(
        "{name}: {} format {shown} is not one pre-flight can recognise ({}), so no file would ever match it: {advice}remove it, or leave formats out to accept any format",
        kind.key(),
        names.join(", ")
    )
}

fn aspect(
    name: &str,
    key: &str,
    min: &Option<String>,
    max: &Option<String>,
    problems: &mut Vec<String>,
) {
    let mut parsed = [None, None];
    for (slot, (bound, text)) in parsed
        .iter_mut()
        .zip([("min_aspect", min), ("max_aspect", max)])
    {
        let Some(text) = text else { continue };
        match parse_ratio(text) {
            Some(ratio) => *slot = Some(ratio),
            None => problems.push(format!(
                "{name}: {key} {bound} {} is not a ratio W:H of two positive numbers (1:4)",
                crate::text::quote_short(text)
            )),
        }
    }
    if let [Some(low), Some(high)] = parsed
        && low > high
    {
        problems.push(format!(
            "{name}: {key} min_aspect is wider than max_aspect, so no file fits: swap them"
        ));
    }
}

/// `W:H` as a width/height ratio, both parts positive and finite.
fn parse_ratio(text: &str) -> Option<f64> {
    let (width, height) = text.split_once(':')?;
    let width: f64 = width.trim().parse().ok()?;
    let height: f64 = height.trim().parse().ok()?;
    (width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0)
        .then_some(width / height)
}

fn ordered(
    name: &str,
    key: &str,
    low_key: &str,
    low: Option<f64>,
    high_key: &str,
    high: Option<f64>,
    problems: &mut Vec<String>,
) {
    if let (Some(low), Some(high)) = (low, high)
        && low > high
    {
        problems.push(format!(
            "{name}: {key} {low_key} {low} is greater than {high_key} {high}, so no file fits"
        ));
    }
}

fn negative(name: &str, key: &str, bound: &str, value: Option<f64>, problems: &mut Vec<String>) {
    if let Some(value) = value
        && !(value.is_finite() && value >= 0.0)
    {
        problems.push(format!(
            "{name}: {key} {bound} {value} must be a number of at least 0"
        ));
    }
}
