//! The plan of a valid request: what to send, where, in which mode, under which
//! billing key, and the views read from it (effective values, pre-flight checks).
//!
//! Owns the `Plan` type, its read-only views and what every plan of one model
//! shares (`Facts`, built once when the model compiles). A plan holds only what
//! differs per request — the body (the request itself, reshaped in place), the
//! mode, the fields that lost dispatch, warnings and the charge — so preparing a
//! request allocates next to nothing; the effective values and the pre-flight
//! checks are read from the body and the shared facts when asked for. It must
//! not decide anything about a request: `model` runs the pipeline that builds a
//! plan.

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::billing::{Biller, Charge};
use crate::diagnostics::Warning;
use crate::field_path;
use crate::spec::{
    AudioConstraints, Field, Idempotency, ImageConstraints, Task, TaskReference, VideoConstraints,
    Webhook,
};

/// Where and how a plan is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanEndpoint {
    /// HTTP method.
    pub method: String,
    /// Path below the base URL.
    pub path: String,
    /// The header the endpoint reads an idempotency key from, when the spec
    /// declares one (`endpoint: {idempotency: {header: …}}`); a mode's own
    /// endpoint keeps the family's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<Idempotency>,
    /// The body field a callback URL goes in and the segment the gateway
    /// appends to it, when the spec declares that the endpoint calls back
    /// (`endpoint: {webhook: {field: …, callback: …}}`); a mode's own
    /// endpoint keeps the family's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

/// Why a callback URL cannot be set on a plan (`Plan::with_webhook`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The model's endpoint declares no callback field.
    #[error(
        "model {model} does not call back: its spec declares no `endpoint.webhook`, so wait for the task by polling"
    )]
    NotDeclared {
        /// The model id.
        model: String,
    },
    /// The URL is not `http` or `https`.
    #[error(
        "the callback URL's scheme is {scheme:?}: the gateway calls back only to http or https URLs"
    )]
    Scheme {
        /// The scheme given.
        scheme: String,
    },
    /// The URL carries a query or a fragment, which the gateway's appended
    /// segment would land after.
    #[error(
        "the callback URL has a query or a fragment: the gateway appends /{callback} to the URL, so give a URL that ends with its path"
    )]
    QueryOrFragment {
        /// The segment the gateway appends.
        callback: String,
    },
}

/// A check that needs the network, left for the transport's pre-flight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Precondition {
    /// JSON pointer to the field in the body.
    pub path: String,
    /// Image constraints, for image URL fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageConstraints>,
    /// Video constraints, for video URL fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoConstraints>,
    /// Audio constraints, for audio URL fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioConstraints>,
    /// The task the field must name, for task-id fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskReference>,
}

/// A field whose value must be checked over the network before sending.
#[derive(Debug)]
pub(crate) struct Checked {
    pub field: String,
    pub image: Option<ImageConstraints>,
    pub video: Option<VideoConstraints>,
    pub audio: Option<AudioConstraints>,
    pub task: Option<TaskReference>,
}

/// What every plan of one model shares, built once when the model compiles.
#[derive(Debug)]
pub(crate) struct Facts {
    pub id: String,
    pub family: String,
    pub endpoint: PlanEndpoint,
    /// Per mode, in priority order: where a plan in that mode is sent (the
    /// mode's own `endpoint:`, or the family's).
    pub mode_endpoints: Vec<PlanEndpoint>,
    pub task: Arc<Task>,
    /// Mode names in priority order.
    pub modes: Vec<String>,
    /// Per mode, sorted by name: the values the gateway uses for fields a
    /// request leaves out (defaults of the fields the mode does not ignore, and
    /// `model` where the endpoint takes no model field).
    pub defaults: Vec<Vec<(String, Value)>>,
    /// Per mode, the same list's defaults of sub-fields only (`metadata.resolution`),
    /// which a plan fills into its objects; empty for a family with no
    /// defaulted sub-field, so its plans fill nothing. Kept apart for speed:
    /// walking every default of every plan for sub-fields cost 4.6M of the
    /// 27.4M instructions paths first added to 20,000 `check --batch` lines
    /// (callgrind; README, Performance).
    pub nested_defaults: Vec<Vec<(String, Value)>>,
    /// Fields checked before sending, in name order.
    pub checked: Vec<Checked>,
    /// How plans are charged.
    pub biller: Biller,
}

