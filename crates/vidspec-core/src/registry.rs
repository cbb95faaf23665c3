//! The registry: every model id of every spec, compiled once.
//!
//! Owns where specs come from (embedded in the binary, or a directory that adds
//! or replaces families at run time), the shared vocabulary, and the checks
//! across spec files (one model id claimed by two families). It reads files and
//! nothing else: no network.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde_json::Value;

use crate::diagnostics::{Diagnostics, Problem, SpecErrors};
use crate::lint::lint;
use crate::load::{MAX_SPEC_FILES, Source, parse_spec, parse_vocabulary, read_spec_file};
use crate::model::Model;
use crate::plan::Plan;
use crate::route::RouteError;
use crate::spec::Vocabulary;

include!(concat!(env!("OUT_DIR"), "/embedded_specs.rs"));

/// Every model the engine knows, by id.
#[derive(Debug)]
pub struct Registry {
    models: BTreeMap<String, Model>,
    vocabulary: Vocabulary,
    warnings: Vec<Problem>,
}

impl Registry {
    /// What lint found allowed but doubtful in the specs (see
    /// `lint::warnings`): each with file, line and column.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The specs built into this binary (`specs/` of the source tree),
    /// compiled on the first call and shared by every later one (a static):
    /// a second call costs a pointer read, not a compile.
    ///
    /// The embedded specs are checked by the test suite, so this cannot fail in
    /// a released build; a broken embedded spec panics with its problems.
    pub fn embedded() -> &'static Registry {
        static EMBEDDED: LazyLock<Registry> =
            LazyLock::new(
                || match Registry::from_sources(Registry::embedded_sources()) {
                    Ok(registry) => registry,
                    Err(errors) => {
                        panic!("the embedded specs are broken (run `cargo xtask check`):\n{errors}")
                    }
                },
            );
        &EMBEDDED
    }

    /// The embedded spec files (vocabulary included) as sources.
    pub fn embedded_sources() -> Vec<Source> {
        EMBEDDED_SPECS
            .iter()
            .map(|(name, text)| Source::new(*name, *text))
            .collect()
    }

    /// The embedded specs plus every `*.yaml` in `dir` and in `dir/gateways/`:
    /// a family there replaces the embedded family of the same name, a
    /// gateway file the embedded gateway of the same name; a
    /// `vocabulary.yaml` there adds modes and status spellings.
    pub fn load_dir(dir: &Path) -> Result<Registry, SpecErrors> {
        let added = read_spec_dir(dir)?;
        Registry::from_sources(with_added(Registry::embedded_sources(), added))
    }

    /// Builds a registry from spec sources; sources whose stem is `vocabulary`
    /// are vocabulary files (merged in order), sources in a `gateways` folder
    /// gateway files (`gateways/<name>.yaml`: their `endpoint:` and `task:`
    /// blocks merged into the families that name them).
    pub fn from_sources(sources: Vec<Source>) -> Result<Registry, SpecErrors> {
        Registry::build(sources).0
    }

    /// Everything lint finds in the embedded specs plus the `*.yaml` of `dir`
    /// (as [`Registry::load_dir`] reads them): every error, and the warnings
    /// of the spec files that have none, also when another file is broken.
    pub fn lint_dir(dir: &Path) -> LintReport {
        match read_spec_dir(dir) {
            Ok(added) => Registry::lint_sources(with_added(Registry::embedded_sources(), added)),
            Err(errors) => LintReport {
                errors: errors.problems,
                warnings: Vec::new(),
            },
        }
    }

    /// Everything lint finds in these sources (see [`Registry::lint_dir`]).
    pub fn lint_sources(sources: Vec<Source>) -> LintReport {
        let (result, warnings) = Registry::build(sources);
        LintReport {
            errors: result
                .err()
                .map(|errors| errors.problems)
                .unwrap_or_default(),
            warnings,
        }
    }

    /// The registry, or every problem; and the warnings of the spec files
    /// that lint passed, either way.
    fn build(sources: Vec<Source>) -> (Result<Registry, SpecErrors>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let mut vocabulary = Vocabulary {
            modes: BTreeMap::new(),
            concepts: BTreeMap::new(),
            statuses: BTreeMap::new(),
        };
        let (gateways, sources): (Vec<Source>, Vec<Source>) = sources
            .into_iter()
            .partition(crate::gateway::is_gateway_source);
        let gateways = crate::gateway::Gateways::read(&gateways, &mut problems);
        let (vocabularies, specs): (Vec<Source>, Vec<Source>) = sources
            .into_iter()
            .partition(|source| source.stem() == "vocabulary");
        for source in &vocabularies {
            match parse_vocabulary(source) {
                Ok(parsed) => {
                    problems.extend(crate::lifecycle::unknown_status_keys(source, &parsed));
                    vocabulary.modes.extend(parsed.modes);
                    vocabulary.concepts.extend(parsed.concepts);
                    for (status, spellings) in parsed.statuses {
                        vocabulary
                            .statuses
                            .entry(status)
                            .or_default()
                            .extend(spellings);
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        let mut models = BTreeMap::new();
        for source in &specs {
            let mut spec = match parse_spec(source) {
                Ok(spec) => spec,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            if let Err(unmerged) = crate::gateway::merge(&mut spec, source, &gateways) {
                problems.extend(unmerged);
                continue;
            }
            let found = lint(&spec, source, &vocabulary);
            if !found.is_empty() {
                problems.extend(found);
                continue;
            }
            warnings.extend(crate::lint::warnings(&spec, source));
            let spec_digest =
                crate::digest::spec_digest(&source.text, gateways.inherited_text(&spec));
            let spec = Arc::new(spec);
            for variant in &spec.models {
                let id = &variant.value.id;
                if let Some(owner) = owners.get(id) {
                    problems.push(Problem {
                        file: source.name.clone(),
                        line: variant.referenced.line(),
                        column: variant.referenced.column(),
                        message: format!(
                            "model id {id} is already claimed by {owner}: one spec per model id"
                        ),
                    });
                    continue;
                }
                owners.insert(id.clone(), source.name.clone());
                match Model::compile(
                    Arc::clone(&spec),
                    id,
                    source,
                    spec_digest.clone(),
                    &vocabulary,
                ) {
                    Ok(model) => {
                        models.insert(id.clone(), model);
                    }
                    Err(message) => problems.push(Problem {
                        file: source.name.clone(),
                        line: variant.referenced.line(),
                        column: variant.referenced.column(),
                        message: format!("the schema of {id} does not compile: {message}"),
                    }),
                }
            }
        }
        if problems.is_empty() {
            let registry = Registry {
                models,
                vocabulary,
                warnings: warnings.clone(),
            };
            (Ok(registry), warnings)
        } else {
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            (Err(SpecErrors { problems }), warnings)
        }
    }

    /// The model with this id.
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.get(id)
    }

    /// The model with this id, or why there is none: an unknown id, with
    /// the closest known id when one is close and the list of known ids.
    pub fn lookup(&self, id: &str) -> Result<&Model, RouteError> {
        crate::route::lookup(self, id)
    }

    /// The model a request names in its `model` string, or why it names
    /// none (not an object, no `model`, not a string, an unknown id).
    pub fn route(&self, request: &Value) -> Result<&Model, RouteError> {
        crate::route::route(self, request)
    }

    /// Routes `request` by its `model` string ([`Registry::route`]) and
    /// prepares it with that model ([`Model::prepare`]): the plan, or every
    /// reason there is none. A request that names no known model is one
    /// error at `/model` (at the root when it is not a JSON object).
    ///
    /// ```
    /// use serde_json::json;
    /// use vidspec_core::Registry;
    ///
    /// let registry = Registry::embedded();
    /// let plan = registry
    ///     .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a red fox"}))
    ///     .expect("a valid request");
    /// assert_eq!(plan.mode(), "text_to_video");
    ///
    /// let refused = registry
    ///     .prepare(json!({"model": "omni-flash-ext", "prompt": "a red fox"}))
    ///     .unwrap_err();
    /// assert_eq!(refused.errors[0].path, "/model");
    /// assert!(refused.errors[0].message.contains("did you mean \"Omni-Flash-Ext\"?"));
    /// ```
    pub fn prepare(&self, request: Value) -> Result<Plan, Diagnostics> {
        self.route(&request)?.prepare(request)
    }

    /// The first model its spec lists of `family` (what a request of that
    /// family naming no model, or a wrong one, is checked against).
    pub fn first_of_family(&self, family: &str) -> Option<&Model> {
        self.models()
            .filter(|model| model.family() == family)
            .min_by_key(|model| {
                model
                    .spec()
                    .models
                    .iter()
                    .position(|variant| variant.value.id == model.id())
            })
    }

    /// Every model, sorted by id.
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.models.values()
    }

    /// The model ids, sorted.
    pub fn ids(&self) -> Vec<&str> {
        self.models.keys().map(String::as_str).collect()
    }

    /// One task section that reads the answers of every model: each model's
    /// pointers and status spellings, merged in id order. For a task id whose
    /// model is not known (`vidspec status TASK_ID`). `None` without models.
    pub fn merged_task(&self) -> Option<crate::spec::Task> {
        let mut models = self.models.values();
        let mut merged = (**models.next()?.task()).clone();
        fn extend(into: &mut Vec<String>, from: &[String]) {
            for item in from {
                if !into.contains(item) {
                    into.push(item.clone());
                }
            }
        }
        for model in models {
            let task = model.task();
            extend(&mut merged.submit_task_id, &task.submit_task_id);
            let (into, from) = (&mut merged.read, &task.read);
            extend(&mut into.status, &from.status);
            extend(&mut into.progress, &from.progress);
            extend(&mut into.cost, &from.cost);
            extend(&mut into.estimated_time, &from.estimated_time);
            extend(&mut into.actual_time, &from.actual_time);
            extend(&mut into.error_code, &from.error_code);
            extend(&mut into.error_message, &from.error_message);
            for (name, pointers) in &from.extras {
                extend(into.extras.entry(name.clone()).or_default(), pointers);
            }
            for video in &from.videos {
                if !into.videos.contains(video) {
                    into.videos.push(video.clone());
                }
            }
            for (status, spellings) in &task.statuses {
                extend(
                    merged.statuses.entry(status.clone()).or_default(),
                    spellings,
                );
            }
        }
        Some(merged)
    }

    /// The shared vocabulary (modes, status spellings).
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }
}

/// Everything lint found in a spec set: what `vidspec lint` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Problems that stop the specs from loading, sorted by file and position.
    pub errors: Vec<Problem>,
    /// What is allowed but doubtful (`lint::warnings`), file by file.
    pub warnings: Vec<Problem>,
}

