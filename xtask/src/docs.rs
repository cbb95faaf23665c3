//! Owns the rendering of `docs/models.md`: the capability matrix (models ×
//! vocabulary modes) and, per family and model, what the spec says: mode
//! selection, rules, derived values, endpoint, billing, poll hints, every
//! request field and every image input.
//!
//! Rendering is generic: it reads the registry and the spec language's own
//! keys (`enum`, `min`/`max`, `schemes`, `count_in`, …) and never names a
//! request field of any model. `codegen.rs` decides where the text goes.

use std::collections::BTreeMap;

use serde_json::{Number, Value};
use vidspec_core::construct;
use vidspec_core::spec::{
    Bounds, Condition, Field, FieldType, ImageConstraints, Override, Severity, Spec,
};
use vidspec_core::words::{Style, action_words, condition_words, show};
use vidspec_core::{Model, Registry};

use crate::codegen::HEADER;

/// The whole of `docs/models.md`.
pub fn models_markdown(registry: &Registry) -> String {
    let mut doc = Doc::default();
    doc.line(format!("<!-- {HEADER} -->"));
    doc.line("# Models");
    doc.blank();
    doc.line(
        "Every model id the engine knows, generated from the specs in `specs/`. \
         The request schema of a model is `schemas/models/<model>.json`; \
         the spec format is `schemas/spec.schema.json`.",
    );
    doc.blank();

    let mut families: BTreeMap<&str, Vec<&Model>> = BTreeMap::new();
    for model in registry.models() {
        families.entry(model.family()).or_default().push(model);
    }

    modes_matrix(&mut doc, registry, &families);
    capability_matrix(&mut doc, registry, &families);
    for models in families.values() {
        family_section(&mut doc, models);
    }
    doc.finish()
}

/// `## Modes`: the vocabulary, then one row per model with a ✓ per mode served.
fn modes_matrix(doc: &mut Doc, registry: &Registry, families: &BTreeMap<&str, Vec<&Model>>) {
    let vocabulary = registry.vocabulary();
    let mut modes: Vec<&str> = vocabulary.modes.keys().map(String::as_str).collect();
    for model in families.values().flatten() {
        for mode in model.modes() {
            if !modes.contains(&mode) {
                modes.push(mode);
            }
        }
    }

    doc.line("## Modes");
    doc.blank();
    doc.line("Mode names come from the shared vocabulary (`specs/vocabulary.yaml`):");
    doc.blank();
    for mode in &modes {
        match vocabulary.modes.get(*mode) {
            Some(description) => doc.line(format!("- {}: {}", code(mode), description.trim())),
            None => doc.line(format!("- {}: (not in the vocabulary)", code(mode))),
        }
    }
    doc.blank();
    doc.line("Which modes each model serves (✓):");
    doc.blank();

    let mut headers = vec!["Model".to_owned(), "Family".to_owned()];
    headers.extend(modes.iter().map(|mode| code(mode)));
    let rows = families
        .values()
        .flatten()
        .map(|model| {
            let served = model.modes();
            let mut row = vec![code(model.id()), code(model.family())];
            row.extend(modes.iter().map(|mode| {
                if served.contains(mode) {
                    "✓".to_owned()
                } else {
                    String::new()
                }
            }));
            row
        })
        .collect();
    doc.table(&headers, rows);
}

/// The concepts shown as columns of the capability matrix, in order.
const MATRIX_CONCEPTS: [&str; 4] = ["duration", "resolution", "aspect_ratio", "audio"];

