//! Semantic checks of a parsed spec: every problem at once, each with file,
//! line and column and what to do.
//!
//! Owns the rules a spec must follow beyond its syntax: names that exist,
//! defaults inside their own constraints, reachable modes, aliases that do not
//! collide, messages where a rule needs one. It must not compile or run
//! requests; checks across spec files (one model id claimed twice) live in
//! `registry`.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Location;

use crate::billing;
use crate::compile;
use crate::construct::field;
use crate::diagnostics::Problem;
use crate::field_path::{self, PathProblem};
use crate::lifecycle::Lifecycle;
use crate::load::Source;
use crate::model::build_validator;
use crate::spec::{Action, Condition, Field, FieldType, Severity, Spec, Vocabulary};

struct Linter<'a> {
    spec: &'a Spec,
    file: &'a str,
    vocabulary: &'a Vocabulary,
    problems: Vec<Problem>,
}

/// What in a spec is allowed but almost surely not what its author meant,
/// each with file, line and column: a default that decides a rule or a
/// condition on its own (a field with a default always has a value, so
/// `present` on it always holds, `absent` never, `forbid` can never be met,
/// `require` is always met, and bounds its default breaks make the field
/// required wherever the rule applies — unless the rule has a message, which
/// says the author meant it). Run on specs that lint clean.
pub(crate) fn warnings(spec: &Spec, source: &Source) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut warn = |at: Location, message: String| {
        let problem = Problem {
            file: source.name.clone(),
            line: at.line(),
            column: at.column(),
            message,
        };
        if !out.contains(&problem) {
            out.push(problem);
        }
    };
    for model in &spec.models {
        let id = &model.value.id;
        let fields = compile::resolve_fields(spec, id);
        let default = |name: &str| {
            crate::field_path::field(&fields, name)
                .ok()
                .and_then(|field| field.default.as_ref())
        };
        for (name, field) in &fields {
            if let (Some(value), false) = (&field.default, field.takes_priority_over.is_empty()) {
                let at = spec
                    .fields
                    .get(name)
                    .map(|located| located.referenced)
                    .unwrap_or(model.referenced);
                warn(
                    at,
                    format!(
                        "{name} takes priority over {} but has a default ({}) for {id}, so it always has a value and {} can never be used; remove the default or the priority",
                        field.takes_priority_over.join(", "),
                        crate::words::show(&value.value),
                        crate::words::join_or(&field.takes_priority_over),
                    ),
                );
            }
        }
        let mut conditions: Vec<(&Condition, Location, String)> = Vec::new();
        for mode in &spec.modes {
            if let Some(when) = &mode.value.when {
                conditions.push((when, mode.referenced, format!("mode {}", mode.value.name)));
            }
        }
        for rule in &spec.rules {
            if let Some(when) = &rule.value.when {
                conditions.push((when, rule.referenced, format!("rule {}", rule.value.rule)));
            }
        }
        for derive in &spec.derive {
            conditions.push((
                &derive.value.when,
                derive.referenced,
                format!("derive {}", derive.value.rule),
            ));
        }
        for (condition, at, owner) in conditions {
            for (name, holds) in presence_tests(condition) {
                if let Some(value) = default(&name) {
                    let verdict = if holds { "always holds" } else { "never holds" };
                    warn(
                        at,
                        format!(
                            "{owner}: {} on {name} {verdict} for {id}: {name} has a default ({}), so it always has a value; test its value instead (equals, in)",
                            if holds { "present" } else { "absent" },
                            crate::words::show(&value.value)
                        ),
                    );
                }
            }
        }
        for rule in &spec.rules {
            let at = rule.referenced;
            let rule = &rule.value;
            let applies = rule.when.as_ref().map(crate::words::scope);
            let scope = applies.map(|scope| format!(" {scope}")).unwrap_or_default();
            match &rule.then {
                Action::Forbid(names) => {
                    for name in names {
                        if let Some(value) = default(name) {
                            warn(
                                at,
                                format!(
                                    "rule {}: forbid {name} can never be met for {id}: {name} has a default ({}), so every request the rule applies to is refused; constrain its value instead",
                                    rule.rule,
                                    crate::words::show(&value.value)
                                ),
                            );
                        }
                    }
                }
                Action::Require(names) => {
                    for name in names {
                        if let Some(value) = default(name) {
                            warn(
                                at,
                                format!(
                                    "rule {}: require {name} is always met for {id}: {name} has a default ({}); require a value instead (constrain)",
                                    rule.rule,
                                    crate::words::show(&value.value)
                                ),
                            );
                        }
                    }
                }
                // A message says the author has thought about it: it is
                // shown with "(… is missing, and its default … does not fit)".
                Action::Constrain(map) if rule.message.is_none() => {
                    for (name, bounds) in map {
                        let (Ok(field), Some(value)) =
                            (crate::field_path::field(&fields, name), default(name))
                        else {
                            continue;
                        };
                        let nodes = field::bounds(name, field, bounds, &Default::default());
                        let test = serde_json::json!({ "allOf": nodes });
                        if !crate::construct::holds(&test, &value.value) {
                            warn(
                                at,
                                format!(
                                    "rule {}: the default of {name} ({}) does not fit its bounds{scope} ({}) for {id}, so a request that leaves {name} out is refused there; change the default or the bounds, or give the rule a message that says so",
                                    rule.rule,
                                    crate::words::show(&value.value),
                                    crate::words::bounds_words(bounds, crate::words::Style::Plain)
                                        .join(", ")
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The `present` (true) and `absent` (false) tests a condition makes, by field.
fn presence_tests(condition: &Condition) -> Vec<(String, bool)> {
    match condition {
        Condition::Present(names) => names
            .as_slice()
            .iter()
            .map(|name| (name.clone(), true))
            .collect(),
        Condition::Absent(names) => names
            .as_slice()
            .iter()
            .map(|name| (name.clone(), false))
            .collect(),
        Condition::All(parts) | Condition::Any(parts) => {
            parts.iter().flat_map(presence_tests).collect()
        }
        Condition::Not(inner) => presence_tests(inner),
        _ => Vec::new(),
    }
}

/// Every semantic problem of `spec`, read from `source`.
pub(crate) fn lint(spec: &Spec, source: &Source, vocabulary: &Vocabulary) -> Vec<Problem> {
    let mut linter = Linter {
        spec,
        file: &source.name,
        vocabulary,
        problems: Vec::new(),
    };
    linter.run(source.stem());
    linter.gateway_paths(source);
    linter.idempotency_header(source);
    linter.webhook(source);
    linter.problems
}

impl Linter<'_> {
    fn report(&mut self, at: Location, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line: at.line(),
            column: at.column(),
            message: message.into(),
        });
    }

    fn run(&mut self, stem: &str) {
        let spec = self.spec;
        if spec.family.value != stem {
            self.report(
                spec.family.referenced,
                format!(
                    "family {} does not match the file name {stem}.yaml: rename the file or the family",
                    spec.family.value
                ),
            );
        }
        if spec.models.is_empty() {
            self.report(
                spec.family.referenced,
                "models is empty: list at least one model id",
            );
        }
        let mut seen = BTreeSet::new();
        for model in &spec.models {
            if !seen.insert(model.value.id.clone()) {
                self.report(
                    model.referenced,
                    format!("model id {} is listed twice", model.value.id),
                );
            }
            for name in model.value.overrides.keys() {
                if !spec.fields.contains_key(name) {
                    self.report(
                        model.referenced,
                        format!("override names unknown field {name}{}", self.suggest(name)),
                    );
                }
            }
        }
        self.fields();
        self.priorities();
        self.defaults();
        self.modes();
        self.dropped_inputs();
        self.rules();
        self.derives();
        self.billing();
        self.task();
    }

    fn suggest(&self, name: &str) -> String {
        if let Err(PathProblem::NotAnObject { parent, kind }) = self.resolve(name) {
            return format!(
                "; {parent} is {kind}, not an object, so it has no sub-fields: name {parent} itself or make it an object with fields"
            );
        }
        let mut paths = Vec::new();
        for (top, field) in &self.spec.fields {
            field_path::paths_below(top, &field.value, &mut paths);
        }
        let names: Vec<&String> = if field_path::is_nested(name) {
            paths.iter().collect()
        } else {
            self.spec.fields.keys().collect()
        };
        crate::suggest::did_you_mean(name, &names)
            .map(|close| format!("; did you mean {close}?"))
            .unwrap_or_else(|| {
                format!(
                    "; the fields are {}",
                    names
                        .iter()
                        .map(|name| name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }

    /// Whether `name` names a field: a top-level one, or a sub-field by path.
    fn known(&self, name: &str) -> bool {
        self.resolve(name).is_ok()
    }

    /// The field a name or path names among the spec's own fields.
    fn resolve(&self, path: &str) -> Result<&Field, PathProblem> {
        let mut segments = path.split(field_path::SEPARATOR);
        let first = segments.next().unwrap_or(path);
        let Some(field) = self.spec.fields.get(first) else {
            return Err(PathProblem::Unknown);
        };
        field_path::descend(&field.value, first, segments)
    }

    /// `takes_priority_over`: names of top-level fields, no cycle, not on a
    /// sub-field (checked where sub-fields are linted).
    fn priorities(&mut self) {
        let spec = self.spec;
        let fields: BTreeMap<String, Field> = spec
            .fields
            .iter()
            .map(|(name, field)| (name.clone(), field.value.clone()))
            .collect();
        for (name, located) in &spec.fields {
            let at = located.referenced;
            for lost in &located.value.takes_priority_over {
                if lost == name {
                    self.report(at, format!("{name} takes priority over itself: remove {lost} from its takes_priority_over"));
                } else if !spec.fields.contains_key(lost) {
                    let hint = if field_path::is_nested(lost) {
                        "; takes_priority_over names top-level fields only".to_owned()
                    } else {
                        self.suggest(lost)
                    };
                    self.report(
                        at,
                        format!("{name} takes priority over unknown field {lost}{hint}"),
                    );
                } else if crate::construct::takes_priority(&fields, lost, name) {
                    self.report(
                        at,
                        format!("{name} takes priority over {lost}, which takes priority over {name} again: remove one of them from the other's takes_priority_over"),
                    );
                }
            }
        }
    }

    fn fields(&mut self) {
        let spec = self.spec;
        let mut names: BTreeMap<String, String> = spec
            .fields
            .keys()
            .map(|name| (name.clone(), format!("field {name}")))
            .collect();
        names.insert("model".into(), "the model selector".into());
        let mut concepts: BTreeMap<String, String> = BTreeMap::new();
        for (name, located) in &spec.fields {
            let at = located.referenced;
            if let Some(concept) = &located.value.concept {
                if !self.vocabulary.concepts.contains_key(concept) {
                    let known: Vec<&str> = self
                        .vocabulary
                        .concepts
                        .keys()
                        .map(String::as_str)
                        .collect();
                    self.report(at, format!(
                        "{name}: concept {concept} is not in the vocabulary ({}): use one of them or add it to vocabulary.yaml",
                        known.join(", ")
                    ));
                }
                if let Some(other) = concepts.insert(concept.clone(), name.clone()) {
                    self.report(at, format!("{name}: concept {concept} is already expressed by {other}: one field per concept"));
                }
            }
            if name == "model" {
                self.report(
                    at,
                    "model is implied by endpoint.model_field: remove this field",
                );
            }
            self.no_separator(name, "field", name, at);
            if let Some(alias) = &located.value.alias {
                self.no_separator(name, "alias", alias, at);
            }
            self.field(name, &located.value, at);
            if let Some(alias) = &located.value.alias {
                if let Some(owner) = names.get(alias) {
                    self.report(
                        at,
                        format!(
                            "alias {alias} of {name} collides with {owner}: choose another alias"
                        ),
                    );
                } else {
                    names.insert(alias.clone(), format!("the alias of {name}"));
                }
            }
        }
    }

    fn field(&mut self, name: &str, field: &Field, at: Location) {
        self.pattern_runs_in_linear_time(name, field, at);
        for problem in crate::lint_media::problems(name, field) {
            self.report(at, problem);
        }
        let is_array = field.kind == FieldType::Array;
        if field.open && field.values.is_none() {
            self.report(at, format!("{name}: open needs enum (the common values)"));
        }
        if field.case_insensitive
            && !(matches!(field.kind, FieldType::String)
                && field
                    .values
                    .as_ref()
                    .is_some_and(|values| values.iter().all(|value| value.is_string())))
        {
            self.report(
                at,
                format!("{name}: case_insensitive needs a string field with enum"),
            );
        }
        if !field.value_aliases.is_empty() && field.values.is_none() {
            self.report(at, format!("{name}: value_aliases needs enum"));
        }
        for (alias, target) in &field.value_aliases {
            if !field
                .values
                .as_ref()
                .is_some_and(|values| values.contains(target))
            {
                self.report(
                    at,
                    format!("{name}: value alias {alias} maps to {target}, which is not in enum"),
                );
            }
        }
        if field.only_first && !is_array {
            self.report(at, format!("{name}: only_first applies to arrays only"));
        }
        if field.items.is_some() != is_array {
            self.report(
                at,
                format!("{name}: an array field needs items, and only arrays take items"),
            );
        }
        if !is_array
            && (field.min_items.is_some()
                || field.max_items.is_some()
                || field.count_in.is_some()
                || field.unique_by.is_some())
        {
            self.report(
                at,
                format!(
                    "{name}: min_items, max_items, count_in and unique_by apply to arrays only"
                ),
            );
        }
        if !field.schemes.is_empty() && field.kind != FieldType::Url {
            self.report(at, format!("{name}: schemes apply to url fields only"));
        }
        if field.kind == FieldType::Url && field.pattern.is_some() {
            self.report(
                at,
                format!("{name}: a url field takes schemes, not pattern"),
            );
        }
        if !field.fields.is_empty() && field.kind != FieldType::Object {
            self.report(at, format!("{name}: fields apply to object fields only"));
        }
        if !field.fields.is_empty() && field.default.is_some() {
            // Its sub-fields' defaults say what the gateway uses, key by key
            // (also when the object is absent); a whole-object default would
            // say it twice.
            self.report(
                at,
                format!("{name}: an object field with fields takes no default; give its sub-fields defaults instead"),
            );
        }
        if let (Some(min), Some(max)) = (
            field.min.as_ref().and_then(|n| n.as_f64()),
            field.max.as_ref().and_then(|n| n.as_f64()),
        ) && min > max
        {
            self.report(at, format!("{name}: min {min} is greater than max {max}"));
        }
        if !field.also.is_empty() && field.min.is_none() && field.max.is_none() {
            self.report(
                at,
                format!("{name}: also adds values beside a min/max range: give min or max"),
            );
        }
        if let Some(role) = &field.unique_by {
            let ok = field.items.as_ref().is_some_and(|items| {
                items
                    .value
                    .fields
                    .get(role)
                    .is_some_and(|role_field| role_field.value.values.is_some())
            });
            if !ok {
                self.report(
                    at,
                    format!(
                        "{name}: unique_by {role} needs object items whose {role} field has enum"
                    ),
                );
            }
        }
        if let Some(items) = &field.items {
            self.field(&format!("{name}[]"), &items.value, items.referenced);
        }
        for (key, sub) in &field.fields {
            let path = format!("{name}.{key}");
            self.no_separator(&path, "field", key, sub.referenced);
            if let Some(alias) = &sub.value.alias {
                self.no_separator(&path, "alias", alias, sub.referenced);
                if field.fields.contains_key(alias) {
                    self.report(
                        sub.referenced,
                        format!("alias {alias} of {path} collides with field {name}.{alias}: choose another alias"),
                    );
                }
            }
            if !sub.value.takes_priority_over.is_empty() {
                self.report(
                    sub.referenced,
                    format!("{path}: takes_priority_over applies to top-level fields only"),
                );
            }
            self.field(&path, &sub.value, sub.referenced);
        }
    }

    /// A field name or alias may not hold `.`: it separates the segments of a
    /// path (`metadata.resolution`).
    fn no_separator(&mut self, path: &str, what: &str, name: &str, at: Location) {
        if name.contains(field_path::SEPARATOR) {
            self.report(
                at,
                format!("{path}: the {what} name {name} holds a `.`, which separates the fields of a path (metadata.resolution): rename it, or describe an object field with fields"),
            );
        }
    }

    /// A field's `pattern` must compile for the engine's linear-time matcher:
    /// look-around and backreferences need a backtracking matcher, which can
    /// take minutes on one long value (a denial of service any request could
    /// trigger), so they are refused here with the feature named.
    fn pattern_runs_in_linear_time(&mut self, name: &str, field: &Field, at: Location) {
        let Some(pattern) = &field.pattern else {
            return;
        };
        let shown = crate::text::quote_short(pattern);
        if let Some((feature, advice)) = crate::lint_pattern::backtracking_feature(pattern) {
            self.report(
                at,
                format!(
                    "{name}: pattern {shown} uses {feature}, which needs a backtracking matcher \
                     (minutes on one long value); {advice}"
                ),
            );
        } else if let Err(error) = build_validator(&serde_json::json!({ "pattern": pattern })) {
            self.report(
                at,
                format!(
                    "{name}: pattern {shown} does not compile for the linear-time matcher ({}): \
                     write an ECMA-262 pattern without look-around or backreferences",
                    crate::text::escape_hidden(&error.to_string())
                ),
            );
        }
    }

    /// Every default inside its own field's constraints, per model: one
    /// schema of the fields that have defaults, run once on the defaults.
    fn defaults(&mut self) {
        let spec = self.spec;
        for model in &spec.models {
            let resolved = compile::resolve_fields(spec, &model.value.id);
            let mut properties = serde_json::Map::new();
            let mut defaults = serde_json::Map::new();
            // Sub-fields' defaults too, each under its path as one key.
            let mut all = Vec::new();
            for (name, field) in &resolved {
                crate::plan::defaults_below(name, field, &mut all);
            }
            for (path, default) in all {
                if let Ok(field) = field_path::field(&resolved, &path) {
                    properties.insert(path.clone(), field::schema(&path, field));
                    defaults.insert(path, default);
                }
            }
            let schema = serde_json::json!({ "properties": properties });
            let Ok(validator) = build_validator(&schema) else {
                continue;
            };
            let defaults = serde_json::Value::Object(defaults);
            let mut outside: Vec<String> = validator
                .iter_errors(&defaults)
                .filter_map(|error| {
                    error
                        .instance_path()
                        .as_str()
                        .split('/')
                        .nth(1)
                        .map(|name| name.replace("~1", "/").replace("~0", "~"))
                })
                .collect();
            outside.sort();
            outside.dedup();
            for name in outside {
                let Some(default) = field_path::field(&resolved, &name)
                    .ok()
                    .and_then(|field| field.default.as_ref())
                else {
                    continue;
                };
                let at = if default.referenced == Location::UNKNOWN {
                    model.referenced
                } else {
                    default.referenced
                };
                self.report(
                    at,
                    format!(
                        "default {} of {name} is outside its own constraints for {}: fix the default or the constraints",
                        default.value, model.value.id
                    ),
                );
            }
        }
    }

    fn condition(&mut self, condition: &Condition, at: Location, allow_mode: bool) {
        for name in compile::condition_fields(condition) {
            if !self.known(&name) {
                self.report(
                    at,
                    format!(
                        "condition names unknown field {name}{}",
                        self.suggest(&name)
                    ),
                );
            }
        }
        self.condition_names(condition, at, allow_mode);
    }

    fn condition_names(&mut self, condition: &Condition, at: Location, allow_mode: bool) {
        match condition {
            Condition::Mode(names) => {
                if !allow_mode {
                    self.report(at, "a mode's own condition cannot refer to modes");
                }
                for name in names.as_slice() {
                    if !self.spec.modes.iter().any(|mode| &mode.value.name == name) {
                        self.report(
                            at,
                            format!("condition names mode {name}, which this spec does not have"),
                        );
                    }
                }
            }
            Condition::Variant(ids) => {
                for id in ids.as_slice() {
                    if !self.spec.models.iter().any(|model| &model.value.id == id) {
                        self.report(
                            at,
                            format!("condition names model {id}, which this spec does not list"),
                        );
                    }
                }
            }
            Condition::All(inner) | Condition::Any(inner) => {
                for condition in inner {
                    self.condition_names(condition, at, allow_mode);
                }
            }
            Condition::Not(inner) => self.condition_names(inner, at, allow_mode),
            _ => {}
        }
    }

    fn modes(&mut self) {
        let spec = self.spec;
        if spec.modes.is_empty() {
            self.report(
                spec.family.referenced,
                "modes is empty: give at least one mode (a catch-all without when)",
            );
        }
        let mut seen: Vec<(&str, Option<&Condition>)> = Vec::new();
        let mut catch_all = false;
        for mode in &spec.modes {
            let at = mode.referenced;
            let name = mode.value.name.as_str();
            if !self.vocabulary.modes.contains_key(name) {
                let known: Vec<&String> = self.vocabulary.modes.keys().collect();
                self.report(at, format!(
                    "mode {name} is not in the vocabulary ({}): use one of them or add it to vocabulary.yaml",
                    known.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            if catch_all {
                self.report(
                    at,
                    format!(
                        "mode {name} is unreachable: an earlier mode has no when and always wins"
                    ),
                );
            } else if seen
                .iter()
                .any(|(_, when)| *when == mode.value.when.as_ref())
            {
                self.report(
                    at,
                    format!("mode {name} is unreachable: an earlier mode has the same condition"),
                );
            }
            if seen.iter().any(|(seen_name, _)| *seen_name == name) {
                self.report(at, format!("mode {name} is listed twice"));
            }
            match &mode.value.when {
                Some(when) => self.condition(when, at, false),
                None => catch_all = true,
            }
            for ignored in &mode.value.ignores {
                if !self.known(ignored) {
                    self.report(
                        at,
                        format!(
                            "mode {name} ignores unknown field {ignored}{}",
                            self.suggest(ignored)
                        ),
                    );
                }
            }
            seen.push((name, mode.value.when.as_ref()));
        }
    }

    /// A field that selects a lower-priority mode is dropped when a higher
    /// one wins, unless the winner uses it; a rule about that field which
    /// applies when the winner's inputs are given means the author expects
    /// it to be sent.
    fn dropped_inputs(&mut self) {
        let spec = self.spec;
        for (index, winner) in spec.modes.iter().enumerate() {
            let Some(when) = &winner.value.when else {
                continue;
            };
            let mut winner_triggers = Vec::new();
            compile::trigger_fields(when, &mut winner_triggers);
            let mut uses = winner_triggers.clone();
            uses.extend(winner.value.uses.iter().cloned());
            for rule in &spec.rules {
                if rule
                    .value
                    .when
                    .as_ref()
                    .is_some_and(|when| compile::names_mode_positively(when, &winner.value.name))
                {
                    uses.extend(compile::named_fields(&rule.value.then));
                }
            }
            for loser in &spec.modes[index + 1..] {
                let mut loser_triggers = Vec::new();
                if let Some(when) = &loser.value.when {
                    compile::trigger_fields(when, &mut loser_triggers);
                }
                for dropped in loser_triggers.iter().filter(|field| !uses.contains(field)) {
                    for rule in &spec.rules {
                        let mut rule_triggers = Vec::new();
                        if let Some(when) = &rule.value.when {
                            compile::trigger_fields(when, &mut rule_triggers);
                        }
                        let applies = rule_triggers
                            .iter()
                            .any(|field| winner_triggers.contains(field));
                        if applies && compile::named_fields(&rule.value.then).contains(dropped) {
                            self.report(
                                winner.referenced,
                                format!(
                                    "mode {}: when it wins, dispatch drops {dropped} (it also selects {}), but rule {} is about {dropped} there: add {dropped} to the mode's uses",
                                    winner.value.name, loser.value.name, rule.value.rule
                                ),
                            );
                        }
                    }
                }
            }
            for used in &winner.value.uses {
                if !self.known(used) {
                    self.report(
                        winner.referenced,
                        format!(
                            "mode {} uses unknown field {used}{}",
                            winner.value.name,
                            self.suggest(used)
                        ),
                    );
                }
            }
        }
    }

    fn rules(&mut self) {
        for rule in &self.spec.rules {
            let at = rule.referenced;
            let rule = &rule.value;
            if let Some(when) = &rule.when {
                self.condition(when, at, true);
            }
            let mut names = Vec::new();
            match &rule.then {
                Action::Require(list)
                | Action::Forbid(list)
                | Action::Together(list)
                | Action::ExactlyOneOf(list) => {
                    if list.is_empty() {
                        self.report(at, format!("rule {}: the field list is empty", rule.rule));
                    }
                    names.extend(list.iter().cloned());
                }
                Action::Exclusive(exclusive) => {
                    names.extend(exclusive.fields.iter().cloned());
                    for pair in &exclusive.allow {
                        for name in pair {
                            if !exclusive.fields.contains(name) {
                                self.report(at, format!("rule {}: allowed pair names {name}, which is not among its fields", rule.rule));
                            }
                        }
                    }
                }
                Action::Constrain(constraints) => {
                    names.extend(constraints.keys().cloned());
                }
                Action::Hold(condition) => {
                    self.condition(condition, at, true);
                    if rule.message.is_none() {
                        self.report(at, format!("rule {}: a hold rule needs a message that says how to fix the request", rule.rule));
                    }
                }
            }
            if rule.severity == Severity::Warning && rule.message.is_none() {
                self.report(
                    at,
                    format!("rule {}: a warning rule needs a message", rule.rule),
                );
            }
            for name in names {
                if !self.known(&name) {
                    self.report(
                        at,
                        format!(
                            "rule {} names unknown field {name}{}",
                            rule.rule,
                            self.suggest(&name)
                        ),
                    );
                }
            }
        }
    }

    fn derives(&mut self) {
        for derive in &self.spec.derive {
            let at = derive.referenced;
            self.condition(&derive.value.when, at, true);
            if !self.known(&derive.value.field) {
                let name = derive.value.field.clone();
                self.report(
                    at,
                    format!(
                        "derive {} names unknown field {name}{}",
                        derive.value.rule,
                        self.suggest(&name)
                    ),
                );
            }
        }
    }

    fn billing(&mut self) {
        let billing = &self.spec.billing;
        let at = billing.referenced;
        let mut templates = vec![billing.value.key.clone()];
        templates.extend(billing.value.cases.iter().map(|case| case.key.clone()));
        for template in templates {
            for name in billing::placeholders(&template) {
                if name != "model" && !self.known(&name) {
                    self.report(
                        at,
                        format!(
                            "billing key {template} names unknown field {name}{}",
                            self.suggest(&name)
                        ),
                    );
                }
            }
        }
        for message in crate::lint_billing::placeholders_that_may_be_empty(self.spec) {
            self.report(at, message);
        }
        for case in &billing.value.cases {
            self.condition(&case.when, at, true);
        }
        let mut dimensions = billing.value.dimensions.clone();
        dimensions.extend(billing.value.multiplier.clone());
        for name in dimensions {
            if !self.known(&name) {
                self.report(
                    at,
                    format!("billing names unknown field {name}{}", self.suggest(&name)),
                );
            }
        }
    }

    fn task(&mut self) {
        let task = &self.spec.task;
        let at = self.spec.family.referenced;
        let read = &task.read;
        let mut pointers: Vec<&String> = task.submit_task_id.iter().collect();
        for list in [
            &read.status,
            &read.progress,
            &read.cost,
            &read.estimated_time,
            &read.actual_time,
            &read.error_code,
            &read.error_message,
        ] {
            pointers.extend(list.iter());
        }
        for video in &read.videos {
            pointers.push(&video.each);
        }
        for (name, list) in &read.extras {
            if name.trim().is_empty() {
                self.report(at, "task.read.extras: a result extra needs a name");
            }
            pointers.extend(list.iter());
        }
        for pointer in pointers {
            if !pointer.starts_with('/') {
                self.report(at, format!("task pointer {pointer:?} must start with /"));
            }
        }
        if !task.poll_path.contains("{task_id}") {
            self.report(at, "task.poll_path must contain {task_id}");
        }
        for status in task.statuses.keys() {
            if Lifecycle::from_name(status).is_none() {
                self.report(
                    at,
                    format!(
                        "task.statuses: {status} is not one of {} (the lifecycle is the engine's; list a new spelling under one of them)",
                        Lifecycle::names()
                    ),
                );
            }
        }
        let mut fields: Vec<(String, &crate::spec::Located<Field>)> = self
            .spec
            .fields
            .iter()
            .map(|(name, field)| (name.clone(), field))
            .collect();
        while let Some((name, field)) = fields.pop() {
            if let Some(reference) = &field.value.refers_to_task
                && Lifecycle::from_name(&reference.status).is_none()
            {
                self.report(
                    field.referenced,
                    format!(
                        "{name}: refers_to_task.status {:?} is not one of {}",
                        reference.status,
                        Lifecycle::names()
                    ),
                );
            }
            if let Some(items) = &field.value.items {
                fields.push((format!("{name}[]"), items));
            }
            for (key, inner) in &field.value.fields {
                fields.push((format!("{name}.{key}"), inner));
            }
        }
    }
}

pub use crate::lint_idempotency::idempotency_header_problem;
pub use crate::lint_webhook::{webhook_callback_problem, webhook_field_problem};

/// The placeholder a poll path holds for the task id.
pub const TASK_ID_PLACEHOLDER: &str = "{task_id}";

/// What is wrong with a path the client joins below the base URL
/// (`endpoint.path`, `task.poll_path`), if anything; `placeholder` is the one
/// `{…}` word the path may hold.
///
/// A legal path starts with `/`, has no empty, `.` or `..` segment and no
/// `..` at all, and holds only letters, digits and `-._~!$&'()*+,;=:` (what
/// RFC 3986 allows in a path segment, without `@` and `%`). So it cannot name
/// another host (`@`, `//`, `\`, a scheme before the first `/`), climb (`..`),
/// end the path (`?`, `#`) or hide any of these behind percent-encoding
/// (`%2e%2e` is `..` to URL parsers). A `:` after the leading `/` is only a
/// character of a segment.
pub fn gateway_path_problem(path: &str, placeholder: Option<&str>) -> Option<String> {
    if !path.starts_with('/') {
        return Some(
            "must start with / (it is joined below the base URL; anything before the first / could name another host)"
                .to_owned(),
        );
    }
    let mut position = 0;
    let mut rest = path;
    while let Some(character) = rest.chars().next() {
        if let Some(word) = placeholder.filter(|word| rest.starts_with(word)) {
            position += word.chars().count();
            rest = &rest[word.len()..];
            continue;
        }
        position += 1;
        rest = &rest[character.len_utf8()..];
        if character.is_ascii_alphanumeric() || "/-._~!$&'()*+,;=:".contains(character) {
            continue;
        }
        let why = match character {
            '@' => {
                "@ (what precedes it would be read as a user name, and the host would follow it)"
            }
            '\\' => "\\ (URL parsers read it as /)",
            '?' | '#' => "? or # (it would end the path)",
            '%' => "% (write the character itself: percent-encoding can hide .. or /)",
            '{' | '}' => "{ or } (the only placeholder is {task_id}, and only in task.poll_path)",
            _ => "",
        };
        let why = if why.is_empty() {
            format!("U+{:04X}", u32::from(character))
        } else {
            why.to_owned()
        };
        return Some(format!(
            "holds {why} at character {position}: a path holds only letters, digits and -._~!$&'()*+,;=:"
        ));
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    if segments.iter().any(|segment| segment.is_empty()) {
        return Some("holds an empty segment (// or a trailing /): write each / once".to_owned());
    }
    if path.contains("..") || segments.contains(&".") {
        return Some(
            "holds .. or a . segment: write the path as the gateway documents it".to_owned(),
        );
    }
    None
}

impl Linter<'_> {
    /// `endpoint.path` and `task.poll_path` are joined below the base URL and
    /// carry the API key: each must be a plain path (`gateway_path_problem`),
    /// reported where it is written.
    fn gateway_paths(&mut self, source: &Source) {
        #[derive(serde::Deserialize)]
        struct PathsAt {
            #[serde(default)]
            endpoint: Option<EndpointAt>,
            #[serde(default)]
            task: Option<TaskAt>,
        }
        #[derive(serde::Deserialize)]
        struct EndpointAt {
            #[serde(default)]
            path: Option<serde_saphyr::Spanned<String>>,
        }
        #[derive(serde::Deserialize)]
        struct TaskAt {
            #[serde(default)]
            poll_path: Option<serde_saphyr::Spanned<String>>,
        }
        for mode in &self.spec.modes {
            if let Some(own) = &mode.value.endpoint
                && let Some(problem) = gateway_path_problem(&own.path, None)
            {
                let name = &mode.value.name;
                self.report(
                    mode.referenced,
                    format!("mode {name}: endpoint.path {:?} {problem}", own.path),
                );
            }
        }
        let endpoint = self.spec.endpoint.path.clone();
        let poll = self.spec.task.poll_path.clone();
        let endpoint_problem = gateway_path_problem(&endpoint, None);
        let poll_problem = gateway_path_problem(&poll, Some(TASK_ID_PLACEHOLDER));
        if endpoint_problem.is_none() && poll_problem.is_none() {
            return;
        }
        // The spec types hold these paths without their place in the file:
        // read the places again from the text, only when there is a problem.
        let at: Option<PathsAt> = serde_saphyr::from_str(&source.text).ok();
        let family = self.spec.family.referenced;
        let endpoint_at = at
            .as_ref()
            .and_then(|at| at.endpoint.as_ref()?.path.as_ref())
            .map_or(family, |path| path.referenced);
        let poll_at = at
            .as_ref()
            .and_then(|at| at.task.as_ref()?.poll_path.as_ref())
            .map_or(family, |path| path.referenced);
        if let Some(problem) = endpoint_problem {
            self.report(endpoint_at, format!("endpoint.path {endpoint:?} {problem}"));
        }
        if let Some(problem) = poll_problem {
            self.report(poll_at, format!("task.poll_path {poll:?} {problem}"));
        }
    }
}

impl Linter<'_> {
    /// `endpoint.idempotency.header` (the spec's own or its gateway's) must be
    /// a header name the client can send (`idempotency_header_problem`),
    /// reported where the spec writes it, else at the family line.
    fn idempotency_header(&mut self, source: &Source) {
        #[derive(serde::Deserialize)]
        struct HeaderAt {
            #[serde(default)]
            endpoint: Option<EndpointAt>,
        }
        #[derive(serde::Deserialize)]
        struct EndpointAt {
            #[serde(default)]
            idempotency: Option<IdempotencyAt>,
        }
        #[derive(serde::Deserialize)]
        struct IdempotencyAt {
            header: serde_saphyr::Spanned<String>,
        }
        let Some(idempotency) = &self.spec.endpoint.idempotency else {
            return;
        };
        let header = &idempotency.header;
        let Some(problem) = idempotency_header_problem(header) else {
            return;
        };
        // Read the place again from the text, only when there is a problem.
        let at: Option<HeaderAt> = serde_saphyr::from_str(&source.text).ok();
        let written = at.as_ref().and_then(|at| {
            Some(
                at.endpoint
                    .as_ref()?
                    .idempotency
                    .as_ref()?
                    .header
                    .referenced,
            )
        });
        let whence = if written.is_some() {
            ""
        } else {
            " (from the spec's gateway file)"
        };
        let location = written.unwrap_or(self.spec.family.referenced);
        self.report(
            location,
            format!("endpoint.idempotency.header {header:?}{whence} {problem}"),
        );
    }
}

impl Linter<'_> {
    /// `endpoint.webhook` (the spec's own or its gateway's): `field` must be
    /// a top-level body field the request cannot carry itself (not a
    /// declared field or alias, nor `model` when the body carries it), and
    /// `callback` one plain path segment. Reported where the spec writes
    /// them, else at the family line.
    fn webhook(&mut self, source: &Source) {
        #[derive(serde::Deserialize)]
        struct WebhookFile {
            #[serde(default)]
            endpoint: Option<EndpointAt>,
        }
        #[derive(serde::Deserialize)]
        struct EndpointAt {
            #[serde(default)]
            webhook: Option<WebhookAt>,
        }
        #[derive(serde::Deserialize)]
        struct WebhookAt {
            field: serde_saphyr::Spanned<String>,
            callback: serde_saphyr::Spanned<String>,
        }
        let Some(webhook) = &self.spec.endpoint.webhook else {
            return;
        };
        let spec = self.spec;
        let declared = spec
            .fields
            .iter()
            .flat_map(|(name, field)| {
                std::iter::once(name.as_str()).chain(field.value.alias.as_deref())
            })
            .chain(spec.endpoint.model_field.then_some("model"));
        let field_problem = crate::lint_webhook::webhook_field_problem(&webhook.field, declared);
        let callback_problem = crate::lint_webhook::webhook_callback_problem(&webhook.callback);
        if field_problem.is_none() && callback_problem.is_none() {
            return;
        }
        // Read the places again from the text, only when there is a problem.
        let at: Option<WebhookFile> = serde_saphyr::from_str(&source.text).ok();
        let written = at
            .as_ref()
            .and_then(|at| at.endpoint.as_ref()?.webhook.as_ref());
        let whence = if written.is_some() {
            ""
        } else {
            " (from the spec's gateway file)"
        };
        if let Some(problem) = field_problem {
            let location = written.map_or(spec.family.referenced, |at| at.field.referenced);
            self.report(
                location,
                format!(
                    "endpoint.webhook.field {:?}{whence} {problem}",
                    webhook.field
                ),
            );
        }
        if let Some(problem) = callback_problem {
            let location = written.map_or(spec.family.referenced, |at| at.callback.referenced);
            self.report(
                location,
                format!(
                    "endpoint.webhook.callback {:?}{whence} {problem}",
                    webhook.callback
                ),
            );
        }
    }
}
