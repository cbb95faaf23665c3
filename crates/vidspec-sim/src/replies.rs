//! JSON answers in the gateway's shapes: success bodies, the error bodies of
//! `gateway-facts.md` §1.4 and §3.1, and the two spoiled answers (a body cut
//! in half, a connection dropped mid-answer).
//!
//! This module only builds responses; it must not decide when to send them.

use std::io;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::checks::Rejection;

/// A JSON answer before it becomes a response (so a fault can still spoil it).
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// JSON body.
    pub(crate) body: Value,
    /// `Retry-After` header value in seconds, if any.
    pub(crate) retry_after: Option<u64>,
    /// Whether this is a kept answer sent again for an idempotency key
    /// (`Idempotency-Replayed: true`).
    pub(crate) replayed: bool,
}

impl Reply {
    /// A 200 with `body`.
    pub(crate) fn ok(body: Value) -> Reply {
        Reply::with_status(StatusCode::OK, body)
    }

    fn with_status(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body,
            retry_after: None,
            replayed: false,
        }
    }

    /// The same answer, marked as a replay for an idempotency key.
    pub(crate) fn replayed(mut self) -> Reply {
        self.replayed = true;
        self
    }

    /// 409 `idempotency_in_progress`: the first request with this key is
    /// still running; wait `retry_after` seconds.
    pub(crate) fn idempotency_in_progress(retry_after: u64) -> Reply {
        let mut reply = Reply::error(
            StatusCode::CONFLICT,
            json!("idempotency_in_progress"),
            "A request with this Idempotency-Key is still in progress; retry after Retry-After with the same key",
            "idempotency_error",
        );
        reply.retry_after = Some(retry_after);
        reply
    }

    /// 409 `idempotency_key_reused`: the key came with another body.
    pub(crate) fn idempotency_key_reused() -> Reply {
        Reply::error(
            StatusCode::CONFLICT,
            json!("idempotency_key_reused"),
            "This Idempotency-Key was used with a different request body",
            "idempotency_error",
        )
    }

    /// 409 `idempotency_result_indeterminate`: the outcome is unknown.
    pub(crate) fn idempotency_result_indeterminate() -> Reply {
        Reply::error(
            StatusCode::CONFLICT,
            json!("idempotency_result_indeterminate"),
            "The result of the request with this Idempotency-Key is indeterminate; stop retrying and keep the key",
            "idempotency_error",
        )
    }

    /// 503 `idempotency_unavailable`: the request was not executed.
    pub(crate) fn idempotency_unavailable() -> Reply {
        Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            json!("idempotency_unavailable"),
            "Idempotency is temporarily unavailable; the request was not executed",
            "idempotency_error",
        )
    }

    /// 400 for an `Idempotency-Key` that is not 1–191 visible ASCII characters.
    pub(crate) fn invalid_idempotency_key(message: &str) -> Reply {
        Reply::error(
            StatusCode::BAD_REQUEST,
            json!("invalid_idempotency_key"),
            message,
            "invalid_request_error",
        )
    }

    /// `{"error":{"code","message","type"}}` with `status`.
    fn error(status: StatusCode, code: Value, message: &str, kind: &str) -> Reply {
        Reply::with_status(
            status,
            json!({"error": {"code": code, "message": message, "type": kind}}),
        )
    }

    /// 400 from a request check: `code` is the check's code, `type` is
    /// `invalid_request_error`.
    pub(crate) fn rejected(rejection: &Rejection) -> Reply {
        Reply::error(
            StatusCode::BAD_REQUEST,
            json!(rejection.code),
            &rejection.message,
            "invalid_request_error",
        )
    }

    /// 401 exactly as the real gateway answered a probe without a key.
    pub(crate) fn unauthorized(request_id: &str) -> Reply {
        Reply::with_status(
            StatusCode::UNAUTHORIZED,
            json!({"error": {
                "code": "",
                "message": format!("invalid API key (request id: {request_id})"),
                "param": "",
                "type": "apimart_error",
            }}),
        )
    }

    /// 402 `payment_required`.
    pub(crate) fn payment_required() -> Reply {
        Reply::error(
            StatusCode::PAYMENT_REQUIRED,
            json!(402),
            "Insufficient balance. Please top up your account",
            "payment_required",
        )
    }

    /// 429 `rate_limit_error`, with `Retry-After` when given.
    pub(crate) fn rate_limited(retry_after: Option<u64>) -> Reply {
        let mut reply = Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            json!(429),
            "Rate limit exceeded. Please try again later",
            "rate_limit_error",
        );
        reply.retry_after = retry_after;
        reply
    }

    /// 500 `server_error`.
    pub(crate) fn server_error() -> Reply {
        Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!(500),
            "Internal server error. Please try again later",
            "server_error",
        )
    }

    /// 404 for an unknown task id.
    pub(crate) fn task_not_found() -> Reply {
        Reply::error(
            StatusCode::NOT_FOUND,
            json!(404),
            "task not found",
            "not_found",
        )
    }

    /// 404 for any other unknown path or resource.
    pub(crate) fn not_found(what: &str) -> Reply {
        Reply::error(StatusCode::NOT_FOUND, json!(404), what, "not_found")
    }

    /// An upload error: `{"error":{"message","type":"invalid_request_error"}}`
    /// without a `code`, as the upload page shows.
    pub(crate) fn upload_error(status: StatusCode, message: &str) -> Reply {
        Reply::with_status(
            status,
            json!({"error": {"message": message, "type": "invalid_request_error"}}),
        )
    }

    /// The same answer as 200 with its JSON text cut in half (invalid JSON).
    pub(crate) fn truncated(self) -> Response {
        let text = self.body.to_string();
        let mut cut = text.len() / 2;
        while cut > 1 && !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = cut.max(1).min(text.len());
        let mut response = json_response(StatusCode::OK, Body::from(text[..cut].to_owned()), None);
        mark_replayed(&mut response, self.replayed);
        response
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = json_response(
            self.status,
            Body::from(self.body.to_string()),
            self.retry_after,
        );
        mark_replayed(&mut response, self.replayed);
        response
    }
}

/// Adds `Idempotency-Replayed: true` to a replayed answer.
fn mark_replayed(response: &mut Response, replayed: bool) {
    if replayed {
        response.headers_mut().insert(
            crate::idempotency::REPLAYED_HEADER,
            HeaderValue::from_static("true"),
        );
    }
}

fn json_response(status: StatusCode, body: Body, retry_after: Option<u64>) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A 200 whose body fails at once, so hyper aborts the connection before the
/// message is complete: the client sees a connection error, never a body.
pub(crate) fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "simulated dropped connection",
        ))
    });
    json_response(StatusCode::OK, Body::from_stream(failing), None)
}
