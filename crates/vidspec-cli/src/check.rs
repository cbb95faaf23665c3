//! `check` and `explain`: read a request, pick its model, and run the engine
//! over it, producing a [`Report`].
//!
//! Owns reading FILE or stdin (a regular file or a pipe, through a hard cap,
//! a leading UTF-8 byte-order mark skipped; `--batch` lines ended by LF,
//! CRLF or CR, an over-long line skipped as it streams), choosing the model
//! (`--model`, else the body's `model` string, routed by the library's
//! `Registry::lookup` / `Registry::route`), adding the CLI's `--model` hints
//! to the library's words, and turning every way a request can fail
//! (malformed JSON, not an object, no model, unknown model, broken rules)
//! into diagnostics. It must not format
//! output (that is `output`'s job) nor hold rules of any particular model:
//! every verdict on a request's fields comes from `vidspec-core`.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::Value;
use vidspec_core::{Diagnostics, Plan, Registry, RouteError};

use crate::Exit;
use crate::cli::RequestArgs;
use crate::output::{self, View};
use crate::registry;

/// The largest request read by `check`, `explain` and `submit`, in bytes.
pub const MAX_REQUEST_BYTES: u64 = 16 * 1024 * 1024;

/// The longest line `check --batch` checks, in bytes (its line break not
/// counted). A request is a small JSON object; a longer line is refused as
/// one invalid result without being held in memory. Lower than
/// `MAX_REQUEST_BYTES` because a JSON value takes up to about 32 times its
/// text in memory (`[0,0,…]`) and every worker holds one: a request with a
/// large inline image is checked on its own.
pub const MAX_LINE_BYTES: u64 = 1024 * 1024;

/// Added to the library's message for a request whose `model` is not the
/// `--model` it is checked as.
const MODEL_FLAG_HINT: &str = " or choose the model with --model";

/// The UTF-8 byte-order mark some editors put at the start of a file.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// What the engine said about one request.
#[derive(Debug)]
pub struct Report {
    /// The input's name for messages: the FILE as given, or `<stdin>`.
    pub source: String,
    /// The model id asked for (from `--model` or the body), known or not.
    pub model: Option<String>,
    /// The plan, or every reason there is none.
    pub verdict: Verdict,
}

/// A request's verdict.
#[derive(Debug)]
pub enum Verdict {
    /// Valid: what would be sent.
    Valid(Box<Plan>),
    /// Invalid: every error found, and any warnings.
    Invalid(Diagnostics),
}

impl Report {
    /// The exit status this report maps to.
    pub fn exit(&self) -> Exit {
        match self.verdict {
            Verdict::Valid(_) => Exit::Valid,
            Verdict::Invalid(_) => Exit::Invalid,
        }
    }
}

/// Runs `check` (or `explain`, by `view`) and prints the report on stdout.
pub fn run(args: &RequestArgs, view: View) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let (source, bytes) = read_input(&args.input)?;
    let report = evaluate(&registry, source, &bytes, args.model.as_deref());
    let mut out = std::io::stdout().lock();
    output::write_report(&mut out, &report, args.format, view)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(report.exit())
}

/// Runs `check --batch`: one request per line in, one JSON result per line
/// out, in input order, streaming (memory stays flat however long the input).
/// On more than one thread, lines go to workers in blocks and a writer puts
/// the results back in order; at most a few blocks are in flight at once.
pub fn run_batch(args: &RequestArgs, jobs: Option<u16>) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let (name, input): (String, Box<dyn BufRead>) = if args.input == Path::new("-") {
        (
            "<stdin>".to_owned(),
            Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin())),
        )
    } else {
        let name = args.input.display().to_string();
        let file = open_request_file(&args.input)?;
        (
            name,
            Box::new(std::io::BufReader::with_capacity(1 << 16, file)),
        )
    };
    let lines = Lines::new(input, name);
    let jobs = jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let all_valid = if jobs > 1 {
        batch_on_threads(&registry, args.model.as_deref(), lines, jobs)?
    } else {
        batch_here(&registry, args.model.as_deref(), lines)?
    };
    Ok(if all_valid {
        Exit::Valid
    } else {
        Exit::Invalid
    })
}

