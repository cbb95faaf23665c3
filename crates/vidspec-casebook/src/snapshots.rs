//! Snapshot files in insta's format, so `cargo insta review` can show and
//! accept them: a YAML header between two `---` lines (`source`,
//! `expression`, `input_file`), then the text. The accepted one is
//! `<name>.snap`; a new or changed one waits as `<name>.snap.new`.
//!
//! Owns where a case's snapshot lives, reading, comparing and writing it.
//! It must not judge cases (that is `book`'s).

use std::io;
use std::path::{Path, PathBuf};

use crate::cases::CaseFile;

/// The folder, beside the cases, that holds their snapshots.
pub const SNAPSHOT_FOLDER: &str = "snapshots";

/// What the header's `source` names: the tool that wrote the snapshot.
const SOURCE: &str = "vidspec test";

/// Largest snapshot file read (a plan of a 16 MiB request, pretty-printed).
const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// The snapshots of one case folder.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
}

/// How a fresh rendering compares with the accepted snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// Same text.
    Same,
    /// No snapshot was accepted yet.
    New,
    /// Different text; the accepted one is given.
    Changed {
        /// The accepted snapshot's text.
        accepted: String,
    },
}

impl Snapshots {
    /// The snapshots of the cases in `cases_dir` (in its `snapshots/`).
    pub fn of(cases_dir: &Path) -> Snapshots {
        Snapshots {
            dir: cases_dir.join(SNAPSHOT_FOLDER),
        }
    }

    /// The folder holding them.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The accepted snapshot of `case`: its label with `/` written as `__`
    /// (`acme__err__N1-too-long.json.snap`), as insta names glob snapshots.
    pub fn accepted_path(&self, case: &CaseFile) -> PathBuf {
        self.dir
            .join(format!("{}.snap", case.label.replace('/', "__")))
    }

    /// Where a new or changed snapshot of `case` waits for review.
    pub fn pending_path(&self, case: &CaseFile) -> PathBuf {
        self.dir
            .join(format!("{}.snap.new", case.label.replace('/', "__")))
    }

    /// Compares `rendered` with the accepted snapshot of `case`.
    pub fn compare(&self, case: &CaseFile, rendered: &str) -> io::Result<Comparison> {
        let path = self.accepted_path(case);
        let bytes = match vidspec_core::load::read_regular_file(&path, MAX_SNAPSHOT_BYTES) {
            Ok(bytes) => bytes,
            Err(vidspec_core::load::FileReadError::Open(error))
                if error.kind() == io::ErrorKind::NotFound =>
            {
                return Ok(Comparison::New);
            }
            Err(error) => return Err(io::Error::other(error.to_string())),
        };
        let text = String::from_utf8_lossy(&bytes);
        let accepted = contents_of(&text);
        if normalize(&accepted) == normalize(rendered) {
            Ok(Comparison::Same)
        } else {
            Ok(Comparison::Changed { accepted })
        }
    }

    /// Writes `rendered` as the accepted snapshot and removes a pending one.
    pub fn accept(&self, case: &CaseFile, rendered: &str) -> io::Result<PathBuf> {
        let path = self.accepted_path(case);
        self.write(&path, case, rendered)?;
        self.clear_pending(case)?;
        Ok(path)
    }

    /// Writes `rendered` as the pending snapshot for review.
    pub fn propose(&self, case: &CaseFile, rendered: &str) -> io::Result<PathBuf> {
        let path = self.pending_path(case);
        self.write(&path, case, rendered)?;
        Ok(path)
    }

