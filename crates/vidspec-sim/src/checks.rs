//! The simulator's own request checks, written by hand from the seed pages on
//! plain `serde_json::Value`s.
//!
//! These checks are deliberately independent of vidspec-core: the simulator
//! judges what the engine sends, so it must not reuse the engine's specs,
//! schemas or validation. It checks the rules the gateway is documented to
//! answer with a 400 (prompt, Omni-Flash-Ext's coded errors, Midjourney's
//! input rules); it does not try to be a full validator. A model id it has no
//! page for (a model added as data, outside this repository) is not refused:
//! it gets a generic task, judged only as a JSON object with a string model.

use serde_json::Value;

/// Model ids the simulator has checks for (the five seed pages); any other
/// id is a model added as data and gets a generic task.
pub(crate) const KNOWN_MODELS: &[&str] = &[
    "pixverse-v6",
    "viduq3",
    "viduq3-mix",
    "Omni-Flash-Ext",
    "veo3.1-fast-official",
    "veo3.1-quality-official",
];

/// Midjourney `video_type` values (seed page table, M4).
const MIDJOURNEY_VIDEO_TYPES: &[&str] = &[
    "vid_1.1_i2v_480",
    "vid_1.1_i2v_720",
    "vid_1.1_i2v_start_end_480",
    "vid_1.1_i2v_start_end_720",
];

/// A request the gateway would refuse with a 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// `error.code` (`invalid_request_error`, `invalid_duration`, …).
    pub(crate) code: &'static str,
    /// `error.message`.
    pub(crate) message: String,
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection {
        code: "invalid_request_error",
        message: message.into(),
    }
}

/// What a valid generation request tells the task table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Accepted {
    /// The prompt (may be empty for a Midjourney request with `task_id`).
    pub(crate) prompt: String,
    /// Number of result videos.
    pub(crate) videos: usize,
}

/// A field's value, with JSON `null` treated as absent.
fn field<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|value| !value.is_null())
}

/// Parses a request body: it must be a JSON object.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Value, Rejection> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err(invalid("request body must be a JSON object")),
        Err(error) => Err(invalid(format!("invalid JSON body: {error}"))),
    }
}

/// The prompt as a string, or a rejection when it is not a string.
fn prompt_text(body: &Value) -> Result<Option<&str>, Rejection> {
    match field(body, "prompt") {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(invalid("prompt must be a string")),
    }
}

/// Checks a `POST /v1/videos/generations` body: the model is required; a
/// model the simulator knows gets its page's checks, any other a generic task.
pub(crate) fn check_generation(body: &Value) -> Result<Accepted, Rejection> {
    match model_id(body)? {
        None => Err(invalid("model is required")),
        Some(model) if KNOWN_MODELS.contains(&model) => check_known_model(body, model),
        Some(_) => Ok(generic(body)),
    }
}

/// Checks a submit posted to a path under `/v1/` that has no route of its
/// own (a spec may name its own endpoint, e.g. one per mode): a model the
/// simulator knows keeps its checks; anything else is a generic task.
pub(crate) fn check_unrouted(body: &Value) -> Result<Accepted, Rejection> {
    match model_id(body)? {
        Some(model) if KNOWN_MODELS.contains(&model) => check_known_model(body, model),
        _ => Ok(generic(body)),
    }
}

/// The body's `model`: absent, or a string.
fn model_id(body: &Value) -> Result<Option<&str>, Rejection> {
    match field(body, "model") {
        None => Ok(None),
        Some(Value::String(model)) => Ok(Some(model.as_str())),
        Some(_) => Err(invalid("model must be a string")),
    }
}

/// A task for a model the simulator has no page for: its rules are the
/// spec author's, so nothing beyond the body's shape is judged.
fn generic(body: &Value) -> Accepted {
    Accepted {
        prompt: field(body, "prompt")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        videos: 1,
    }
}

