//! The media format names a spec's `image:`, `video:` and `audio:` `formats`
//! may use: exactly the formats the transport's pre-flight recognises by a
//! file's first bytes, so a name lint accepts can match.
//!
//! Owns the names and their spellings only. It must not read bytes: the
//! sniffers live in vidspec-transport (`image`, `media`), whose tests prove
//! every name listed here is sniffed. Lint reads this list to refuse a format
//! that pre-flight could never recognise (`formats: [svg]`).

/// One format: its canonical name (the one pre-flight reports) and other
/// spellings a spec may use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaFormat {
    /// Canonical lower-case name (`jpeg`).
    pub name: &'static str,
    /// Other spellings (`jpg`).
    pub aliases: &'static [&'static str],
}

const fn format(name: &'static str, aliases: &'static [&'static str]) -> MediaFormat {
    MediaFormat { name, aliases }
}

/// Image formats pre-flight reads (format and pixel size from the header).
pub const IMAGE: &[MediaFormat] = &[
    format("png", &[]),
    format("jpeg", &["jpg"]),
    format("webp", &[]),
    format("gif", &[]),
    format("bmp", &[]),
    format("tiff", &["tif"]),
];

/// Video containers pre-flight reads (format, and duration, size and frame
/// rate from the `moov` box).
pub const VIDEO: &[MediaFormat] = &[format("mp4", &["m4v"]), format("mov", &["quicktime"])];

/// Audio formats pre-flight recognises by magic bytes. `m4a` is audio in an
/// MP4 container; `aac` is a raw ADTS stream.
pub const AUDIO: &[MediaFormat] = &[
    format("mp3", &[]),
    format("wav", &["wave"]),
    format("m4a", &[]),
    format("aac", &[]),
    format("ogg", &["oga"]),
    format("flac", &[]),
];

/// The audio formats whose duration pre-flight reads from the header (WAV:
/// the data size over the byte rate; FLAC: `STREAMINFO`; M4A: the `moov`
/// box). For the others `min_seconds`/`max_seconds` are not checked.
pub const AUDIO_WITH_DURATION: &[&str] = &["wav", "flac", "m4a"];

/// Which kind of media a constraint block describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `image:`
    Image,
    /// `video:`
    Video,
    /// `audio:`
    Audio,
}

impl MediaKind {
    /// The spec key of the constraint block (`image`).
    pub fn key(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    /// The formats pre-flight reads for this kind.
    pub fn formats(self) -> &'static [MediaFormat] {
        match self {
            MediaKind::Image => IMAGE,
            MediaKind::Video => VIDEO,
            MediaKind::Audio => AUDIO,
        }
    }

    /// The canonical name of `name` (trimmed, any case, aliases resolved), or
    /// `None` when pre-flight cannot recognise it.
    pub fn canonical(self, name: &str) -> Option<&'static str> {
        let wanted = name.trim();
        self.formats()
            .iter()
            .find(|format| {
                format.name.eq_ignore_ascii_case(wanted)
                    || format
                        .aliases
                        .iter()
                        .any(|alias| alias.eq_ignore_ascii_case(wanted))
            })
            .map(|format| format.name)
    }

    /// The canonical names, for messages (`png, jpeg, webp`).
    pub fn names(self) -> Vec<&'static str> {
        self.formats().iter().map(|format| format.name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_resolve_to_the_canonical_name_in_any_case() {
        assert_eq!(MediaKind::Image.canonical(" JPG "), Some("jpeg"));
        assert_eq!(MediaKind::Image.canonical("BMP"), Some("bmp"));
        assert_eq!(MediaKind::Video.canonical("MOV"), Some("mov"));
        assert_eq!(MediaKind::Audio.canonical("Wave"), Some("wav"));
        assert_eq!(MediaKind::Image.canonical("svg"), None);
        assert_eq!(MediaKind::Video.canonical("webm"), None);
    }

    #[test]
    fn no_spelling_names_two_formats_of_one_kind() {
        for kind in [MediaKind::Image, MediaKind::Video, MediaKind::Audio] {
            let mut seen = std::collections::BTreeSet::new();
            for format in kind.formats() {
                for spelling in std::iter::once(&format.name).chain(format.aliases) {
                    assert!(seen.insert(*spelling), "{spelling} twice in {kind:?}");
                }
            }
        }
    }

    #[test]
    fn every_audio_format_with_a_duration_is_an_audio_format() {
        for name in AUDIO_WITH_DURATION {
            assert_eq!(MediaKind::Audio.canonical(name), Some(*name));
        }
    }
}
