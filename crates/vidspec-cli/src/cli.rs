//! The command-line surface: clap types for every subcommand, their flags and
//! their `--help` text (with an example and the exit codes of each command).
//!
//! This module only describes arguments. It must not read files, load specs or
//! print anything; `main` dispatches the parsed [`Cli`] to the command modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes of `check` and `explain`, as help text (a literal, for `concat!`).
macro_rules! request_exit_codes {
    () => {
        "Exit codes:\n  \
         0  the request is valid\n  \
         1  the request is invalid: a rule is broken, the JSON is malformed, or the \
         model is missing or unknown\n  \
         2  usage error: a bad flag, an unreadable FILE, or a broken spec in --specs"
    };
}

/// Validate and explain video-generation requests against declarative model specs.
#[derive(Debug, Parser)]
#[command(name = "vidspec", version, propagate_version = true)]
#[command(
    long_about = "Validate and explain video-generation requests against declarative \
model specs before any money is spent.\n\n\
The specs built into this binary are used; --specs DIR adds spec files or replaces \
built-in families.\n\n\
Start with `vidspec models`, then `vidspec check request.json`."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the models the specs define.
    #[command(long_about = "List the models the specs define: id, family and modes \
(text: an aligned table; json: an array sorted by id, with endpoint and description).\n\n\
Example:\n  vidspec models --format json\n\n\
Exit codes:\n  \
0  listed\n  \
2  usage error, or a broken spec in --specs")]
    Models(ModelsArgs),

    /// Print the JSON Schema a model's requests are validated with.
    #[command(
        long_about = "Print the JSON Schema (draft 2020-12) a model's requests are \
validated with: the very schema `check` runs, so tools in other languages can validate \
the same way.\n\n\
Example:\n  vidspec schema MODEL > model.schema.json\n\n\
Exit codes:\n  \
0  printed\n  \
1  unknown model\n  \
2  usage error, or a broken spec in --specs"
    )]
    Schema(SchemaArgs),

    /// Check a request: valid, or every reason it is not.
    #[command(long_about = concat!(
        "Check a request JSON against its model's spec and report every problem at once, \
like a compiler: one `error: FILE: /path: message [rule, code]` line per problem, then a \
summary line. --format json prints one JSON object with the keys valid, model, mode, body, \
effective, warnings, errors and billing.\n\n\
The model comes from --model, else from the request's top-level \"model\" string. With \
--model and no \"model\" field in the request, the model is added to it.\n\n\
Examples:\n  vidspec check request.json\n  \
vidspec check --model MODEL --format json - < request.json\n\n",
        request_exit_codes!()
    ))]
    Check(RequestArgs),

    /// Show what a request would do: mode, endpoint, body, defaults, billing.
    #[command(long_about = concat!(
        "Explain a request: the model, family and mode it selects, the endpoint it is sent \
to, the exact body sent, the effective values (defaults filled in), warnings, the billing \
key and the checks left for submission time (images, referenced tasks). An invalid request \
prints its errors as `check` does. --format json prints the same object as \
`check --format json`.\n\n\
Examples:\n  vidspec explain request.json\n  \
vidspec explain --model MODEL - < request.json\n\n",
        request_exit_codes!()
    ))]
    Explain(RequestArgs),
}

/// Where the specs come from.
#[derive(Debug, Args)]
pub struct SpecsArgs {
    /// Also load every *.yaml in DIR; a family there replaces the built-in one.
    #[arg(long, value_name = "DIR")]
    pub specs: Option<PathBuf>,
}

/// Arguments of `models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The model id (see `vidspec models`).
    #[arg(value_name = "MODEL")]
    pub model: String,

    #[command(flatten)]
    pub specs: SpecsArgs,
}

/// Arguments of `check` and `explain`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The request JSON file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,

    /// The model id; without it, the request's top-level "model" string names the model.
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,

    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Output format: compiler-style text, or one JSON object on one line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
