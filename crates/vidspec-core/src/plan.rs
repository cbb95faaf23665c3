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
use crate::spec::{AudioConstraints, ImageConstraints, Task, TaskReference, VideoConstraints};

/// Where and how a plan is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanEndpoint {
    /// HTTP method.
    pub method: String,
    /// Path below the base URL.
    pub path: String,
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
        Plan {
            facts,
            mode,
            body: Value::Object(body),
            losing,
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
        self.body = Value::Object(body);
        self.billing = OnceLock::new();
        self
    }

    /// Every value the gateway will use: the body with defaults (and, where the
    /// endpoint takes no model field, `model`) filled in.
    pub fn effective(&self) -> Effective<'_> {
        Effective::new(self.body(), &self.facts.defaults[self.mode], &self.losing)
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
            let Some(value) = self.body().get(&checked.field) else {
                continue;
            };
            let name = crate::compile::escape(&checked.field);
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
/// then the defaults of the fields it leaves out. Iterates and serialises in
/// name order, like a JSON object map.
#[derive(Clone, Copy)]
pub struct Effective<'a> {
    body: &'a Map<String, Value>,
    defaults: &'a [(String, Value)],
    losing: &'a [String],
}

static NULL: Value = Value::Null;

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
        }
    }

    /// The value the gateway uses for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.body.get(name).or_else(|| {
            default_in(self.defaults, name).filter(|_| !self.losing.iter().any(|lost| lost == name))
        })
    }

    /// Whether the gateway uses a value for `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every effective value, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        let losing = self.losing;
        let mut own = self.body.iter().peekable();
        let mut defaults = self
            .defaults
            .iter()
            .filter(move |(name, _)| !losing.iter().any(|lost| lost == name))
            .peekable();
        // A merge of two name-ordered lists; the body's value wins a tie.
        std::iter::from_fn(move || {
            let take_own = match (own.peek(), defaults.peek()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((left, _)), Some((right, _))) => match left.as_str().cmp(right.as_str()) {
                    Ordering::Less => true,
                    Ordering::Greater => false,
                    Ordering::Equal => {
                        defaults.next();
                        true
                    }
                },
            };
            if take_own {
                own.next().map(|(name, value)| (name.as_str(), value))
            } else {
                defaults.next().map(|(name, value)| (name.as_str(), value))
            }
        })
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
