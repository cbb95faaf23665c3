//! The exact bytes of the result object `check --format json` and
//! `check --batch` print: a contract other programs read, pinned here byte
//! for byte (key order, string escaping, number formatting, the newline) for
//! one valid and one invalid request.
//!
//! Owns only that pin; the object's keys and meaning are tested in `cli.rs`.
//! It must not depend on any model but `Omni-Flash-Ext`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// A valid request whose prompt holds every kind of character a JSON writer
/// treats differently: quotes and a backslash (escaped), a tab and a control
/// character (escaped as `\t` and `\u0001`), non-ASCII letters, U+2028 and an
/// emoji written as a surrogate pair (all three written as UTF-8, not
/// escaped) and `</` (not escaped). `size` is an alias, `4K` is lower-cased
/// and `duration` is left to its default, so body and effective differ.
const VALID: &str = r#"{"model":"Omni-Flash-Ext","prompt":"a \"red\" fox\\in\tthe\u0001snow \u00fc \u2028 \ud83c\udfac </x>","resolution":"4K","size":"21:9","image_urls":["https://example.com/a.png?x=1&y=\u00e9"]}"#;

/// An invalid request: two errors, one with an upstream code and one
/// without, one of whose messages quotes a value holding `"` and `\`.
const INVALID: &str = r#"{"model":"Omni-Flash-Ext","prompt":"a fox","resolution":"4K","duration":7,"aspect_ratio":"9:1\"6"}"#;

/// The prompt of `VALID` as the result object writes it.
fn prompt_as_written() -> String {
    format!(
        r#""a \"red\" fox\\in\tthe\u0001snow ü {} 🎬 </x>""#,
        '\u{2028}'
    )
}

fn valid_line() -> String {
    let prompt = prompt_as_written();
    format!(
        concat!(
            r#"{{"valid":true,"model":"Omni-Flash-Ext","mode":"image_to_video","#,
            r#""body":{{"aspect_ratio":"21:9","image_urls":["https://example.com/a.png?x=1&y=é"],"model":"Omni-Flash-Ext","prompt":{prompt},"resolution":"4k"}},"#,
            r#""effective":{{"aspect_ratio":"21:9","duration":6,"image_urls":["https://example.com/a.png?x=1&y=é"],"model":"Omni-Flash-Ext","prompt":{prompt},"resolution":"4k"}},"#,
            r#""warnings":[{{"path":"/resolution","message":"4K is sent as 4k"}},"#,
            r#"{{"path":"/size","message":"size is an alias of aspect_ratio; sent as aspect_ratio"}},"#,
            r#"{{"path":"/size","message":"21:9 is not one of the usual values of aspect_ratio (16:9, 9:16); the gateway may reject it"}}],"#,
            r#""errors":[],"billing":{{"key":"Omni-Flash-Ext@4k/6s","multiplier":1}}}}"#,
            "\n"
        ),
        prompt = prompt
    )
}

fn invalid_line() -> String {
    concat!(
        r#"{"valid":false,"model":"Omni-Flash-Ext","mode":null,"body":null,"effective":null,"warnings":[],"#,
        r#""errors":[{"path":"/aspect_ratio","rule":"O5","code":null,"message":"\"9:1\\\"6\" does not match the pattern ^[0-9]+:[0-9]+$; write it as width:height, such as 16:9 or 9:16"},"#,
        r#"{"path":"/duration","rule":"O3","code":"invalid_duration","message":"7 is not allowed for Omni-Flash-Ext; use one of 4, 6, 8, 10"}],"#,
        r#""billing":null}"#,
        "\n"
    )
    .to_owned()
}

fn vidspec_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vidspec");
    let mut pipe = child.stdin.take().expect("a stdin pipe");
    let input = stdin.to_owned();
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for vidspec");
    writer
        .join()
        .expect("the stdin writer")
        .expect("write stdin");
    output
}

fn stdout_text(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("the result is UTF-8")
}

#[test]
fn check_format_json_prints_the_valid_result_line_byte_for_byte() {
    let output = vidspec_with_stdin(&["check", "--format", "json", "-"], VALID);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_text(&output), valid_line());
}

#[test]
fn check_format_json_prints_the_invalid_result_line_byte_for_byte() {
    let output = vidspec_with_stdin(&["check", "--format", "json", "-"], INVALID);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout_text(&output), invalid_line());
}

#[test]
fn check_batch_prints_the_same_result_lines_byte_for_byte_in_input_order() {
    let input = format!("{VALID}\n{INVALID}\n{VALID}\n");
    let expected = format!("{}{}{}", valid_line(), invalid_line(), valid_line());
    for jobs in ["1", "2"] {
        let output = vidspec_with_stdin(&["check", "--batch", "--jobs", jobs, "-"], &input);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert_eq!(stdout_text(&output), expected, "--jobs {jobs}");
    }
}