/// What the engine decided about a valid request: what to send, where, in which
/// mode, with which effective values and under which billing key.
///
/// Serialises as an object with `model`, `family`, `mode`, `endpoint`, `body`,
/// `effective`, `warnings`, `billing` and `preconditions`.
#[derive(Clone)]
pub struct Plan {
    facts: Arc<Facts>,
    mode: usize,
    /// Always a JSON object (kept as a `Value` so billing conditions run on it
    /// without a copy).
    body: Value,
    losing: Vec<String>,
    /// The objects of the body with their sub-fields' defaults filled in (and
    /// those the request leaves out that such defaults make), sorted by name;
    /// empty for most models.
    filled: Vec<(String, Value)>,
    warnings: Vec<Warning>,
    /// Worked out when first asked for.
    billing: OnceLock<Charge>,
}

impl Plan {
    pub(crate) fn new(
        facts: Arc<Facts>,
        mode: usize,
        body: Map<String, Value>,
        losing: Vec<String>,
        warnings: Vec<Warning>,
    ) -> Plan {
        let filled = fill_objects(&body, &facts.nested_defaults[mode], &losing);
        Plan {
            facts,
            mode,
            body: Value::Object(body),
            losing,
            filled,
            warnings,
            billing: OnceLock::new(),
        }
    }

    /// Model id.
    pub fn model(&self) -> &str {
        &self.facts.id
    }

    /// Family (spec file stem).
    pub fn family(&self) -> &str {
        &self.facts.family
    }

    /// Selected mode (shared vocabulary name).
    pub fn mode(&self) -> &str {
        &self.facts.modes[self.mode]
    }

    /// Where to send the body: the winning mode's endpoint, or the family's.
    pub fn endpoint(&self) -> &PlanEndpoint {
        self.facts
            .mode_endpoints
            .get(self.mode)
            .unwrap_or(&self.facts.endpoint)
    }

    /// Whether and how the endpoint takes an idempotency key: `None` unless
    /// the spec declares it. With one, a submit whose answer was lost may be
    /// resent with the same key and the same body.
    pub fn idempotency(&self) -> Option<&Idempotency> {
        self.endpoint().idempotency.as_ref()
    }

    /// The header name an idempotency key goes in (`Idempotency-Key`), when
    /// the spec declares one.
    pub fn idempotency_header(&self) -> Option<&str> {
        self.idempotency()
            .map(|idempotency| idempotency.header.as_str())
    }

    /// Whether the endpoint calls back when the task ends, and how: the
    /// body field a base URL goes in and the segment the gateway appends to
    /// it. `None` unless the spec declares it.
    pub fn webhook(&self) -> Option<&Webhook> {
        self.endpoint().webhook.as_ref()
    }

    /// This plan with `base` as its callback URL, in the top-level body
    /// field the spec declares (`endpoint.webhook.field`): the gateway then
    /// POSTs the finished task to `<base>/<callback>`. Set after validation,
    /// so the exported schemas say nothing of the field; setting it again
    /// replaces it. Refused for a model whose endpoint declares no callback,
    /// a URL that is not `http`/`https`, and one with a query or fragment
    /// (the gateway appends the segment to the URL as written).
    ///
    /// ```
    /// use serde_json::json;
    /// use vidspec_core::Registry;
    ///
    /// let registry = Registry::embedded();
    /// let plan = registry
    ///     .model("Omni-Flash-Ext")
    ///     .expect("an embedded model")
    ///     .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a red fox"}))
    ///     .expect("a valid request");
    /// let declared = plan.webhook().expect("the gateway calls back").clone();
    /// let base = url::Url::parse("https://example.com/hooks/abc").unwrap();
    /// let plan = plan.with_webhook(&base).expect("an https URL");
    /// assert_eq!(plan.body()[&declared.field], "https://example.com/hooks/abc");
    /// ```
    pub fn with_webhook(mut self, base: &url::Url) -> Result<Plan, WebhookError> {
        let Some(webhook) = self.webhook().cloned() else {
            return Err(WebhookError::NotDeclared {
                model: self.model().to_owned(),
            });
        };
        if !matches!(base.scheme(), "http" | "https") {
            return Err(WebhookError::Scheme {
                scheme: base.scheme().to_owned(),
            });
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(WebhookError::QueryOrFragment {
                callback: webhook.callback,
            });
        }
        if let Value::Object(body) = &mut self.body {
            body.insert(webhook.field, Value::String(base.as_str().to_owned()));
        }
        Ok(self)
    }

