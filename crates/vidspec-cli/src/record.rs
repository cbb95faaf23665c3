//! The ledger from a command's side: which file (and the one-time import of
//! an older journal), and what a command says about it: an identical
//! unfinished request, a task the ledger could not record.
//!
//! The guard's key and the recording of each step are vidspec-workflow's;
//! storage is vidspec-journal's. This module must not write anything.

use std::path::Path;

use vidspec_journal::{Entry, Ledger, LedgerError};

use crate::cli::JournalArgs;

/// The ledger chosen by `--journal`, `$VIDSPEC_JOURNAL` or the default place,
/// with an older JSON-lines journal imported into it the first time (said on
/// stderr, each damaged line as `PATH:LINE: what; what to do`).
pub fn ledger(args: &JournalArgs) -> Result<Ledger, LedgerError> {
    let location = vidspec_journal::locate(args.journal.as_deref());
    let ledger = Ledger::open(&location.ledger)?;
    if let Some(legacy) = &location.legacy
        && let Some(imported) = ledger.import_jsonl(legacy)?
    {
        for problem in &imported.problems {
            eprintln!("warning: {problem}");
        }
        if imported.more_problems > 0 {
            eprintln!(
                "warning: {}: {} more damaged lines were skipped",
                legacy.display(),
                imported.more_problems
            );
        }
        eprintln!(
            "note: imported {} entries from {} into {}",
            imported.entries,
            legacy.display(),
            ledger.path().display()
        );
    }
    Ok(ledger)
}

/// The refusal of an identical unfinished request (exit 2).
pub fn duplicate_message(entry: &Entry) -> String {
    let task = entry.task_id.as_deref().unwrap_or("task id unknown");
    format!(
        "an identical request is already in the ledger as {} ({task}, entry {}): \
         `vidspec resume` waits for it and saves its videos; pass --again to pay for another",
        entry.state.name(),
        entry.entry
    )
}

/// A shell word for `text`: as is when it is plain, else single-quoted; a
/// control character (a terminal escape from a gateway's task id) is written
/// as `$'\xNN'` so it never reaches the terminal raw.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&byte));
    if plain {
        return text.to_owned();
    }
    let mut word = String::from("'");
    for character in text.chars() {
        match character {
            '\'' => word.push_str(r"'\''"),
            control if control.is_control() => {
                let mut bytes = [0u8; 4];
                word.push('\'');
                for byte in control.encode_utf8(&mut bytes).bytes() {
                    word.push_str(&format!("$'\\x{byte:02x}'"));
                }
                word.push('\'');
            }
            other => word.push(other),
        }
    }
    word.push('\'');
    word
}

/// The command that waits for `task_id` (and saves its videos into `download`).
pub fn wait_command(task_id: &str, model: &str, download: Option<&Path>) -> String {
    let mut command = format!(
        "vidspec wait {} --model {}",
        shell_word(task_id),
        shell_word(model)
    );
    let dir = download.map_or_else(
        || "DIR".to_owned(),
        |dir| shell_word(&dir.display().to_string()),
    );
    command.push_str(" --download ");
    command.push_str(&dir);
    command
}

/// What to say when a task exists but the ledger could not record it.
pub fn unrecorded_message(
    error: &LedgerError,
    task_id: &str,
    model: &str,
    download: Option<&Path>,
) -> String {
    format!(
        "the gateway accepted task {task_id} ({model}) and will charge it, but the ledger could \
         not record it; do not submit it again: `{}` waits for it and saves its videos \
         (the ledger's error: {error})",
        wait_command(task_id, model, download)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unrecorded_message_names_the_task_and_the_command_that_waits_for_it() {
        let error = LedgerError::Io {
            path: "/state/ledger.sqlite3".into(),
            problem: "cannot write: the disk is full".to_owned(),
            source: None,
        };
        let message = unrecorded_message(
            &error,
            "task_42",
            "veo3.1-fast",
            Some(Path::new("my videos")),
        );
        assert!(message.contains("task_42"), "{message}");
        assert!(message.contains("disk is full"), "{message}");
        assert!(message.contains("do not submit it again"), "{message}");
        assert!(
            message.contains("`vidspec wait task_42 --model veo3.1-fast --download 'my videos'`"),
            "{message}"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed_and_quotes_survive() {
        assert_eq!(shell_word("videos/out-1"), "videos/out-1");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("t\u{1b}[2J"), r"'t'$'\x1b''[2J'");
        assert_eq!(shell_word("a\u{85}"), r"'a'$'\xc2'$'\x85'''");
    }
}
