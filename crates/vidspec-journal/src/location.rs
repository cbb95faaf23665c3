//! Which file is the ledger, and which JSON-lines journal of an older vidspec
//! (if any) is imported into it.
//!
//! Owns the naming rules (`--journal PATH`, `$VIDSPEC_JOURNAL`, the default
//! under `$XDG_STATE_HOME`). It must not open the ledger or write anything.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The ledger's file name in the state directory.
pub const LEDGER_FILE: &str = "ledger.sqlite3";
/// The JSON-lines journal older vidspec kept in the state directory.
pub const LEGACY_FILE: &str = "journal.jsonl";

/// Where the ledger is, and the older journal to import into it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The SQLite ledger.
    pub ledger: PathBuf,
    /// A JSON-lines journal to import (once) if it exists.
    pub legacy: Option<PathBuf>,
}

/// The ledger for `named` (`--journal PATH`), else `$VIDSPEC_JOURNAL`, else
/// `$XDG_STATE_HOME/vidspec/ledger.sqlite3` (`~/.local/state/...`), whose
/// older `journal.jsonl` beside it is imported.
///
/// A named path that is a JSON-lines journal is imported into a ledger beside
/// it: `NAME.jsonl` into `NAME.sqlite3`, any other JSON-lines file `PATH` into
/// `PATH.sqlite3` (kept when `PATH` is later moved away). Any other named path
/// is the ledger itself.
pub fn locate(named: Option<&Path>) -> Location {
    let from_env = std::env::var_os("VIDSPEC_JOURNAL")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from);
    match named.map(Path::to_path_buf).or(from_env) {
        Some(path) => locate_named(&path),
        None => {
            let dir = state_dir().join("vidspec");
            Location {
                ledger: dir.join(LEDGER_FILE),
                legacy: Some(dir.join(LEGACY_FILE)),
            }
        }
    }
}

fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn locate_named(path: &Path) -> Location {
    let is_jsonl = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("jsonl"));
    if is_jsonl {
        return Location {
            ledger: path.with_extension("sqlite3"),
            legacy: Some(path.to_path_buf()),
        };
    }
    let beside = {
        let mut name = OsString::from(path.as_os_str());
        name.push(".sqlite3");
        PathBuf::from(name)
    };
    if looks_like_json_lines(path) {
        return Location {
            ledger: beside,
            legacy: Some(path.to_path_buf()),
        };
    }
    if !path.exists() && beside.is_file() {
        return Location {
            ledger: beside,
            legacy: None,
        };
    }
    Location {
        ledger: path.to_path_buf(),
        legacy: None,
    }
}

/// A regular file whose first non-blank byte opens a JSON object (an SQLite
/// file starts with `SQLite format 3`).
fn looks_like_json_lines(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let mut head = [0u8; 64];
    let Ok(read) = std::fs::File::open(path).and_then(|mut file| file.read(&mut head)) else {
        return false;
    };
    head[..read]
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|&byte| byte == b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(label: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("vidspec-location-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_jsonl_name_is_imported_into_the_same_name_with_sqlite3() {
        let location = locate_named(Path::new("/state/jobs.jsonl"));
        assert_eq!(location.ledger, Path::new("/state/jobs.sqlite3"));
        assert_eq!(
            location.legacy.as_deref(),
            Some(Path::new("/state/jobs.jsonl"))
        );
    }

    #[test]
    fn a_json_lines_file_of_another_name_is_imported_into_a_ledger_beside_it() {
        let dir = temp("sniff");
        let journal = dir.join("jobs.log");
        std::fs::write(&journal, "{\"v\":1}\n").expect("write");
        let location = locate_named(&journal);
        assert_eq!(location.ledger, dir.join("jobs.log.sqlite3"));
        assert_eq!(location.legacy, Some(journal.clone()));
        // Once the old file is moved away, the ledger beside it is still found.
        std::fs::remove_file(&journal).expect("remove");
        std::fs::write(dir.join("jobs.log.sqlite3"), b"").expect("write");
        assert_eq!(locate_named(&journal).ledger, dir.join("jobs.log.sqlite3"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn any_other_named_path_is_the_ledger_itself() {
        let dir = temp("plain");
        let garbage = dir.join("ledger.db");
        std::fs::write(&garbage, "not a database").expect("write");
        assert_eq!(
            locate_named(&garbage),
            Location {
                ledger: garbage.clone(),
                legacy: None
            }
        );
        let missing = dir.join("new.sqlite3");
        assert_eq!(locate_named(&missing).ledger, missing);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
