//! Local files where a request puts URLs: finding them in every URL field at
//! any depth (a sub-field of an object field, or of each object of an array,
//! under its name or its alias at each level), telling which kind of media each is by its field's
//! constraints, and wording the refusal of a local video or audio file, which
//! the gateway cannot take (it uploads images only).
//!
//! It finds and words only: checking the files (pre-flight) and uploading
//! them is the workflow's, through vidspec-transport. It must not hold model
//! knowledge: URL fields are found through the spec's field types.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use vidspec_core::compile::escape;
use vidspec_core::spec::{Field, FieldType};

/// Which kind of file a URL field takes, by its constraints: a field with
/// `video:` or `audio:` takes that; any other URL field takes an image (the
/// one kind the gateway can upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// An image (uploaded).
    Image,
    /// A video (refused: no upload endpoint).
    Video,
    /// An audio file (refused: no upload endpoint).
    Audio,
}

impl Media {
    fn of(field: &Field) -> Media {
        if field.video_constraints().is_some() {
            Media::Video
        } else if field.audio_constraints().is_some() {
            Media::Audio
        } else {
            Media::Image
        }
    }

    /// The kind in a sentence's words, plural.
    fn plural(self) -> &'static str {
        match self {
            Media::Image => "images",
            Media::Video => "videos",
            Media::Audio => "audio files",
        }
    }
}

/// A local path found in a URL field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// JSON pointer to the value in the request as written (aliases as the
    /// request spells them): where the upload's URL is put, and where
    /// findings point.
    pub request_pointer: String,
    /// JSON pointer to the value in the body (canonical names at every
    /// level): where the plan's preconditions name it.
    pub body_pointer: String,
    /// The path as written.
    pub path: String,
    /// What the field takes.
    pub media: Media,
}

/// Is a value in a URL field a local path? Not when its scheme, as the URL
/// parser reads it (any case; `http:/x` is `http://x/`), is `http`, `https`
/// or `data`; nor when it names one of those schemes but does not parse
/// (`http://` alone): the request's validation and the gateway judge that,
/// not the file system. Anything else, a Windows drive (`C:\x.png`) too,
/// is a path.
fn is_local(text: &str) -> bool {
    let scheme = match url::Url::parse(text) {
        Ok(url) => url.scheme().to_owned(),
        Err(_) => match text.trim_start().split_once(':') {
            Some((scheme, _)) => scheme.to_ascii_lowercase(),
            None => return true,
        },
    };
    !matches!(scheme.as_str(), "http" | "https" | "data")
}

/// Every local path in the URL fields of `request`, at any depth, in field
/// order.
pub fn local_files(fields: &BTreeMap<String, Field>, request: &Value) -> Vec<LocalFile> {
    let mut found = Vec::new();
    if let Some(object) = request.as_object() {
        walk(
            &fields.iter().collect::<Vec<_>>(),
            object,
            "",
            "",
            &mut found,
        );
    }
    found
}

/// Looks for local paths among `fields` in `object`, each field under its
/// name and its alias, and below in the sub-fields of object fields.
fn walk(
    fields: &[(&String, &Field)],
    object: &Map<String, Value>,
    request_prefix: &str,
    body_prefix: &str,
    found: &mut Vec<LocalFile>,
) {
    for &(name, field) in fields {
        let body_pointer = format!("{body_prefix}/{}", escape(name));
        let url_items = field
            .items
            .as_ref()
            .is_some_and(|items| items.value.kind == FieldType::Url);
        // Arrays of objects: the items' own fields, in each item.
        let item_fields: Vec<(&String, &Field)> = field
            .items
            .as_ref()
            .filter(|items| items.value.kind == FieldType::Object)
            .map(|items| {
                items
                    .value
                    .fields
                    .iter()
                    .map(|(key, inner)| (key, &inner.value))
                    .collect()
            })
            .unwrap_or_default();
        for key in std::iter::once(name).chain(field.alias.as_ref()) {
            let request_pointer = format!("{request_prefix}/{}", escape(key));
            let local = |request_pointer: String, body_pointer: String, path: &str| LocalFile {
                request_pointer,
                body_pointer,
                path: path.to_owned(),
                media: Media::of(field),
            };
            match object.get(key.as_str()) {
                Some(Value::String(text)) if field.kind == FieldType::Url && is_local(text) => {
                    found.push(local(request_pointer, body_pointer.clone(), text));
                }
                Some(Value::Array(items)) if url_items => {
                    for (index, item) in items.iter().enumerate() {
                        if let Some(text) = item.as_str().filter(|text| is_local(text)) {
                            found.push(local(
                                format!("{request_pointer}/{index}"),
                                format!("{body_pointer}/{index}"),
                                text,
                            ));
                        }
                    }
                }
                Some(Value::Array(items)) if !item_fields.is_empty() => {
                    for (index, item) in items.iter().enumerate() {
                        if let Some(inner) = item.as_object() {
                            walk(
                                &item_fields,
                                inner,
                                &format!("{request_pointer}/{index}"),
                                &format!("{body_pointer}/{index}"),
                                found,
                            );
                        }
                    }
                }
                Some(Value::Object(inner)) if field.kind == FieldType::Object => {
                    let inner_fields: Vec<(&String, &Field)> = field
                        .fields
                        .iter()
                        .map(|(key, inner)| (key, &inner.value))
                        .collect();
                    walk(&inner_fields, inner, &request_pointer, &body_pointer, found);
                }
                _ => {}
            }
        }
    }
}

