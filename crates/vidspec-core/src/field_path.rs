//! Field paths: how a spec names a sub-field of an `object` field
//! (`metadata.resolution`), and the few operations every stage needs on them —
//! finding the field a path names, reading, removing and writing the value at
//! a path of a request, and the JSON pointer of a path.
//!
//! A path is the field names from the top of the request down, joined by `.`;
//! a field name never holds a `.` (lint refuses one), so a path splits
//! unambiguously. This module owns the spelling of paths only: it must not
//! judge requests or word messages (lint words the problems it finds).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::spec::{Field, FieldType};

/// The separator of a path's segments.
pub const SEPARATOR: char = '.';

/// A path's first segment and the rest after the separator
/// (`metadata`, `resolution`), or `None` for a top-level name.
///
/// Every request passes each default and each dispatch trigger through here,
/// so it looks for the separator byte by byte: `str::split_once(char)` sets up
/// a searcher per call, and with it the searcher took 13.6M instructions per
/// 20,000 requests of `check --batch` for names that are nearly all
/// top-level; the byte search took 7.4M off the total (callgrind; README,
/// Performance).
pub fn split_top(path: &str) -> Option<(&str, &str)> {
    let at = path.bytes().position(|byte| byte == SEPARATOR as u8)?;
    Some((&path[..at], &path[at + 1..]))
}

/// The top-level field a path starts at (`metadata` of `metadata.resolution`).
pub fn top(path: &str) -> &str {
    split_top(path).map_or(path, |(top, _)| top)
}

/// Whether `path` names a sub-field (it has more than one segment).
pub fn is_nested(path: &str) -> bool {
    split_top(path).is_some()
}

/// The JSON pointer of `path` relative to the request (`/metadata/resolution`).
pub fn pointer(path: &str) -> String {
    path.split(SEPARATOR)
        .map(|segment| format!("/{}", crate::compile::escape(segment)))
        .collect()
}

/// The JSON pointer of `path` without its leading `/` (`metadata/resolution`).
pub fn pointer_segments(path: &str) -> String {
    path.split(SEPARATOR)
        .map(crate::compile::escape)
        .collect::<Vec<_>>()
        .join("/")
}

/// Every field below `fields` with its path, each top-level field followed
/// by its sub-fields.
pub fn every_field(fields: &BTreeMap<String, Field>) -> Vec<(String, &Field)> {
    let mut paths = Vec::new();
    for (name, field) in fields {
        paths_below(name, field, &mut paths);
    }
    paths
        .into_iter()
        .filter_map(|path| field(fields, &path).ok().map(|found| (path, found)))
        .collect()
}

/// What is wrong with a path, for lint to word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    /// No field of that name at the segment that fails (the whole path is unknown).
    Unknown,
    /// The path goes on below `parent`, a field of another type than `object`.
    NotAnObject {
        /// The path of the field that has no sub-fields.
        parent: String,
        /// Its type, in words.
        kind: &'static str,
    },
}

/// The field `path` names among the top-level `fields` (overrides applied).
pub fn field<'f>(
    fields: &'f BTreeMap<String, Field>,
    path: &str,
) -> Result<&'f Field, PathProblem> {
    let mut segments = path.split(SEPARATOR);
    let first = segments.next().unwrap_or(path);
    let Some(field) = fields.get(first) else {
        return Err(PathProblem::Unknown);
    };
    descend(field, first, segments)
}

/// The field below `field` (named `at`) that the remaining `segments` name.
pub fn descend<'f, 's>(
    mut field: &'f Field,
    at: &str,
    segments: impl Iterator<Item = &'s str>,
) -> Result<&'f Field, PathProblem> {
    let mut walked = at.to_owned();
    for segment in segments {
        if field.kind != FieldType::Object {
            return Err(PathProblem::NotAnObject {
                parent: walked,
                kind: crate::construct::field::type_words(field.kind),
            });
        }
        let Some(inner) = field.fields.get(segment) else {
            return Err(PathProblem::Unknown);
        };
        field = &inner.value;
        walked.push(SEPARATOR);
        walked.push_str(segment);
    }
    Ok(field)
}

/// Every path below `field` (named `path`), the field's own first.
pub fn paths_below(path: &str, field: &Field, out: &mut Vec<String>) {
    out.push(path.to_owned());
    for (key, inner) in &field.fields {
        paths_below(&format!("{path}{SEPARATOR}{key}"), &inner.value, out);
    }
}

/// The value at `path` in a request object, if it is there.
pub fn get<'v>(object: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    match split_top(path) {
        None => object.get(path),
        Some((top, rest)) => get(object.get(top)?.as_object()?, rest),
    }
}

/// The value at `path` in a request given as any JSON value.
pub fn get_in<'v>(request: &'v Value, path: &str) -> Option<&'v Value> {
    get(request.as_object()?, path)
}

/// Removes the value at `path` from a request object; the value, if it was there.
pub fn remove(object: &mut Map<String, Value>, path: &str) -> Option<Value> {
    match path.rsplit_once(SEPARATOR) {
        None => object.remove(path),
        Some((parent, key)) => {
            let mut segments = parent.split(SEPARATOR);
            let mut current = object.get_mut(segments.next()?)?.as_object_mut()?;
            for segment in segments {
                current = current.get_mut(segment)?.as_object_mut()?;
            }
            current.remove(key)
        }
    }
}

/// Writes `value` at `path` in a request object, making the objects on the
/// way that are missing; a non-object on the way is left as it is and nothing
/// is written.
pub fn insert(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.rsplit_once(SEPARATOR) {
        None => {
            object.insert(path.to_owned(), value);
        }
        Some((parent, key)) => {
            let mut current = object;
            for segment in parent.split(SEPARATOR) {
                let entry = current
                    .entry(segment.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                let Some(inner) = entry.as_object_mut() else {
                    return;
                };
                current = inner;
            }
            current.insert(key.to_owned(), value);
        }
    }
}

/// Whether `path` is among `dropped` or below one of them.
pub fn is_dropped(dropped: &[String], path: &str) -> bool {
    dropped.iter().any(|gone| {
        path == gone
            || path
                .strip_prefix(gone.as_str())
                .is_some_and(|rest| rest.starts_with(SEPARATOR))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_path_reads_writes_and_removes_the_value_below_its_objects() {
        let mut request = object(json!({"metadata": {"resolution": "1080p"}, "duration": 6}));
        assert_eq!(get(&request, "metadata.resolution"), Some(&json!("1080p")));
        assert_eq!(get(&request, "duration.seconds"), None);
        insert(&mut request, "metadata.camera.zoom", json!(2));
        assert_eq!(get(&request, "metadata.camera.zoom"), Some(&json!(2)));
        assert_eq!(
            remove(&mut request, "metadata.resolution"),
            Some(json!("1080p"))
        );
        assert_eq!(
            Value::Object(request),
            json!({"metadata": {"camera": {"zoom": 2}}, "duration": 6})
        );
    }

    #[test]
    fn a_path_is_dropped_with_itself_and_with_any_object_above_it() {
        let dropped = ["metadata".to_owned(), "audio".to_owned()];
        assert!(is_dropped(&dropped, "metadata.resolution"));
        assert!(is_dropped(&dropped, "audio"));
        assert!(!is_dropped(&dropped, "audio_url"));
        assert!(!is_dropped(&dropped, "metadatax.y"));
    }

    #[test]
    fn the_pointer_of_a_path_escapes_each_segment() {
        assert_eq!(pointer("metadata.a/b"), "/metadata/a~1b");
        assert_eq!(pointer("duration"), "/duration");
    }
}