/// `## Capabilities`: models × the main vocabulary concepts, plus image inputs.
/// Columns come from the vocabulary's concepts and each field's `concept:`,
/// never from field names.
fn capability_matrix(doc: &mut Doc, registry: &Registry, families: &BTreeMap<&str, Vec<&Model>>) {
    let concepts: Vec<&str> = MATRIX_CONCEPTS
        .iter()
        .copied()
        .filter(|concept| registry.vocabulary().concepts.contains_key(*concept))
        .collect();
    doc.line("## Capabilities");
    doc.blank();
    doc.line(
        "Allowed values per model, read through each field's `concept:` \
         (the field's own name in parentheses when it differs); the default in bold. \
         Image inputs are every URL field, with its item counts.",
    );
    doc.blank();
    let mut headers = vec!["Model".to_owned()];
    headers.extend(concepts.iter().map(|concept| code(concept)));
    headers.push("Image inputs".to_owned());
    let rows = families
        .values()
        .flatten()
        .map(|model| {
            let mut row = vec![code(model.id())];
            for concept in &concepts {
                row.push(match model.concept_field(concept) {
                    Some((name, field)) => {
                        let mut words = allowed_values(field);
                        if name != *concept {
                            words = format!("{words} ({})", code(name));
                        }
                        words
                    }
                    None => "—".to_owned(),
                });
            }
            let inputs: Vec<String> = model
                .fields()
                .iter()
                .filter_map(|(name, field)| {
                    let url_items = field
                        .items
                        .as_ref()
                        .is_some_and(|items| items.value.kind == FieldType::Url);
                    if field.kind == FieldType::Url {
                        Some(code(name))
                    } else if url_items {
                        let counts = count_words(
                            field.count_in.as_deref(),
                            field.min_items,
                            field.max_items,
                        );
                        Some(format!(
                            "{} ({})",
                            code(name),
                            if counts.is_empty() {
                                "any count".to_owned()
                            } else {
                                counts.join(", ")
                            }
                        ))
                    } else {
                        None
                    }
                })
                .collect();
            row.push(if inputs.is_empty() {
                "—".to_owned()
            } else {
                inputs.join(", ")
            });
            row
        })
        .collect();
    doc.table(&headers, rows);
}