/// Requests per block handed to a worker.
const BLOCK_LINES: usize = 1024;

/// Bytes of request lines per block: a block is handed over once it holds
/// this many (or `BLOCK_LINES` lines), so one holds at most
/// `BLOCK_BYTES + MAX_LINE_BYTES` bytes of requests. Ordinary blocks of
/// 1,024 requests (about 170 KB) never reach it.
const BLOCK_BYTES: usize = 1024 * 1024;

/// The batch input, read a line at a time. A line ends at LF, CRLF or a lone
/// CR (old Mac files); a UTF-8 byte-order mark before the first line is
/// skipped.
struct Lines {
    input: Box<dyn BufRead>,
    name: String,
    /// The last line ended with a CR: an LF right after it is part of that
    /// line break, not an empty line.
    after_cr: bool,
    /// No line has been read yet (a byte-order mark may come).
    at_start: bool,
}

impl Lines {
    fn new(input: Box<dyn BufRead>, name: String) -> Lines {
        Lines {
            input,
            name,
            after_cr: false,
            at_start: true,
        }
    }

    /// Reads the next line into `line` (without its line break); `None` at
    /// the end, `Some(true)` for a line longer than `MAX_LINE_BYTES`, which
    /// is read through and dropped as it comes, never held: `line` then
    /// holds no more than `MAX_LINE_BYTES` of it, and memory stays bounded
    /// even for an input with no line break at all.
    fn next(&mut self, line: &mut Vec<u8>) -> anyhow::Result<Option<bool>> {
        line.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buffer = match self.input.fill_buf() {
                Ok(buffer) => buffer,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(error).with_context(|| format!("cannot read {}", self.name));
                }
            };
            if buffer.is_empty() {
                break;
            }
            let skip = usize::from(std::mem::take(&mut self.after_cr) && buffer[0] == b'\n');
            let rest = &buffer[skip..];
            let (piece, used, ended) = match memchr::memchr2(b'\n', b'\r', rest) {
                Some(end) => {
                    self.after_cr = rest[end] == b'\r';
                    (&rest[..end], skip + end + 1, true)
                }
                None => (rest, buffer.len(), false),
            };
            any |= ended || !piece.is_empty();
            if !too_long {
                if (line.len() + piece.len()) as u64 > MAX_LINE_BYTES {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(piece);
                }
            }
            self.input.consume(used);
            if ended {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if std::mem::take(&mut self.at_start) && line.starts_with(BYTE_ORDER_MARK) {
            line.drain(..BYTE_ORDER_MARK.len());
        }
        Ok(Some(too_long))
    }
}

/// Appends the result line of request line `number` to `out`; whether the
/// request is valid.
fn batch_line(
    registry: &Registry,
    flag: Option<&str>,
    number: u64,
    line: &[u8],
    too_long: bool,
    out: &mut Vec<u8>,
) -> anyhow::Result<bool> {
    // JSON results name no source; it only labels text messages.
    let source = String::new();
    let refused = if too_long {
        Some(format!(
            "line {number} is longer than {MAX_LINE_BYTES} bytes, the limit for a line of \
             --batch: check such a request on its own (`vidspec check FILE`, up to \
             {MAX_REQUEST_BYTES} bytes)"
        ))
    } else if line.iter().all(u8::is_ascii_whitespace) {
        Some(format!(
            "line {number} is empty: expected one JSON request per line"
        ))
    } else {
        None
    };
    let report = match refused {
        Some(message) => Report {
            source,
            model: flag.map(str::to_owned),
            verdict: Verdict::Invalid(Diagnostics::single("", message)),
        },
        None => evaluate(registry, source, line, flag),
    };
    output::write_report_line(out, &report)
        .with_context(|| format!("cannot write the result of line {number}"))?;
    Ok(matches!(report.verdict, Verdict::Valid(_)))
}