    /// Exactly the JSON body to send.
    pub fn body(&self) -> &Map<String, Value> {
        match &self.body {
            Value::Object(body) => body,
            _ => unreachable!("a plan's body is built from a JSON object"),
        }
    }

    /// The body, owned.
    pub fn into_body(self) -> Map<String, Value> {
        match self.body {
            Value::Object(body) => body,
            _ => unreachable!("a plan's body is built from a JSON object"),
        }
    }

    /// This plan with another body, unchecked: for testing what a gateway does
    /// with a body the engine would refuse. Never for real requests.
    #[doc(hidden)]
    pub fn with_unchecked_body(mut self, body: Map<String, Value>) -> Plan {
        self.filled = fill_objects(&body, &self.facts.nested_defaults[self.mode], &self.losing);
        self.body = Value::Object(body);
        self.billing = OnceLock::new();
        self
    }

    /// Every value the gateway will use: the body with defaults (and, where the
    /// endpoint takes no model field, `model`) filled in.
    pub fn effective(&self) -> Effective<'_> {
        Effective::new(self.body(), &self.facts.defaults[self.mode], &self.losing)
            .with_filled(&self.filled)
    }

    /// Changes made and advice.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// How it is charged (worked out on the first call).
    pub fn billing(&self) -> &Charge {
        self.billing.get_or_init(|| {
            self.facts.biller.charge(
                &self.facts.id,
                self.mode,
                &self.body,
                &self.losing,
                self.effective(),
            )
        })
    }

    /// Checks that need the network (images, referenced tasks), one per value.
    pub fn preconditions(&self) -> Vec<Precondition> {
        let mut out = Vec::new();
        for checked in &self.facts.checked {
            // A sub-field is checked where its object holds it.
            let Some(value) = field_path::get(self.body(), &checked.field) else {
                continue;
            };
            let name = field_path::pointer_segments(&checked.field);
            if checked.image.is_some() || checked.video.is_some() || checked.audio.is_some() {
                let media = |path: String| Precondition {
                    path,
                    image: checked.image.clone(),
                    video: checked.video.clone(),
                    audio: checked.audio.clone(),
                    task: None,
                };
                match value {
                    Value::Array(items) => {
                        out.extend((0..items.len()).map(|index| media(format!("/{name}/{index}"))))
                    }
                    _ => out.push(media(format!("/{name}"))),
                }
            }
            if let Some(task) = &checked.task {
                out.push(Precondition {
                    path: format!("/{name}"),
                    image: None,
                    video: None,
                    audio: None,
                    task: Some(task.clone()),
                });
            }
        }
        out
    }

    /// How to submit, poll and read the task this plan creates (the spec's
    /// `task` section, statuses merged with the vocabulary's).
    pub fn task(&self) -> &Arc<Task> {
        &self.facts.task
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("model", &self.model())
            .field("mode", &self.mode())
            .field("body", &self.body)
            .field("losing", &self.losing)
            .field("warnings", &self.warnings)
            .field("billing", &self.billing.get())
            .finish()
    }
}

impl PartialEq for Plan {
    fn eq(&self, other: &Plan) -> bool {
        self.model() == other.model()
            && self.mode() == other.mode()
            && self.body == other.body
            && self.effective() == other.effective()
            && self.warnings == other.warnings
            && self.billing() == other.billing()
    }
}