/// The checks of a model of the seed pages.
fn check_known_model(body: &Value, model: &str) -> Result<Accepted, Rejection> {
    let prompt = prompt_text(body)?.unwrap_or_default();
    if prompt.trim().is_empty() {
        return Err(invalid("prompt is required and must not be empty"));
    }
    if model == "Omni-Flash-Ext" {
        check_omni_flash_ext(body)?;
    }
    Ok(Accepted {
        prompt: prompt.to_owned(),
        videos: 1,
    })
}

/// Omni-Flash-Ext's coded errors (its page's error table).
fn check_omni_flash_ext(body: &Value) -> Result<(), Rejection> {
    if let Some(duration) = field(body, "duration") {
        let allowed = duration
            .as_i64()
            .is_some_and(|d| [4, 6, 8, 10].contains(&d));
        if !allowed {
            return Err(Rejection {
                code: "invalid_duration",
                message: format!("invalid duration {duration}, must be one of 4/6/8/10"),
            });
        }
    }
    if let Some(resolution) = field(body, "resolution") {
        let allowed = resolution.as_str().is_some_and(|r| {
            ["720p", "1080p", "4k"]
                .iter()
                .any(|known| known.eq_ignore_ascii_case(r))
        });
        if !allowed {
            return Err(Rejection {
                code: "invalid_resolution",
                message: format!("invalid resolution {resolution}, must be one of 720p/1080p/4k"),
            });
        }
    }
    if let Some(images) = field(body, "image_urls") {
        let Some(images) = images.as_array() else {
            return Err(invalid("image_urls must be an array of strings"));
        };
        if images.iter().any(|image| !image.is_string()) {
            return Err(invalid("image_urls must be an array of strings"));
        }
        if images.len() == 2 {
            return Err(Rejection {
                code: "unsupported_image_count",
                message: "unsupported image count 2, must be 0, 1 or 3".to_owned(),
            });
        }
    }
    Ok(())
}

/// Checks a `POST /v1/midjourney/generations/video` body (rules M1–M7).
pub(crate) fn check_midjourney(body: &Value) -> Result<Accepted, Rejection> {
    let has_images = match field(body, "image_urls") {
        None => false,
        Some(Value::Array(images)) if images.iter().all(Value::is_string) => !images.is_empty(),
        Some(_) => return Err(invalid("image_urls must be an array of strings")),
    };
    let has_task = match field(body, "task_id") {
        None => false,
        Some(Value::String(task)) => !task.trim().is_empty(),
        Some(_) => return Err(invalid("task_id must be a string")),
    };
    match (has_images, has_task) {
        (true, true) => return Err(invalid("image_urls and task_id cannot be used together")),
        (false, false) => {
            return Err(invalid(
                "one of image_urls or task_id is required (text-to-video is not supported)",
            ));
        }
        _ => {}
    }
    let prompt = prompt_text(body)?.unwrap_or_default();
    if prompt.trim().is_empty() && !has_task {
        return Err(invalid("prompt is required unless task_id is given"));
    }
    let batch_size = match field(body, "batch_size") {
        None => 1,
        Some(value) => match value.as_i64() {
            Some(size @ (1 | 2 | 4)) => size as usize,
            _ => {
                return Err(invalid(format!(
                    "invalid batch_size {value}, must be one of 1/2/4"
                )));
            }
        },
    };
    if let Some(video_type) = field(body, "video_type") {
        let known = video_type
            .as_str()
            .is_some_and(|v| MIDJOURNEY_VIDEO_TYPES.contains(&v));
        if !known {
            return Err(invalid(format!(
                "invalid video_type {video_type}, must be one of {}",
                MIDJOURNEY_VIDEO_TYPES.join("/")
            )));
        }
    }
    if let Some(index) = field(body, "index")
        && !index.as_i64().is_some_and(|i| (0..=3).contains(&i))
    {
        return Err(invalid(format!("invalid index {index}, must be 0 to 3")));
    }
    check_one_of(body, "motion", &["low", "high"])?;
    check_one_of(body, "animate_mode", &["manual", "auto"])?;
    let auto = field(body, "animate_mode").and_then(Value::as_str) == Some("auto");
    if auto && !(has_task && field(body, "index").is_some()) {
        return Err(invalid("animate_mode auto requires task_id and index"));
    }
    Ok(Accepted {
        prompt: prompt.to_owned(),
        videos: batch_size,
    })
}