/// `check --batch` on this thread; whether every line is valid.
fn batch_here(registry: &Registry, flag: Option<&str>, mut lines: Lines) -> anyhow::Result<bool> {
    let mut out = std::io::stdout().lock();
    // Results are gathered here and written in large blocks.
    let mut pending: Vec<u8> = Vec::with_capacity(1 << 17);
    let mut all_valid = true;
    let mut line = Vec::new();
    let mut number = 0u64;
    while let Some(too_long) = lines.next(&mut line)? {
        number += 1;
        all_valid &= batch_line(registry, flag, number, &line, too_long, &mut pending)?;
        if pending.len() >= 1 << 16 {
            out.write_all(&pending)
                .context("cannot write to standard output")?;
            pending.clear();
        }
    }
    out.write_all(&pending)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(all_valid)
}

/// Request lines on their way to a worker: the bytes of up to
/// `BLOCK_LINES` lines (and about `BLOCK_BYTES` bytes) back to back, where each ends and whether it was too
/// long, and the number of the first.
struct Block {
    index: u64,
    first: u64,
    bytes: Vec<u8>,
    lines: Vec<(usize, bool)>,
}

impl Block {
    /// Block `index`, whose first line is line `first`, still empty.
    fn new(index: u64, first: u64) -> Block {
        Block {
            index,
            first,
            bytes: Vec::new(),
            lines: Vec::with_capacity(BLOCK_LINES),
        }
    }
}

/// A worker's results for one block: the result lines and whether every
/// request was valid (or why a result could not be written), or none if
/// checking the block panicked.
struct Done {
    index: u64,
    first: u64,
    checked: Option<anyhow::Result<(Vec<u8>, bool)>>,
}

/// `check --batch` on `jobs` worker threads, results written in input order
/// by a writer thread; whether every line is valid. Memory is bounded: the
/// reader waits for a free slot before handing over a block, and a slot is
/// freed only when that many blocks have been written.
fn batch_on_threads(
    registry: &Registry,
    flag: Option<&str>,
    mut lines: Lines,
    jobs: usize,
) -> anyhow::Result<bool> {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, mpsc};

    let slots = 2 * jobs;
    let (work_tx, work_rx) = mpsc::sync_channel::<Block>(jobs);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let (slot_tx, slot_rx) = mpsc::sync_channel::<()>(slots);
    for _ in 0..slots {
        slot_tx
            .send(())
            .map_err(|_| anyhow::anyhow!("the batch writer stopped"))?;
    }
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || {
                loop {
                    // A poisoned lock only means another worker panicked.
                    let block = match work_rx.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok(block) = block else { break };
                    // A panic would leave a hole the writer waits on forever:
                    // it is caught and ends the whole batch with an error.
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
                        || -> anyhow::Result<(Vec<u8>, bool)> {
                            let mut out = Vec::with_capacity(block.bytes.len() * 3);
                            let mut all_valid = true;
                            let mut start = 0;
                            for (offset, &(end, too_long)) in block.lines.iter().enumerate() {
                                let number = block.first + offset as u64;
                                let line = &block.bytes[start..end];
                                all_valid &=
                                    batch_line(registry, flag, number, line, too_long, &mut out)?;
                                start = end;
                            }
                            Ok((out, all_valid))
                        },
                    ));
                    let done = Done {
                        index: block.index,
                        first: block.first,
                        checked: checked.ok(),
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let writer = scope.spawn(move || -> anyhow::Result<bool> {
            let mut out = std::io::stdout().lock();
            let mut waiting = BTreeMap::new();
            let mut next = 0u64;
            let mut all_valid = true;
            for done in done_rx {
                waiting.insert(done.index, done);
                while let Some(done) = waiting.remove(&next) {
                    let Some(checked) = done.checked else {
                        anyhow::bail!(
                            "internal error while checking the block of lines from line {}; \
                             please report it with those lines",
                            done.first
                        );
                    };
                    let (lines, valid) = checked?;
                    out.write_all(&lines)
                        .context("cannot write to standard output")?;
                    all_valid &= valid;
                    next += 1;
                    // The reader may have stopped early; nothing waits then.
                    let _ = slot_tx.send(());
                }
            }
            out.flush().context("cannot write to standard output")?;
            Ok(all_valid)
        });

        let mut read = || -> anyhow::Result<()> {
            let mut line = Vec::new();
            let mut number = 0u64;
            let mut index = 0u64;
            let mut block = Block::new(index, 1);
            loop {
                let next = lines.next(&mut line)?;
                if let Some(too_long) = next {
                    number += 1;
                    block.bytes.extend_from_slice(&line);
                    block.lines.push((block.bytes.len(), too_long));
                }
                let full = block.lines.len() == BLOCK_LINES || block.bytes.len() >= BLOCK_BYTES;
                if (full || next.is_none()) && !block.lines.is_empty() {
                    index += 1;
                    let handed = std::mem::replace(&mut block, Block::new(index, number + 1));
                    // Either fails only when the writer has stopped: its
                    // error is the one to report.
                    if slot_rx.recv().is_err() || work_tx.send(handed).is_err() {
                        return Ok(());
                    }
                }
                if next.is_none() {
                    return Ok(());
                }
            }
        };
        let read = read();
        drop(work_tx);
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the batch writer panicked"))?;
        read?;
        written
    })
}

