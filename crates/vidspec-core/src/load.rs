//! Reading spec files: YAML text → `Spec` values, with every syntax problem located.
//!
//! Owns the YAML reader settings (duplicate keys rejected, `yes`/`no` kept as
//! strings, alias and nesting budgets), the size cap, and
//! [`read_regular_file`]: the one bounded file read of the workspace (spec
//! files here; local images in the transport and request files in the CLI
//! reuse it), which refuses anything but a regular file without blocking on
//! it and never reads past its cap whatever size the file claims. It must not
//! interpret what a spec says; `lint` and `compile` do that. It never panics
//! on any input.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diagnostics::Problem;
use crate::spec::{Gateway, Spec, Vocabulary};

/// The largest spec file read, in bytes. Real specs are a few kilobytes.
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

/// The most YAML files a spec directory (`--specs DIR`) may hold: every file
/// is read and compiled before the first request is checked.
pub const MAX_SPEC_FILES: usize = 256;

/// Reads one spec file of a spec directory: a regular file of at most
/// `MAX_SPEC_BYTES` bytes of UTF-8 text.
pub fn read_spec_file(path: &Path) -> Result<Source, Problem> {
    let name = path.display().to_string();
    let problem = |message: String| Problem {
        file: name.clone(),
        line: 0,
        column: 0,
        message,
    };
    let bytes = read_regular_file(path, MAX_SPEC_BYTES as u64).map_err(|error| match error {
        FileReadError::TooLarge { .. } => problem(format!(
            "spec files are limited to {MAX_SPEC_BYTES} bytes: split the family or trim it"
        )),
        other => problem(format!("cannot read the spec file: {other}")),
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        problem(format!(
            "the spec file is not UTF-8 text (invalid byte at offset {}): save it as UTF-8",
            error.utf8_error().valid_up_to()
        ))
    })?;
    Ok(Source::new(name, text))
}

/// One spec source: a file name (for messages and the family check) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name used in messages, e.g. `specs/pixverse-v6.yaml`.
    pub name: String,
    /// The YAML text.
    pub text: String,
}

impl Source {
    /// A source from a name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The file stem of the name (`pixverse-v6` for `specs/pixverse-v6.yaml`).
    pub fn stem(&self) -> &str {
        Path::new(&self.name)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or(&self.name)
    }
}

/// Why [`read_regular_file`] or [`open_regular_file`] gave no bytes. The
/// messages name no path: the caller puts the file's name in front.
#[derive(Debug, thiserror::Error)]
pub enum FileReadError {
    /// The file could not be opened (missing, no permission, ...).
    #[error("cannot open it: {0}")]
    Open(std::io::Error),
    /// The path names something that is not a regular file.
    #[error("it is {kind}, not a regular file: give the path of a file")]
    NotRegular {
        /// What it is, e.g. `a directory`, `a FIFO`, `a character device`.
        kind: &'static str,
    },
    /// The file holds more bytes than the cap allows.
    #[error("it is larger than the limit of {cap} bytes")]
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// Reading failed after the file was opened.
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
}

/// Opens `path` for reading only if it is a regular file, and returns it with
/// the size the file system reports (a hint only: the file may grow, and
/// `/proc` files report 0).
///
/// On unix the file is opened with `O_NONBLOCK`, so a FIFO without a writer
/// cannot hang the open, and the type is judged from the opened file itself
/// (`fstat`), so nothing can be swapped in between a check and the open.
/// `O_NONBLOCK` changes nothing for reads of a regular file.
pub fn open_regular_file(path: &Path) -> Result<(File, u64), FileReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        // Without O_NONBLOCK, look before opening; checked again after.
        let metadata = std::fs::metadata(path).map_err(FileReadError::Open)?;
        if !metadata.is_file() {
            return Err(FileReadError::NotRegular {
                kind: file_kind(&metadata.file_type()),
            });
        }
    }
    let file = options.open(path).map_err(FileReadError::Open)?;
    let metadata = file.metadata().map_err(FileReadError::Read)?;
    if !metadata.is_file() {
        return Err(FileReadError::NotRegular {
            kind: file_kind(&metadata.file_type()),
        });
    }
    Ok((file, metadata.len()))
}

