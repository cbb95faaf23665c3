//! Finding case files and reading what their place promises: the layout
//! (`ok/`, `err/`, one folder per family or a single family's folder) and
//! the rule number at the start of an `err` file's name.
//!
//! Lists folders and nothing else: reading a case's request is `book`'s.

use std::path::{Path, PathBuf};

use crate::CasebookError;

/// What a case expects of its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// In `ok/`: it must prepare to a plan.
    Valid,
    /// In `err/`: it must be refused.
    Invalid,
}

/// One case file and what its place says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFile {
    /// The request file.
    pub path: PathBuf,
    /// The family folder it sits in; `None` in a single family's folder.
    pub family: Option<String>,
    /// Whether it sits in `ok/` or `err/`.
    pub expect: Expect,
    /// The file name (`N1-too-long.json`).
    pub file_name: String,
    /// Its place below the case folder, `/`-separated
    /// (`acme/err/N1-too-long.json`, or `err/N1-too-long.json`).
    pub label: String,
}

impl CaseFile {
    /// The rule number the file name promises (`N1` of `N1-too-long.json`),
    /// for an `err` case.
    pub fn promised_rule(&self) -> Option<&str> {
        match self.expect {
            Expect::Invalid => rule_in_file_name(&self.file_name),
            Expect::Valid => None,
        }
    }
}

/// The rule number a case file's name starts with: an upper-case ASCII
/// letter then digits, before the first `-` of its stem (`P4` of
/// `P4-first-last.json`).
pub fn rule_in_file_name(name: &str) -> Option<&str> {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let head = stem.split('-').next()?;
    let mut chars = head.chars();
    let letter = chars.next()?;
    let digits = chars.as_str();
    (letter.is_ascii_uppercase()
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit()))
    .then_some(head)
}

/// Every case below `dir`, sorted: `dir/{ok,err}/*.json` when `dir` holds
/// `ok/` or `err/` itself, else `dir/<family>/{ok,err}/*.json`.
pub fn find_cases(dir: &Path) -> Result<Vec<CaseFile>, CasebookError> {
    let mut cases = Vec::new();
    if is_single_family(dir) {
        collect_family(dir, None, &mut cases)?;
    } else {
        for family_dir in sorted_entries(dir)? {
            let Some(family) = family_dir.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if is_single_family(&family_dir) {
                let family = family.to_owned();
                collect_family(&family_dir, Some(family), &mut cases)?;
            }
        }
    }
    if cases.is_empty() {
        return Err(CasebookError::NoCases {
            dir: dir.to_path_buf(),
        });
    }
    Ok(cases)
}

fn is_single_family(dir: &Path) -> bool {
    dir.join("ok").is_dir() || dir.join("err").is_dir()
}

fn collect_family(
    dir: &Path,
    family: Option<String>,
    cases: &mut Vec<CaseFile>,
) -> Result<(), CasebookError> {
    for (kind, expect) in [("ok", Expect::Valid), ("err", Expect::Invalid)] {
        let kind_dir = dir.join(kind);
        if !kind_dir.is_dir() {
            continue;
        }
        for path in sorted_entries(&kind_dir)? {
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let Some(file_name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            let file_name = file_name.to_owned();
            let label = match &family {
                Some(family) => format!("{family}/{kind}/{file_name}"),
                None => format!("{kind}/{file_name}"),
            };
            cases.push(CaseFile {
                path,
                family: family.clone(),
                expect,
                file_name,
                label,
            });
        }
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, CasebookError> {
    let fail = |source| CasebookError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        paths.push(entry.map_err(fail)?.path());
    }
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_number_is_a_capital_letter_and_digits_before_the_first_dash() {
        assert_eq!(rule_in_file_name("P4-first-last.json"), Some("P4"));
        assert_eq!(rule_in_file_name("N12-x.json"), Some("N12"));
        assert_eq!(rule_in_file_name("P-x.json"), None);
        assert_eq!(rule_in_file_name("p4-x.json"), None);
        assert_eq!(rule_in_file_name("P4x-y.json"), None);
        assert_eq!(rule_in_file_name("P4.json"), Some("P4"));
        assert_eq!(rule_in_file_name("P4-x"), Some("P4"));
        assert_eq!(rule_in_file_name("bad-duration.json"), None);
    }
}