/// A field's allowed values in a few words, the default in bold.
fn allowed_values(field: &Field) -> String {
    let default = field.default.as_ref().map(|default| default.value.clone());
    let mark = |value: &Value| {
        if Some(value) == default.as_ref() {
            format!("**{}**", show(value))
        } else {
            show(value)
        }
    };
    let mut words = if let Some(values) = &field.values {
        let listed = values.iter().map(mark).collect::<Vec<_>>().join(", ");
        if field.open {
            format!("{listed}, …")
        } else {
            listed
        }
    } else if field.kind == FieldType::Boolean {
        [Value::Bool(true), Value::Bool(false)]
            .iter()
            .map(mark)
            .collect::<Vec<_>>()
            .join(", ")
    } else if let Some(range) = range_words(field.min.as_ref(), field.max.as_ref()) {
        let default_words = default
            .as_ref()
            .map(|value| format!(" (**{}**)", show(value)))
            .unwrap_or_default();
        format!("{range}{default_words}")
    } else {
        "any".to_owned()
    };
    if !field.also.is_empty() {
        words.push_str(&format!(
            " or {}",
            field
                .also
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    words
}

/// `## <family>`: what the family's spec says once, then each model.
fn family_section(doc: &mut Doc, models: &[&Model]) {
    let Some(first) = models.first() else {
        return;
    };
    let spec = first.spec();
    doc.line(format!("## {}", code(first.family())));
    doc.blank();
    if !first.description().is_empty() {
        doc.line(
            first
                .description()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        doc.blank();
    }
    let ids: Vec<String> = models.iter().map(|model| code(model.id())).collect();
    doc.line(format!(
        "Spec: {}. Models: {}.",
        code(first.source()),
        ids.join(", ")
    ));
    doc.blank();

    mode_selection(doc, spec);
    rules(doc, spec);
    derived_values(doc, spec);
    for model in models {
        model_section(doc, model);
    }
}

fn mode_selection(doc: &mut Doc, spec: &Spec) {
    if spec.modes.is_empty() {
        return;
    }
    doc.line("### Mode selection");
    doc.blank();
    doc.line("The first mode whose condition holds wins.");
    doc.blank();
    let rows = spec
        .modes
        .iter()
        .enumerate()
        .map(|(index, mode)| {
            let mode = &mode.value;
            vec![
                (index + 1).to_string(),
                code(&mode.name),
                mode.when
                    .as_ref()
                    .map(|when| format!("when {}", condition(when)))
                    .unwrap_or_else(|| "otherwise".to_owned()),
                codes(&mode.ignores),
                mode.rule.clone().unwrap_or_default(),
                mode.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    doc.table(
        &["#", "Mode", "Selected", "Ignores", "Rule", "Description"],
        rows,
    );
}

fn rules(doc: &mut Doc, spec: &Spec) {
    if spec.rules.is_empty() {
        return;
    }
    doc.line("### Rules");
    doc.blank();
    let rows = spec
        .rules
        .iter()
        .map(|rule| {
            let rule = &rule.value;
            vec![
                rule.rule.clone(),
                rule.when
                    .as_ref()
                    .map(condition)
                    .unwrap_or_else(|| "always".to_owned()),
                action(&rule.then),
                match rule.severity {
                    Severity::Error => "error".to_owned(),
                    Severity::Warning => "warning".to_owned(),
                },
                rule.error_code.as_deref().map(code).unwrap_or_default(),
                rule.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    doc.table(
        &["Rule", "When", "Then", "Severity", "Code", "Message"],
        rows,
    );
}

fn derived_values(doc: &mut Doc, spec: &Spec) {
    if spec.derive.is_empty() {
        return;
    }
    doc.line("### Derived values");
    doc.blank();
    let rows = spec
        .derive
        .iter()
        .map(|derive| {
            let derive = &derive.value;
            let mapping: Vec<String> = derive
                .map
                .iter()
                .map(|(from, to)| format!("{} → {}", code(from), value(to)))
                .collect();
            vec![
                derive.rule.clone(),
                condition(&derive.when),
                code(&derive.field),
                mapping.join(", "),
            ]
        })
        .collect();
    doc.table(&["Rule", "When", "Field", "Mapping"], rows);
}

/// `### <model>`: overview, fields, image inputs.
fn model_section(doc: &mut Doc, model: &Model) {
    let spec = model.spec();
    doc.line(format!("### {}", code(model.id())));
    doc.blank();

    let mut overview: Vec<Vec<String>> = Vec::new();
    let variant = spec
        .models
        .iter()
        .map(|variant| &variant.value)
        .find(|variant| variant.id == model.id());
    if let Some(description) = variant.and_then(|variant| variant.description.as_deref()) {
        overview.push(vec!["About".into(), description.trim().to_owned()]);
    }
    overview.push(vec!["Family".into(), code(model.family())]);
    let endpoint = model.endpoint();
    let model_key = if spec.endpoint.model_field {
        "the body carries `model`"
    } else {
        "`model` only selects the model and is not sent"
    };
    overview.push(vec![
        "Endpoint".into(),
        format!(
            "{} ({model_key})",
            code(&format!("{} {}", endpoint.method, endpoint.path))
        ),
    ]);
    let modes: Vec<String> = model.modes().iter().map(|mode| code(mode)).collect();
    overview.push(vec![
        "Modes".into(),
        format!("{} (in priority order)", modes.join(", ")),
    ]);
    if let Some(variant) = variant.filter(|variant| !variant.overrides.is_empty()) {
        let overrides: Vec<String> = variant
            .overrides
            .iter()
            .map(|(field, constraints)| {
                format!(
                    "{}: {}",
                    code(field),
                    constraint_words(constraints).join("; ")
                )
            })
            .collect();
        overview.push(vec!["Overrides".into(), overrides.join("; ")]);
    }
    let billing = &spec.billing.value;
    overview.push(vec![
        "Billing key".into(),
        with_rule(code(&billing.key), billing.rule.as_deref()),
    ]);
    if !billing.cases.is_empty() {
        let cases: Vec<String> = billing
            .cases
            .iter()
            .map(|case| format!("{} when {}", code(&case.key), condition(&case.when)))
            .collect();
        overview.push(vec!["Billing cases".into(), cases.join("; ")]);
    }
    overview.push(vec![
        "Billing dimensions".into(),
        codes(&billing.dimensions),
    ]);
    overview.push(vec![
        "Billing multiplier".into(),
        billing
            .multiplier
            .as_deref()
            .map(|field| format!("× the value of {}", code(field)))
            .unwrap_or_else(|| "none (× 1)".to_owned()),
    ]);
    let task = model.task();
    let poll = &task.poll;
    overview.push(vec![
        "Poll hints".into(),
        with_rule(
            format!(
                "first poll after {} s, then every {} s; typically done in {} s; give up after {} s",
                poll.first_after_s, poll.every_s, poll.typical_s, poll.timeout_s
            ),
            poll.rule.as_deref(),
        ),
    ]);
    overview.push(vec!["Poll path".into(), code(&task.poll_path)]);
    if !task.statuses.is_empty() {
        let statuses: Vec<String> = task
            .statuses
            .iter()
            .map(|(status, spellings)| format!("{}: {}", code(status), codes(spellings)))
            .collect();
        overview.push(vec!["Extra status spellings".into(), statuses.join("; ")]);
    }
    doc.table(&["Property", "Value"], overview);

    let mut rows = Vec::new();
    for (name, field) in model.fields() {
        field_rows(name, field, &mut rows);
    }
    doc.line("#### Fields");
    doc.blank();
    doc.table(
        &[
            "Field",
            "Type",
            "Required",
            "Allowed",
            "Default",
            "Rule",
            "Description",
        ],
        rows.iter().map(FieldRow::cells).collect(),
    );

    let images: Vec<Vec<String>> = rows.iter().filter_map(FieldRow::image_cells).collect();
    doc.line("#### Image inputs");
    doc.blank();
    if images.is_empty() {
        doc.line("None.");
        doc.blank();
    } else {
        doc.table(
            &["Field", "Count", "Schemes", "Image constraints", "Rule"],
            images,
        );
    }
}

/// One request field (or nested key) as documented.
struct FieldRow<'a> {
    path: String,
    field: &'a Field,
}

/// The field and the keys nested in it (`a.b` for object keys, `a[].b` for keys
/// of object items), in order.
fn field_rows<'a>(path: &str, field: &'a Field, out: &mut Vec<FieldRow<'a>>) {
    out.push(FieldRow {
        path: path.to_owned(),
        field,
    });
    for (key, inner) in &field.fields {
        field_rows(&format!("{path}.{key}"), &inner.value, out);
    }
    if let Some(items) = &field.items {
        for (key, inner) in &items.value.fields {
            field_rows(&format!("{path}[].{key}"), &inner.value, out);
        }
    }
}

impl FieldRow<'_> {
    fn cells(&self) -> Vec<String> {
        let field = self.field;
        let mut name = code(&self.path);
        if let Some(alias) = &field.alias {
            name.push_str(&format!(" (alias {})", code(alias)));
        }
        let mut allowed = field_constraints(field);
        if let Some(items) = &field.items {
            let inner = field_constraints(&items.value);
            if !inner.is_empty() {
                allowed.push(format!("each item: {}", inner.join(", ")));
            }
        }
        let mut description: Vec<String> = field
            .description
            .iter()
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if let Some(hint) = &field.hint {
            description.push(format!("Hint: {}", hint.trim()));
        }
        if let Some(task) = &field.refers_to_task {
            let models = if task.models.is_empty() {
                "any model".to_owned()
            } else {
                codes(&task.models)
            };
            let what = task
                .description
                .as_deref()
                .map(|text| format!(" ({text})"))
                .unwrap_or_default();
            description.push(with_rule(
                format!(
                    "names a task of {models} with status {}{what}; checked before submitting",
                    code(&task.status)
                ),
                task.rule.as_deref(),
            ));
        }
        if self.image().is_some() {
            description.push("see image inputs".to_owned());
        }
        vec![
            name,
            type_words(field),
            if field.required {
                "yes".into()
            } else {
                String::new()
            },
            allowed.join("; "),
            field
                .default
                .as_ref()
                .map(|default| value(&default.value))
                .unwrap_or_default(),
            with_code(
                field.rule.clone().unwrap_or_default(),
                field.error_code.as_deref(),
            ),
            description.join(" "),
        ]
    }

    /// The URL field itself, or the URL items of an array field.
    fn image(&self) -> Option<&Field> {
        match self.field.kind {
            FieldType::Url => Some(self.field),
            FieldType::Array => self
                .field
                .items
                .as_ref()
                .map(|items| &items.value)
                .filter(|items| items.kind == FieldType::Url),
            _ => None,
        }
    }

    fn image_cells(&self) -> Option<Vec<String>> {
        let url = self.image()?;
        let field = self.field;
        let count = if field.kind == FieldType::Url {
            let count = if field.required { "1" } else { "0 or 1" };
            if self.path.contains("[].") {
                format!("{count} per item of the enclosing array")
            } else {
                count.to_owned()
            }
        } else {
            let mut words =
                count_words(field.count_in.as_deref(), field.min_items, field.max_items);
            if words.is_empty() {
                words.push("any number".to_owned());
            }
            if field.required {
                words.push("required".to_owned());
            }
            if field.only_first {
                words.push("only the first is used".to_owned());
            }
            words.join("; ")
        };
        let schemes: Vec<String> = url
            .schemes
            .iter()
            .map(|scheme| kebab_case(&format!("{scheme:?}")))
            .collect();
        let constraints = url.image.as_ref().or(field.image.as_ref());
        Some(vec![
            code(&self.path),
            count,
            if schemes.is_empty() {
                "any".to_owned()
            } else {
                codes(&schemes)
            },
            constraints.map(image_words).unwrap_or_default(),
            with_code(
                field
                    .rule
                    .clone()
                    .or_else(|| constraints.and_then(|image| image.rule.clone()))
                    .unwrap_or_default(),
                field.error_code.as_deref(),
            ),
        ])
    }
}

/// `string`, `array of url`, `array of object`.
fn type_words(field: &Field) -> String {
    let kind = snake_case(&format!("{:?}", field.kind));
    match &field.items {
        Some(items) if field.kind == FieldType::Array => {
            format!("{kind} of {}", type_words(&items.value))
        }
        _ => kind,
    }
}

/// Everything a field's own keys constrain, in words.
fn field_constraints(field: &Field) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = &field.values {
        let listed = values.iter().map(value).collect::<Vec<_>>().join(", ");
        if field.open {
            out.push(format!("common: {listed} (others pass with a warning)"));
        } else {
            out.push(format!("one of {listed}"));
        }
    }
    if field.case_insensitive {
        out.push("any case (sent in the canonical spelling)".to_owned());
    }
    if !field.value_aliases.is_empty() {
        let aliases: Vec<String> = field
            .value_aliases
            .iter()
            .map(|(alias, target)| format!("{} = {}", code(alias), value(target)))
            .collect();
        out.push(format!("value aliases: {}", aliases.join(", ")));
    }
    if let Some(pattern) = &field.pattern {
        out.push(format!("matches {}", code(pattern)));
    }
    out.extend(range_words(field.min.as_ref(), field.max.as_ref()));
    if !field.also.is_empty() {
        let also: Vec<String> = field
            .also
            .iter()
            .map(|number| code(&number.to_string()))
            .collect();
        out.push(format!("also {}", also.join(", ")));
    }
    out.extend(length_words(field.min_length, field.max_length));
    if field.kind == FieldType::Url && !field.schemes.is_empty() {
        let schemes: Vec<String> = field
            .schemes
            .iter()
            .map(|scheme| kebab_case(&format!("{scheme:?}")))
            .collect();
        out.push(format!("schemes {}", codes(&schemes)));
    }
    let counts = count_words(field.count_in.as_deref(), field.min_items, field.max_items);
    out.extend(counts);
    if let Some(key) = &field.unique_by {
        out.push(format!("each {} value at most once", code(key)));
    }
    if field.only_first {
        out.push("only the first item is used".to_owned());
    }
    out
}

fn image_words(image: &ImageConstraints) -> String {
    let mut out = Vec::new();
    if !image.formats.is_empty() {
        out.push(format!("formats {}", image.formats.join(", ")));
    }
    match (image.min_width, image.min_height) {
        (Some(width), Some(height)) => out.push(format!("≥ {width}×{height} px")),
        (Some(width), None) => out.push(format!("width ≥ {width} px")),
        (None, Some(height)) => out.push(format!("height ≥ {height} px")),
        (None, None) => {}
    }
    match (&image.min_aspect, &image.max_aspect) {
        (Some(min), Some(max)) => out.push(format!("aspect {min} to {max}")),
        (Some(min), None) => out.push(format!("aspect ≥ {min}")),
        (None, Some(max)) => out.push(format!("aspect ≤ {max}")),
        (None, None) => {}
    }
    if let Some(bytes) = image.max_bytes {
        const MIB: u64 = 1024 * 1024;
        if bytes % MIB == 0 {
            out.push(format!("≤ {} MiB", bytes / MIB));
        } else {
            out.push(format!("≤ {bytes} bytes"));
        }
    }
    out.join("; ")
}

/// A JSON value as inline code (`""` for the empty string).
fn value(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => code("\"\""),
        other => code(&show(other)),
    }
}

/// Inline code, with a longer fence when the text holds a backtick.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn codes(items: &[String]) -> String {
    code_list(items).join(", ")
}

fn code_list(items: &[String]) -> Vec<String> {
    items.iter().map(|item| code(item)).collect()
}

fn with_rule(text: String, rule: Option<&str>) -> String {
    match rule {
        Some(rule) => format!("{text} ({rule})"),
        None => text,
    }
}

fn with_code(rule: String, error_code: Option<&str>) -> String {
    match (rule.is_empty(), error_code) {
        (_, None) => rule,
        (true, Some(error_code)) => code(error_code),
        (false, Some(error_code)) => format!("{rule} ({})", code(error_code)),
    }
}

/// `DataImage` → `data-image` (the spelling of serde's `kebab-case`).
fn kebab_case(name: &str) -> String {
    separated(name, '-')
}

/// `ImageToVideo` → `image_to_video` (serde's `snake_case`).
fn snake_case(name: &str) -> String {
    separated(name, '_')
}

fn separated(name: &str, separator: char) -> String {
    let mut out = String::new();
    for (index, character) in name.chars().enumerate() {
        if character.is_uppercase() {
            if index > 0 {
                out.push(separator);
            }
            out.extend(character.to_lowercase());
        } else {
            out.push(character);
        }
    }
    out
}

/// Markdown being written: lines, blank lines and tables.
#[derive(Default)]
struct Doc {
    text: String,
}

impl Doc {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    /// A table followed by a blank line; cells are escaped for GitHub markdown.
    fn table<S: AsRef<str>>(&mut self, headers: &[S], rows: Vec<Vec<String>>) {
        let row = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
        self.line(row(headers
            .iter()
            .map(|header| cell(header.as_ref()))
            .collect()));
        self.line(row(headers.iter().map(|_| "---".to_owned()).collect()));
        for cells in rows {
            self.line(row(cells.iter().map(|text| cell(text)).collect()));
        }
        self.blank();
    }

    /// The text with exactly one newline at the end.
    fn finish(self) -> String {
        let mut text = self.text.trim_end().to_owned();
        text.push('\n');
        text
    }
}

/// One table cell: pipes escaped, line breaks folded into spaces.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A condition in words, without a leading "when" (the core's words, as Markdown).
fn condition(condition_to_show: &Condition) -> String {
    condition_words(condition_to_show, Style::Markdown)
}

/// A rule's `then`, in words (the core's words, as Markdown).
fn action(action: &vidspec_core::spec::Action) -> String {
    action_words(action, Style::Markdown)
}

fn range_words(min: Option<&Number>, max: Option<&Number>) -> Option<String> {
    construct::range::words(min, max)
}

fn length_words(min: Option<u64>, max: Option<u64>) -> Option<String> {
    construct::length::words(min, max)
}

fn count_words(count_in: Option<&[u64]>, min: Option<u64>, max: Option<u64>) -> Vec<String> {
    let mut out: Vec<String> = count_in
        .map(construct::count_in::words)
        .into_iter()
        .collect();
    out.extend(construct::items::words(min, max));
    out
}

/// What a model's override changes, in words.
fn constraint_words(change: &Override) -> Vec<String> {
    let bounds = Bounds {
        values: change.values.clone(),
        min: change.min.clone(),
        max: change.max.clone(),
        min_length: change.min_length,
        max_length: change.max_length,
        min_items: change.min_items,
        max_items: change.max_items,
        count_in: change.count_in.clone(),
    };
    let mut out = vidspec_core::words::bounds_words(&bounds, Style::Markdown);
    if let Some(default) = &change.default {
        out.push(format!("default {}", value(default)));
    }
    out
}

#[cfg(test)]
mod tests {
    use vidspec_core::{Registry, Source};

    use super::models_markdown;

    /// A made-up family using keys the embedded specs may not: the rendering
    /// must come from the spec language, not from known field names.
    const MADE_UP: &str = r#"
family: made-up
description: A family that exists only in this test.
endpoint: {path: /v1/made-up}
models:
  - id: made-up-a
    overrides:
      length_s: {min: 4, max: 30}
  - id: made-up-b
fields:
  text:
    type: string
    required: true
  length_s:
    type: integer
    min: 4
    max: 60
    also: [-1]
    default: -1
  shape:
    type: string
    enum: ["16:9", "9:16"]
    value_aliases: {landscape: "16:9"}
  cast:
    type: array
    max_items: 3
    items:
      type: object
      fields:
        role: {type: string, enum: [lead, extra]}
        picture: {type: url, schemes: [https]}
    unique_by: role
  start_picture:
    type: url
    schemes: [https, data-image]
modes:
  - {name: image_to_video, when: {present: start_picture}}
  - {name: text_to_video}
rules:
  - rule: X1
    when: {all: [{variant: made-up-b}, {any: [{equals: {shape: "9:16"}}, {absent: cast}]}]}
    then: {forbid: [start_picture]}
billing:
  key: "{model}@{length_s}"
  multiplier: length_s
task:
  submit_task_id: [/id]
  poll_path: /v1/made-up/{task_id}
  poll: {first_after_s: 1, every_s: 2, typical_s: 3, timeout_s: 4}
  read:
    status: [/status]
    videos: [{each: /videos, url: /url}]
"#;

    const VOCABULARY: &str = r#"
modes:
  text_to_video: A prompt alone.
  image_to_video: One image.
statuses:
  succeeded: [done]
"#;

    #[test]
    fn renders_any_family_from_the_spec_language() {
        let registry = Registry::from_sources(vec![
            Source::new("specs/vocabulary.yaml", VOCABULARY),
            Source::new("specs/made-up.yaml", MADE_UP),
        ])
        .unwrap_or_else(|errors| panic!("the made-up spec must lint:\n{errors}"));
        let markdown = models_markdown(&registry);
        for expected in [
            "| `made-up-a` | `made-up` | ✓ | ✓ |",
            "## `made-up`",
            "### `made-up-a`",
            "### `made-up-b`",
            "| `length_s` | integer |  | 4 to 30; also `-1` | `-1` |",
            "| `length_s` | integer |  | 4 to 60; also `-1` | `-1` |",
            "value aliases: `landscape` = `16:9`",
            "| `cast[].role` | string |",
            "each `role` value at most once",
            "| `cast[].picture` | url |",
            "| `cast[].picture` | 0 or 1 per item of the enclosing array | `https` |",
            "| `start_picture` | 0 or 1 | `https`, `data-image` |",
            "for `made-up-b` and (`shape` is `9:16` or `cast` is not given)",
            "× the value of `length_s`",
            "first poll after 1 s, then every 2 s",
        ] {
            assert!(
                markdown.contains(expected),
                "missing {expected:?} in:\n{markdown}"
            );
        }
    }
}