/// Reads FILE, or stdin for `-`; returns the input's display name and bytes,
/// without a leading UTF-8 byte-order mark. At most `MAX_REQUEST_BYTES + 1`
/// bytes are ever read.
pub fn read_input(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    let name = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_REQUEST_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read the request from standard input")?;
        "<stdin>".to_owned()
    } else {
        let name = path.display().to_string();
        open_request_file(path)?
            .take(MAX_REQUEST_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read the request file {name}"))?;
        name
    };
    if bytes.len() as u64 > MAX_REQUEST_BYTES {
        let shown = if name == "<stdin>" {
            "standard input"
        } else {
            &name
        };
        anyhow::bail!("the request in {shown} is larger than {MAX_REQUEST_BYTES} bytes");
    }
    if bytes.starts_with(BYTE_ORDER_MARK) {
        bytes.drain(..BYTE_ORDER_MARK.len());
    }
    Ok((name, bytes))
}

/// Opens a request file: a regular file, or a FIFO or pipe (`<(jq …)`, which
/// waits for its writer as standard input does). Anything else — a
/// directory, `/dev/zero`, a socket — is refused before a byte is read.
/// Callers read through a cap; nothing here trusts a reported size.
fn open_request_file(path: &Path) -> anyhow::Result<std::fs::File> {
    use vidspec_core::load::{FileReadError, open_regular_file};
    let name = path.display();
    let is_pipe = |metadata: &std::fs::Metadata| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            metadata.file_type().is_fifo()
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            false
        }
    };
    let looked = std::fs::metadata(path);
    if let Ok(metadata) = &looked
        && is_pipe(metadata)
    {
        // A pipe is opened as it is: blocking until its writer comes.
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot read the request file {name}"))?;
        let opened = file
            .metadata()
            .with_context(|| format!("cannot read the request file {name}"))?;
        if is_pipe(&opened) {
            return Ok(file);
        }
        anyhow::bail!("cannot read the request file {name}: it changed while it was opened");
    }
    match open_regular_file(path) {
        Ok((file, _)) => Ok(file),
        Err(FileReadError::NotRegular { kind }) => anyhow::bail!(
            "cannot read the request file {name}: it is {kind}; give a file \
             holding the request, or `-` to read it from standard input"
        ),
        Err(error) => Err(anyhow::Error::new(error))
            .with_context(|| format!("cannot read the request file {name}")),
    }
}