/// `sources` with `added` put in: a family there replaces the one of the same
/// stem, a gateway file the gateway of the same name; vocabulary files are all
/// kept (merged in order).
fn with_added(mut sources: Vec<Source>, added: Vec<Source>) -> Vec<Source> {
    for source in added {
        let gateway = crate::gateway::is_gateway_source(&source);
        sources.retain(|existing| {
            existing.stem() != source.stem()
                || crate::gateway::is_gateway_source(existing) != gateway
                || source.stem() == "vocabulary"
        });
        sources.push(source);
    }
    sources
}

/// The YAML files of `dir` and of `dir/gateways/`, read.
fn read_spec_dir(dir: &Path) -> Result<Vec<Source>, SpecErrors> {
    let mut added = read_dir(dir, 0)?;
    let gateways = dir.join(crate::gateway::GATEWAYS_FOLDER);
    if gateways.is_dir() {
        added.extend(read_dir(&gateways, added.len())?);
    }
    Ok(added)
}

/// The YAML files of `dir` (not of its subfolders), read; `already` files
/// count against `MAX_SPEC_FILES` too.
fn read_dir(dir: &Path, already: usize) -> Result<Vec<Source>, SpecErrors> {
    let fail = |message: String| SpecErrors {
        problems: vec![Problem {
            file: dir.display().to_string(),
            line: 0,
            column: 0,
            message,
        }],
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|error| fail(format!("cannot read the spec directory: {error}")))?;
    let mut paths = Vec::new();
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if !path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            continue;
        }
        if already + paths.len() >= MAX_SPEC_FILES {
            return Err(fail(format!(
                "the spec directory holds more than {MAX_SPEC_FILES} YAML files; \
                 give a directory holding only the families to add or replace"
            )));
        }
        paths.push(path);
    }
    paths.sort();
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match read_spec_file(&path) {
            Ok(source) => sources.push(source),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(SpecErrors { problems })
    }
}

/// A registry to hold for a long time or share between tasks: the embedded
/// one ([`Registry::embedded`], built once) or one built at run time (from
/// a directory of specs). Reads as a [`Registry`]; cheap to clone.
#[derive(Debug, Clone)]
pub enum SharedRegistry {
    /// The embedded specs, built once for the process.
    Embedded(&'static Registry),
    /// A registry built at run time.
    Built(std::sync::Arc<Registry>),
}

impl std::ops::Deref for SharedRegistry {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        match self {
            SharedRegistry::Embedded(registry) => registry,
            SharedRegistry::Built(registry) => registry,
        }
    }
}

impl From<&'static Registry> for SharedRegistry {
    fn from(registry: &'static Registry) -> SharedRegistry {
        SharedRegistry::Embedded(registry)
    }
}

impl From<Registry> for SharedRegistry {
    fn from(registry: Registry) -> SharedRegistry {
        SharedRegistry::Built(std::sync::Arc::new(registry))
    }
}

impl From<std::sync::Arc<Registry>> for SharedRegistry {
    fn from(registry: std::sync::Arc<Registry>) -> SharedRegistry {
        SharedRegistry::Built(registry)
    }
}