    /// Removes the pending snapshot of `case`, if any.
    pub fn clear_pending(&self, case: &CaseFile) -> io::Result<()> {
        match std::fs::remove_file(self.pending_path(case)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Accepted snapshots that belong to none of `cases` (their case was
    /// removed or renamed), sorted.
    pub fn orphans(&self, cases: &[CaseFile]) -> io::Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut orphans = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let is_snapshot = path.extension().is_some_and(|ext| ext == "snap");
            if is_snapshot && !cases.iter().any(|case| self.accepted_path(case) == path) {
                orphans.push(path);
            }
        }
        orphans.sort();
        Ok(orphans)
    }

    /// Writes a snapshot whole or not at all: a temporary file in the same
    /// folder renamed over `path`, so an interrupted run leaves no half
    /// snapshot and a symbolic link planted at `path` is replaced, never
    /// written through.
    fn write(&self, path: &Path, case: &CaseFile, rendered: &str) -> io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(file_text(case, rendered).as_bytes())?;
        file.persist(path).map_err(|error| error.error)?;
        Ok(())
    }
}

/// The whole snapshot file: the header, then the text ending in one newline.
fn file_text(case: &CaseFile, rendered: &str) -> String {
    let expression = match case.expect {
        crate::Expect::Valid => "render_plan(&plan)",
        crate::Expect::Invalid => "render_diagnostics(&diagnostics)",
    };
    // Header values as JSON strings: valid YAML double-quoted scalars, so any
    // file name is written escaped.
    let quote = |text: &str| serde_json::Value::from(text).to_string();
    format!(
        "---\nsource: {}\nexpression: {}\ninput_file: {}\n---\n{}\n",
        quote(SOURCE),
        quote(expression),
        quote(&case.label),
        normalize(rendered)
    )
}

/// The text of a snapshot file: what follows the header (the whole file when
/// it has none), as insta reads it.
fn contents_of(file: &str) -> String {
    let mut lines = file.lines();
    let mut body: Vec<&str> = Vec::new();
    match lines.next() {
        Some(first) if first.trim_end() == "---" => {
            for line in lines.by_ref() {
                if line.trim_end() == "---" {
                    break;
                }
            }
        }
        Some(first) => body.push(first),
        None => {}
    }
    body.extend(lines);
    body.join("\n")
}

/// Text as insta compares it: trailing whitespace dropped, CRLF as LF.
fn normalize(text: &str) -> String {
    text.trim_end().replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expect;

    fn case(label: &str) -> CaseFile {
        CaseFile {
            path: PathBuf::from(label),
            family: None,
            expect: Expect::Invalid,
            file_name: label.rsplit('/').next().unwrap_or(label).to_owned(),
            label: label.to_owned(),
        }
    }

    #[test]
    fn a_snapshot_file_is_insta_s_header_then_the_text_with_one_final_newline() {
        let text = file_text(&case("acme/err/N1-x.json"), "## Diagnostics\nerror: x\n\n");
        assert_eq!(
            text,
            "---\nsource: \"vidspec test\"\nexpression: \"render_diagnostics(&diagnostics)\"\n\
             input_file: \"acme/err/N1-x.json\"\n---\n## Diagnostics\nerror: x\n"
        );
        assert_eq!(contents_of(&text), "## Diagnostics\nerror: x");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_a_snapshot_path_is_replaced_not_written_through() {
        let dir =
            std::env::temp_dir().join(format!("vidspec-casebook-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let snapshots = Snapshots::of(&dir);
        std::fs::create_dir_all(snapshots.dir()).expect("create the folder");
        let target = dir.join("precious.txt");
        std::fs::write(&target, "keep me").expect("write the target");
        let case = case("ok/a.json");
        std::os::unix::fs::symlink(&target, snapshots.pending_path(&case)).expect("plant a link");
        snapshots
            .propose(&case, "## Plan\n{}")
            .expect("write the snapshot");
        assert_eq!(
            std::fs::read_to_string(&target).expect("the target"),
            "keep me"
        );
        let written = std::fs::read_to_string(snapshots.pending_path(&case)).expect("the snapshot");
        assert!(written.ends_with("## Plan\n{}\n"), "{written}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_name_with_quotes_and_newlines_stays_inside_its_header_value() {
        let text = file_text(&case("err/a\"b\nc.json"), "x");
        assert!(
            text.contains("input_file: \"err/a\\\"b\\nc.json\"\n"),
            "{text}"
        );
    }
}