/// Why `file` (a local video or audio file) is not sent, and what to do
/// instead; `None` for an image, which is uploaded.
pub fn refusal(file: &LocalFile) -> Option<String> {
    (file.media != Media::Image).then(|| {
        format!(
            "{}: {} is a local file, but the gateway has no upload endpoint for {} (only images \
             can be uploaded); put the file at an http(s) URL the gateway can fetch and pass that \
             URL instead",
            file.request_pointer,
            file.path,
            file.media.plural()
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vidspec_core::spec::Field;

    use super::*;

    /// The fields of a one-model spec whose `fields:` block is `yaml`
    /// (each line indented by two spaces here).
    fn fields(yaml: &str) -> BTreeMap<String, Field> {
        let indented: String = yaml.lines().map(|line| format!("  {line}\n")).collect();
        let text = format!(
            "family: t\ndescription: t\nendpoint: {{method: POST, path: /v1/t}}\n\
             models: [{{id: t-1}}]\nfields:\n{indented}billing: {{key: \"{{model}}\"}}\n"
        );
        let spec = vidspec_core::load::parse_spec(&vidspec_core::Source::new("t.yaml", text))
            .expect("a spec");
        spec.fields
            .into_iter()
            .map(|(name, field)| (name, field.value))
            .collect()
    }

    #[test]
    fn a_local_path_is_found_under_a_sub_fields_alias_with_its_canonical_body_pointer() {
        let fields = fields(
            "meta/data:\n  type: object\n  fields:\n    frame:\n      type: url\n      alias: first~frame\n",
        );
        let found = local_files(&fields, &json!({"meta/data": {"first~frame": "a.png"}}));
        assert_eq!(
            found,
            vec![LocalFile {
                request_pointer: "/meta~1data/first~0frame".to_owned(),
                body_pointer: "/meta~1data/frame".to_owned(),
                path: "a.png".to_owned(),
                media: Media::Image,
            }]
        );
    }

    #[test]
    fn a_local_path_in_a_url_field_of_an_array_of_objects_is_found_in_each_item() {
        let fields = fields(
            "shots:\n  type: array\n  items:\n    type: object\n    fields:\n      clip: {type: url, video: {max_seconds: 5}}\n",
        );
        let request = json!({"shots": [{"clip": "https://example.com/a.mp4"}, {"clip": "b.mp4"}]});
        let found = local_files(&fields, &request);
        assert_eq!(
            found,
            vec![LocalFile {
                request_pointer: "/shots/1/clip".to_owned(),
                body_pointer: "/shots/1/clip".to_owned(),
                path: "b.mp4".to_owned(),
                media: Media::Video,
            }]
        );
    }

    #[test]
    fn urls_data_uris_and_non_url_fields_are_not_local_files() {
        let fields = fields(
            "clip: {type: url, video: {max_seconds: 5}}\nnote: {type: string}\nimages: {type: array, items: {type: url}}\n",
        );
        let request = json!({
            "clip": "HTTPS://example.com/a.mp4",
            "note": "a.png",
            "images": ["data:image/png;base64,AA", "b.png"],
        });
        let found = local_files(&fields, &request);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].request_pointer, "/images/1");
    }

    #[test]
    fn a_url_is_told_from_a_path_by_its_parsed_scheme_in_any_case() {
        for url in [
            "HTTPS://example.com/a.png",
            "Http://example.com/a.png",
            "http:/example.com/a.png",
            "https://user:secret@example.com/a.png",
            "DATA:image/png;base64,AA",
            "data:,x",
            "http://",
        ] {
            assert!(!is_local(url), "{url}");
        }
        for path in [
            "a.png",
            "./http/a.png",
            "C:\\images\\a.png",
            "file:///tmp/a.png",
            "httpx://a.png",
            "images/data:x.png",
        ] {
            assert!(is_local(path), "{path}");
        }
    }

    #[test]
    fn a_local_video_is_refused_naming_its_place_and_what_to_do_and_an_image_is_not() {
        let fields = fields("clip: {type: url, video: {max_seconds: 5}}\nframe: {type: url}\n");
        let found = local_files(&fields, &json!({"clip": "a.mp4", "frame": "a.png"}));
        let words: Vec<Option<String>> = found.iter().map(refusal).collect();
        assert!(
            words[0]
                .as_deref()
                .is_some_and(|text| text.starts_with("/clip: a.mp4")
                    && text.contains("no upload endpoint for videos")
                    && text.contains("http(s) URL"))
        );
        assert_eq!(words[1], None);
    }
}