impl Serialize for Plan {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut plan = serializer.serialize_struct("Plan", 9)?;
        plan.serialize_field("model", self.model())?;
        plan.serialize_field("family", self.family())?;
        plan.serialize_field("mode", self.mode())?;
        plan.serialize_field("endpoint", self.endpoint())?;
        plan.serialize_field("body", self.body())?;
        plan.serialize_field("effective", &self.effective())?;
        plan.serialize_field("warnings", &self.warnings)?;
        plan.serialize_field("billing", self.billing())?;
        plan.serialize_field("preconditions", &self.preconditions())?;
        plan.end()
    }
}

/// The effective values of a plan, read without copying: the body's own values,
/// then the defaults of the fields it leaves out; objects keep the request's
/// nesting with their sub-fields' defaults filled in (built once per plan,
/// only for models whose sub-fields have defaults), and `get` takes a path. Iterates and serialises in
/// name order, like a JSON object map.
#[derive(Clone, Copy)]
pub struct Effective<'a> {
    body: &'a Map<String, Value>,
    /// Name-sorted; a sub-field's default under its path (`metadata.resolution`).
    defaults: &'a [(String, Value)],
    losing: &'a [String],
    /// Objects with their sub-fields' defaults filled in, name-sorted: they
    /// stand in for the body's own.
    filled: &'a [(String, Value)],
}

static NULL: Value = Value::Null;

/// The defaults of field `path` and of its sub-fields at any depth, under
/// their paths (`metadata.resolution`).
pub(crate) fn defaults_below(path: &str, field: &Field, out: &mut Vec<(String, Value)>) {
    if let Some(default) = &field.default {
        out.push((path.to_owned(), default.value.clone()));
    }
    for (key, inner) in &field.fields {
        defaults_below(&format!("{path}.{key}"), &inner.value, out);
    }
}

/// The objects of `body` with the defaults of their sub-fields filled in,
/// and the objects the body leaves out that such defaults make (a sub-field's
/// default applies when its object is absent too), sorted by name. Fields
/// in `losing`, and sub-fields below them, get no default.
pub(crate) fn fill_objects(
    body: &Map<String, Value>,
    defaults: &[(String, Value)],
    losing: &[String],
) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for (path, default) in defaults {
        let Some((top, rest)) = field_path::split_top(path) else {
            continue;
        };
        if field_path::is_dropped(losing, path)
            || field_path::get(body, path).is_some()
            || body.get(top).is_some_and(|given| !given.is_object())
        {
            continue;
        }
        let index = match out.iter().position(|(name, _)| name == top) {
            Some(index) => index,
            None => {
                let start = body
                    .get(top)
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()));
                out.push((top.to_owned(), start));
                out.len() - 1
            }
        };
        if let Value::Object(object) = &mut out[index].1 {
            field_path::insert(object, rest, default.clone());
        }
    }
    out.sort_by(|left, right| left.0.cmp(&right.0));
    out
}

/// The default for `name` in a name-sorted list of defaults.
pub(crate) fn default_in<'a>(defaults: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    defaults
        .binary_search_by(|(field, _)| field.as_str().cmp(name))
        .ok()
        .map(|index| &defaults[index].1)
}

