//! Shared gateway blocks: a family's `endpoint:` and `task:` merged at load
//! time from the gateway file it names (`gateway: apimart` reads
//! `gateways/apimart.yaml` beside the specs) and the keys it writes itself.
//!
//! Owns which source is a gateway file, reading one, and the merge: a key the
//! spec writes under `endpoint:` or `task:` replaces the gateway's whole (a
//! spec's `poll:` replaces the gateway's `poll:`; nothing deeper is merged).
//! Every problem points at the spec line that caused it (the `gateway:` line,
//! or the family line when no gateway is named) or at the gateway file's own
//! line for a key it does not know. It must not judge the merged values
//! (paths, pointers, statuses): `lint` does that on the merged spec.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostics::Problem;
use crate::load::{Source, parse_gateway};
use crate::spec::{Endpoint, EndpointKeys, Gateway, Spec, Task, TaskKeys};

/// The folder beside the spec files that holds the gateway files.
pub const GATEWAYS_FOLDER: &str = "gateways";

/// Whether `source` is a gateway file: a YAML file in a `gateways` folder.
pub fn is_gateway_source(source: &Source) -> bool {
    Path::new(&source.name)
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|folder| folder == GATEWAYS_FOLDER)
}

/// The gateway files that were read, by name (file stem); a file that could
/// not be read is known by name, so a spec naming it is not also told that
/// the gateway does not exist.
#[derive(Debug, Default)]
pub struct Gateways {
    /// By name: the file's name, its text (for the spec digest) and what it says.
    read: BTreeMap<String, (String, String, Gateway)>,
    broken: Vec<String>,
}

impl Gateways {
    /// Reads every gateway source; problems (unknown keys, YAML errors) are
    /// pushed to `problems` with the gateway file's line and column.
    pub fn read(sources: &[Source], problems: &mut Vec<Problem>) -> Gateways {
        let mut gateways = Gateways::default();
        for source in sources {
            let name = source.stem().to_owned();
            match parse_gateway(source) {
                Ok(gateway) => {
                    gateways
                        .read
                        .insert(name, (source.name.clone(), source.text.clone(), gateway));
                }
                Err(problem) => {
                    problems.push(problem);
                    gateways.broken.push(name);
                }
            }
        }
        gateways
    }

    /// The text of the gateway file `spec` names, if it names one that was
    /// read: part of the spec's digest (`digest::spec_digest`).
    pub fn inherited_text(&self, spec: &Spec) -> Option<&str> {
        let name = &spec.gateway.as_ref()?.value;
        self.read.get(name).map(|(_, text, _)| text.as_str())
    }
}

/// Merges the gateway's blocks and the spec's own keys into `spec.endpoint`
/// and `spec.task`. The error holds the problems, each at the spec line that
/// caused it; it is empty when the named gateway file is itself broken (its
/// own problems are reported where they are, and the spec is not merged).
pub fn merge(spec: &mut Spec, source: &Source, gateways: &Gateways) -> Result<(), Vec<Problem>> {
    let at_line = |line: u64, column: u64, message: String| Problem {
        file: source.name.clone(),
        line,
        column,
        message,
    };
    let mut problems = Vec::new();
    let (inherited, origin) = match &spec.gateway {
        None => (None, None),
        Some(named) => {
            let name = &named.value;
            let (line, column) = (named.referenced.line(), named.referenced.column());
            if gateways.broken.contains(name) {
                return Err(problems);
            }
            match gateways.read.get(name) {
                Some((file, _, gateway)) => (Some(gateway), Some((name.as_str(), file.as_str()))),
                None => {
                    let known: Vec<&String> = gateways.read.keys().collect();
                    let hint = match crate::suggest::did_you_mean(name, &known) {
                        Some(close) => format!("did you mean {close}? "),
                        None => String::new(),
                    };
                    let list = if known.is_empty() {
                        "there are none".to_owned()
                    } else {
                        format!(
                            "known: {}",
                            known
                                .iter()
                                .map(|name| name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    problems.push(at_line(
                        line,
                        column,
                        format!(
                            "gateway {name:?} is unknown ({list}): {hint}name a file of {GATEWAYS_FOLDER}/ beside the specs by its stem, or write endpoint: and task: in the spec"
                        ),
                    ));
                    return Err(problems);
                }
            }
        }
    };
    let (line, column) = match &spec.gateway {
        Some(named) => (named.referenced.line(), named.referenced.column()),
        None => (
            spec.family.referenced.line(),
            spec.family.referenced.column(),
        ),
    };
    let mut missing = |key: &str, add: &str| {
        let whence = match origin {
            Some((name, file)) => format!("neither this spec nor gateway {name} ({file}) gives it"),
            None => "this spec names no gateway and does not give it".to_owned(),
        };
        problems.push(at_line(
            line,
            column,
            format!("{key} is missing after merging: {whence}; add {add}"),
        ));
    };
    let own = spec.endpoint_keys.clone().unwrap_or_default();
    let shared = inherited
        .and_then(|gateway| gateway.endpoint.clone())
        .unwrap_or_default();
    let endpoint = EndpointKeys {
        method: own.method.or(shared.method),
        path: own.path.or(shared.path),
        model_field: own.model_field.or(shared.model_field),
        idempotency: own.idempotency.or(shared.idempotency),
        webhook: own.webhook.or(shared.webhook),
    };
    match endpoint.path {
        Some(path) => {
            spec.endpoint = Endpoint {
                method: endpoint.method.unwrap_or_else(|| "POST".to_owned()),
                path,
                model_field: endpoint.model_field.unwrap_or(true),
                idempotency: endpoint.idempotency,
                webhook: endpoint.webhook,
            };
        }
        None => missing("endpoint.path", "`path:` under `endpoint:`"),
    }
    let own = spec.task_keys.clone().unwrap_or_default();
    let shared = inherited
        .and_then(|gateway| gateway.task.clone())
        .unwrap_or_default();
    let task = TaskKeys {
        submit_task_id: own.submit_task_id.or(shared.submit_task_id),
        poll_path: own.poll_path.or(shared.poll_path),
        poll: own.poll.or(shared.poll),
        read: own.read.or(shared.read),
        statuses: own.statuses.or(shared.statuses),
    };
    let statuses = task.statuses.unwrap_or_default();
    match (task.submit_task_id, task.poll_path, task.poll, task.read) {
        (Some(submit_task_id), Some(poll_path), Some(poll), Some(read)) => {
            spec.task = Task {
                submit_task_id,
                poll_path,
                poll,
                read,
                statuses,
            };
        }
        (submit_task_id, poll_path, poll, read) => {
            for (key, absent) in [
                ("submit_task_id", submit_task_id.is_none()),
                ("poll_path", poll_path.is_none()),
                ("poll", poll.is_none()),
                ("read", read.is_none()),
            ] {
                if absent {
                    missing(&format!("task.{key}"), &format!("`{key}:` under `task:`"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