/// Parses the request, picks the model and prepares it.
pub fn evaluate(registry: &Registry, source: String, bytes: &[u8], flag: Option<&str>) -> Report {
    let invalid = |model: Option<String>, path: &str, message: String| Report {
        source: source.clone(),
        model,
        verdict: Verdict::Invalid(Diagnostics::single(path, message)),
    };
    // UTF-8 checked once for the whole text, not string by string; text that
    // is not UTF-8 goes to `from_slice`, whose error says where.
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    let mut request: Value = match parsed {
        Ok(request) => request,
        Err(error) => {
            return invalid(
                flag.map(str::to_owned),
                "",
                format!("malformed JSON: {error}"),
            );
        }
    };
    // Routing (and its words) is the library's; the CLI adds where --model
    // fits. With --model a request that is not an object reaches the model,
    // whose own schema says so in its words.
    let routed = match flag {
        Some(id) => registry.lookup(id),
        None => registry.route(&request),
    };
    let model = match routed {
        Ok(model) => model,
        Err(error) => {
            let message = match &error {
                RouteError::NoModel { known } if known.is_empty() => {
                    "no model: give --model ID or a \"model\" field (known: none)".to_owned()
                }
                RouteError::NoModel { known } => format!(
                    "no model: give --model ID or a \"model\" field (known: {})",
                    known.join(", ")
                ),
                _ => error.to_string(),
            };
            return invalid(error.asked_for().map(str::to_owned), error.path(), message);
        }
    };
    let id = model.id().to_owned();
    // The body carries the model id only where the endpoint takes one.
    if let Value::Object(object) = &mut request
        && model.spec().endpoint.model_field
    {
        object
            .entry("model")
            .or_insert_with(|| Value::String(id.clone()));
    }
    let verdict = match model.prepare(request) {
        Ok(plan) => Verdict::Valid(Box::new(plan)),
        Err(mut diagnostics) => {
            if flag.is_some() {
                // The request names another model than --model: the library
                // says to fix `model`; here --model can be changed too.
                for error in &mut diagnostics.errors {
                    if error.path == "/model" {
                        error.message.push_str(MODEL_FLAG_HINT);
                    }
                }
            }
            Verdict::Invalid(diagnostics)
        }
    };
    Report {
        source,
        model: Some(id),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_error(report: &Report) -> &vidspec_core::Diagnostic {
        match &report.verdict {
            Verdict::Invalid(diagnostics) => {
                assert_eq!(diagnostics.errors.len(), 1, "{diagnostics:?}");
                &diagnostics.errors[0]
            }
            Verdict::Valid(plan) => panic!("expected an invalid report, got {plan:?}"),
        }
    }

    /// Every line of `input` read through a buffer of `capacity` bytes, as
    /// (text, too long).
    fn lines_of(input: &[u8], capacity: usize) -> Vec<(String, bool)> {
        let reader =
            std::io::BufReader::with_capacity(capacity, std::io::Cursor::new(input.to_vec()));
        let mut lines = Lines::new(Box::new(reader), "test".to_owned());
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(too_long) = lines.next(&mut line).expect("reads") {
            out.push((String::from_utf8_lossy(&line).into_owned(), too_long));
        }
        out
    }

    #[test]
    fn lf_crlf_and_lone_cr_each_end_one_line_wherever_the_reads_split_them() {
        let input = b"\xEF\xBB\xBFa\r\nb\rc\n\r\n\rd";
        let expected: Vec<(String, bool)> = ["a", "b", "c", "", "", "d"]
            .iter()
            .map(|text| ((*text).to_owned(), false))
            .collect();
        for capacity in [1, 2, 3, 5, 1 << 16] {
            assert_eq!(
                lines_of(input, capacity),
                expected,
                "buffer of {capacity} bytes"
            );
        }
    }

    #[test]
    fn a_line_over_the_cap_is_flagged_and_the_next_line_is_read_whole() {
        let mut input = vec![b'x'; MAX_LINE_BYTES as usize + 1];
        input.extend_from_slice(b"\r\nnext");
        let lines = lines_of(&input, 1 << 16);
        assert_eq!(lines, [(String::new(), true), ("next".to_owned(), false)]);
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_read() {
        let input = vec![b'x'; MAX_LINE_BYTES as usize];
        let lines = lines_of(&input, 1 << 16);
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].1, "a line of exactly the cap fits");
    }

    #[test]
    fn malformed_json_is_one_error_at_the_root_with_line_and_column() {
        let registry = Registry::embedded();
        let report = evaluate(registry, "r.json".into(), b"{\n  \"a\": ,\n}", None);
        let error = only_error(&report);
        assert_eq!(error.path, "");
        assert_eq!((error.rule.as_deref(), error.code.as_deref()), (None, None));
        assert!(error.message.contains("line 2 column"), "{}", error.message);
        assert_eq!(report.model, None);
    }

    #[test]
    fn a_request_that_is_not_utf8_is_malformed_json_at_the_bad_bytes_position() {
        let registry = Registry::embedded();
        let bytes = b"{\"model\": \"Omni-Flash-Ext\",\n \"prompt\": \"a \xff fox\"}";
        let report = evaluate(registry, "r.json".into(), bytes, None);
        let error = only_error(&report);
        assert_eq!(error.path, "");
        assert_eq!(
            error.message,
            "malformed JSON: invalid unicode code point at line 2 column 15"
        );
    }

    #[test]
    fn malformed_json_keeps_the_model_flag() {
        let registry = Registry::embedded();
        let report = evaluate(registry, "r.json".into(), b"{", Some("anything"));
        assert_eq!(report.model.as_deref(), Some("anything"));
    }

    #[test]
    fn a_request_without_model_names_the_way_to_give_one() {
        let registry = Registry::embedded();
        let report = evaluate(registry, "r.json".into(), b"{\"prompt\": \"x\"}", None);
        let error = only_error(&report);
        assert_eq!(error.path, "/model");
        assert!(
            error
                .message
                .starts_with("no model: give --model ID or a \"model\" field (known: "),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_non_string_model_is_an_error_at_model() {
        let registry = Registry::embedded();
        let report = evaluate(registry, "r.json".into(), b"{\"model\": 3}", None);
        let error = only_error(&report);
        assert_eq!(error.path, "/model");
        assert!(
            error.message.contains("not an integer"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_request_naming_another_model_than_the_flag_may_fix_model_or_the_flag() {
        let registry = Registry::embedded();
        let id = registry.ids()[0].to_owned();
        let report = evaluate(
            registry,
            "r.json".into(),
            b"{\"model\": \"no-such-model-xyz\"}",
            Some(&id),
        );
        let Verdict::Invalid(diagnostics) = &report.verdict else {
            panic!("expected an invalid report");
        };
        let at_model: Vec<&str> = diagnostics
            .errors
            .iter()
            .filter(|error| error.path == "/model")
            .map(|error| error.message.as_str())
            .collect();
        assert_eq!(
            at_model,
            [format!(
                "this request names model no-such-model-xyz but is checked as {id}; fix model \
                 or choose the model with --model"
            )]
        );
    }

    #[test]
    fn without_the_flag_a_wrong_model_gets_no_flag_hint() {
        let registry = Registry::embedded();
        let report = evaluate(registry, "r.json".into(), b"{\"model\": \"x\"}", None);
        assert!(
            !only_error(&report).message.contains("--model"),
            "{}",
            only_error(&report).message
        );
    }

    #[test]
    fn an_unknown_model_is_an_error_at_model_listing_known_ids() {
        let registry = Registry::embedded();
        let report = evaluate(registry, "r.json".into(), b"{}", Some("no-such-model-xyz"));
        let error = only_error(&report);
        assert_eq!(error.path, "/model");
        assert!(error.message.contains("\"no-such-model-xyz\""));
        assert!(error.message.contains("(known: "));
    }
}