impl<'a> Effective<'a> {
    /// The body's values, then `defaults` (name-sorted) for fields the body
    /// leaves out, except those that lost dispatch.
    pub(crate) fn new(
        body: &'a Map<String, Value>,
        defaults: &'a [(String, Value)],
        losing: &'a [String],
    ) -> Effective<'a> {
        Effective {
            body,
            defaults,
            losing,
            filled: &[],
        }
    }

    /// These values with `filled` (objects with their sub-fields' defaults
    /// filled in, name-sorted) in place of the body's own objects.
    pub(crate) fn with_filled(self, filled: &'a [(String, Value)]) -> Effective<'a> {
        Effective { filled, ..self }
    }

    /// The value the gateway uses for field `path` (`duration`, or a
    /// sub-field: `metadata.resolution`), if any.
    pub fn get(&self, path: &str) -> Option<&'a Value> {
        let (top, rest) = field_path::split_top(path).unwrap_or((path, ""));
        let mut value = default_in(self.filled, top)
            .or_else(|| self.body.get(top))
            .or_else(|| default_in(self.defaults, top).filter(|_| !self.lost(top)));
        if !rest.is_empty() {
            value = value.and_then(|value| field_path::get(value.as_object()?, rest));
        }
        value.or_else(|| default_in(self.defaults, path).filter(|_| !self.lost(path)))
    }

    /// Whether field `path` lost to another (dispatch or priority).
    fn lost(&self, path: &str) -> bool {
        field_path::is_dropped(self.losing, path)
    }

    /// Whether the gateway uses a value for field `path`.
    pub fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Every effective top-level value, in name order (objects with their
    /// sub-fields' defaults filled in).
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        let losing = self.losing;
        let own = self.body.iter().map(|(name, value)| (name.as_str(), value));
        let defaults = self
            .defaults
            .iter()
            .filter(move |(name, _)| {
                !field_path::is_nested(name) && !losing.iter().any(|lost| lost == name)
            })
            .map(|(name, value)| (name.as_str(), value));
        let filled = self
            .filled
            .iter()
            .map(|(name, value)| (name.as_str(), value));
        merge_by_name(filled, merge_by_name(own, defaults))
    }

    /// How many effective values there are.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The effective values as an owned map.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(name, value)| (name.to_owned(), value.clone()))
            .collect()
    }
}

/// A merge of two name-ordered lists; `first`'s value wins a tie.
fn merge_by_name<'a>(
    first: impl Iterator<Item = (&'a str, &'a Value)>,
    second: impl Iterator<Item = (&'a str, &'a Value)>,
) -> impl Iterator<Item = (&'a str, &'a Value)> {
    let mut first = first.peekable();
    let mut second = second.peekable();
    std::iter::from_fn(move || {
        let take_first = match (first.peek(), second.peek()) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((left, _)), Some((right, _))) => match left.cmp(right) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => {
                    second.next();
                    true
                }
            },
        };
        if take_first {
            first.next()
        } else {
            second.next()
        }
    })
}

impl std::ops::Index<&str> for Effective<'_> {
    type Output = Value;

    /// The value for `name`, or `Null` when the gateway uses none (like
    /// indexing a `serde_json::Value`).
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&NULL)
    }
}

impl PartialEq for Effective<'_> {
    fn eq(&self, other: &Effective<'_>) -> bool {
        self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Effective<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Effective<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_sub_field_default_fills_its_object_given_or_not_and_get_reads_it_by_path() {
        let defaults = vec![
            ("duration".to_owned(), json!(6)),
            ("metadata.resolution".to_owned(), json!("768p")),
        ];
        for (body, expected) in [
            (json!({}), json!({"resolution": "768p"})),
            (
                json!({"metadata": {"watermark": true}}),
                json!({"resolution": "768p", "watermark": true}),
            ),
            (
                json!({"metadata": {"resolution": "1080p"}}),
                json!({"resolution": "1080p"}),
            ),
        ] {
            let body = object(body);
            let filled = fill_objects(&body, &defaults, &[]);
            let effective = Effective::new(&body, &defaults, &[]).with_filled(&filled);
            assert_eq!(effective.get("metadata"), Some(&expected), "{body:?}");
            assert_eq!(
                effective.get("metadata.resolution"),
                expected.get("resolution"),
                "{body:?}"
            );
            assert_eq!(
                effective.iter().map(|(name, _)| name).collect::<Vec<_>>(),
                ["duration", "metadata"],
                "a path is never a top-level name"
            );
        }
    }

    #[test]
    fn a_field_that_lost_takes_its_sub_fields_defaults_with_it() {
        let defaults = vec![("metadata.resolution".to_owned(), json!("768p"))];
        let losing = vec!["metadata".to_owned()];
        let body = Map::new();
        let filled = fill_objects(&body, &defaults, &losing);
        let effective = Effective::new(&body, &defaults, &losing).with_filled(&filled);
        assert_eq!(effective.get("metadata.resolution"), None);
        assert!(effective.is_empty());
    }
}