fn check_one_of(body: &Value, name: &str, allowed: &[&str]) -> Result<(), Rejection> {
    match field(body, name) {
        Some(value) if !value.as_str().is_some_and(|v| allowed.contains(&v)) => {
            Err(invalid(format!(
                "invalid {name} {value}, must be one of {}",
                allowed.join("/")
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(result: Result<Accepted, Rejection>) -> &'static str {
        result
            .map(|_| "ok")
            .unwrap_or_else(|rejection| rejection.code)
    }

    #[test]
    fn generation_rules() {
        let omni = |extra: Value| {
            let mut body = json!({"model": "Omni-Flash-Ext", "prompt": "a fox"});
            if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
                body.extend(extra.clone());
            }
            check_generation(&body)
        };
        assert_eq!(code(omni(json!({}))), "ok");
        assert_eq!(
            code(omni(json!({"duration": 10, "resolution": "4K"}))),
            "ok"
        );
        assert_eq!(code(omni(json!({"duration": 7}))), "invalid_duration");
        assert_eq!(code(omni(json!({"duration": "6"}))), "invalid_duration");
        assert_eq!(
            code(omni(json!({"resolution": "2k"}))),
            "invalid_resolution"
        );
        assert_eq!(
            code(omni(json!({"image_urls": ["a", "b"]}))),
            "unsupported_image_count"
        );
        assert_eq!(code(omni(json!({"image_urls": ["a", "b", "c"]}))), "ok");
        assert_eq!(code(omni(json!({"prompt": " "}))), "invalid_request_error");
        assert_eq!(
            code(check_generation(&json!({"model": "sora", "prompt": "x"}))),
            "ok"
        );
        assert_eq!(
            code(check_generation(&json!({"model": 7, "prompt": "x"}))),
            "invalid_request_error"
        );
        assert_eq!(
            code(check_generation(&json!({"prompt": "x"}))),
            "invalid_request_error"
        );
        let message = omni(json!({"duration": 7})).unwrap_err().message;
        assert_eq!(message, "invalid duration 7, must be one of 4/6/8/10");
    }

    #[test]
    fn midjourney_rules() {
        let ok = check_midjourney(&json!({"prompt": "cat", "image_urls": ["u"], "batch_size": 4}));
        assert_eq!(ok.map(|a| a.videos), Ok(4));
        assert_eq!(code(check_midjourney(&json!({"task_id": "t"}))), "ok");
        for bad in [
            json!({"prompt": "cat"}),
            json!({"prompt": "cat", "image_urls": ["u"], "task_id": "t"}),
            json!({"image_urls": ["u"]}),
            json!({"prompt": "cat", "image_urls": ["u"], "batch_size": 3}),
            json!({"prompt": "cat", "image_urls": ["u"], "video_type": "vid_1.1_i2v_extend"}),
            json!({"prompt": "cat", "image_urls": ["u"], "animate_mode": "auto"}),
            json!({"task_id": "t", "index": 4}),
        ] {
            assert_eq!(
                code(check_midjourney(&bad)),
                "invalid_request_error",
                "{bad}"
            );
        }
        assert_eq!(
            code(check_midjourney(
                &json!({"task_id": "t", "index": 2, "animate_mode": "auto"})
            )),
            "ok"
        );
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(parse_body(b"{}").is_ok());
        assert!(parse_body(b"[]").is_err());
        assert!(parse_body(b"{").is_err());
    }
}