/// Reads the whole of the regular file `path`, at most `cap` bytes: a file
/// that reports more is refused before any byte is read, and one that holds
/// more than it reported (it grew, or its size is not known) is refused once
/// `cap + 1` bytes have been read. Never allocates more than `cap + 1` bytes.
pub fn read_regular_file(path: &Path, cap: u64) -> Result<Vec<u8>, FileReadError> {
    let (file, reported) = open_regular_file(path)?;
    if reported > cap {
        return Err(FileReadError::TooLarge { cap });
    }
    // The reported size is a hint for the first allocation, never a promise.
    let mut bytes = Vec::with_capacity(usize::try_from(reported).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(FileReadError::Read)?;
    if bytes.len() as u64 > cap {
        return Err(FileReadError::TooLarge { cap });
    }
    Ok(bytes)
}

/// Words for a kind of file that is not a regular file.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "something other than a file"
    }
}

/// Parses a model-family spec.
pub fn parse_spec(source: &Source) -> Result<Spec, Problem> {
    parse(source)
}

/// Parses a gateway file (`gateways/<name>.yaml`): the shared `endpoint:` and
/// `task:` blocks, unknown keys refused with their line.
pub(crate) fn parse_gateway(source: &Source) -> Result<Gateway, Problem> {
    parse(source)
}

/// Parses the shared vocabulary file.
pub(crate) fn parse_vocabulary(source: &Source) -> Result<Vocabulary, Problem> {
    parse(source)
}

fn parse<T: DeserializeOwned>(source: &Source) -> Result<T, Problem> {
    if source.text.len() > MAX_SPEC_BYTES {
        return Err(Problem {
            file: source.name.clone(),
            line: 0,
            column: 0,
            message: format!(
                "file is {} bytes; spec files are limited to {MAX_SPEC_BYTES} bytes: split the family or trim it",
                source.text.len()
            ),
        });
    }
    let mut options = serde_saphyr::options::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options::<T>(&source.text, options).map_err(|error| {
        let (line, column) = error
            .location()
            .map(|location| (location.line(), location.column()))
            .unwrap_or((0, 0));
        Problem {
            file: source.name.clone(),
            line,
            column,
            message: clean_message(&error.without_snippet().to_string()),
        }
    })
}

/// Drops the reader's own location suffix and its advice to library users.
fn clean_message(message: &str) -> String {
    if message.contains("budget breached") {
        return "the YAML grows too large when its aliases are expanded, or nests too deep (an alias bomb?): write the values out or simplify the anchors".to_owned();
    }
    let message = match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => &message[..index],
        _ => message,
    };
    message
        .replace(
            ", set DuplicateKeyPolicy in Options if acceptable",
            "; remove one of them",
        )
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(label: &str) -> TempDir {
            let dir = std::env::temp_dir()
                .join(format!("vidspec-load-test-{}-{label}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create a temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_regular_file_within_the_cap_is_read_whole() {
        let dir = TempDir::new("within");
        let path = dir.0.join("a.yaml");
        std::fs::write(&path, b"0123456789").expect("writes");
        assert_eq!(read_regular_file(&path, 10).expect("reads"), b"0123456789");
    }

    #[test]
    fn a_regular_file_over_the_cap_is_refused_before_it_is_read() {
        let dir = TempDir::new("over");
        let path = dir.0.join("a.yaml");
        std::fs::write(&path, b"0123456789!").expect("writes");
        let error = read_regular_file(&path, 10).expect_err("over the cap");
        assert!(
            matches!(error, FileReadError::TooLarge { cap: 10 }),
            "{error}"
        );
    }

    #[test]
    fn a_directory_is_refused_as_not_a_regular_file() {
        let dir = TempDir::new("dir");
        let error = read_regular_file(&dir.0, 10).expect_err("a directory");
        assert!(
            error
                .to_string()
                .contains("a directory, not a regular file"),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_character_device_is_refused_without_reading_it() {
        let error = read_regular_file(Path::new("/dev/zero"), 1 << 30).expect_err("a device");
        assert!(
            error
                .to_string()
                .contains("a character device, not a regular file"),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once_instead_of_hanging() {
        let dir = TempDir::new("fifo");
        let path = dir.0.join("spec.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs (coreutils)");
        assert!(made.success(), "mkfifo failed");
        // A blocking open would wait here for a writer that never comes.
        let error = read_regular_file(&path, 10).expect_err("a FIFO");
        assert!(error.to_string().contains("a FIFO"), "{error}");
    }

    /// `/proc` files report a size of 0 and hold more: the cap, not the
    /// reported size, bounds the read.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_holding_more_than_its_reported_size_is_cut_at_the_cap() {
        let path = Path::new("/proc/self/maps");
        let (_, reported) = open_regular_file(path).expect("a regular file");
        assert_eq!(reported, 0, "the premise: /proc reports no size");
        let error = read_regular_file(path, 16).expect_err("longer than 16 bytes");
        assert!(
            matches!(error, FileReadError::TooLarge { cap: 16 }),
            "{error}"
        );
    }
}
