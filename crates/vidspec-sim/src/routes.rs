//! The HTTP surface: the axum router, one handler per endpoint, the request-id
//! middleware, the API-key gate and the fault wrapper around submits and polls.
//!
//! Handlers here only sequence things (count, authorise, pick a fault, call
//! the check or the task table, answer); the judgement lives in `checks`, the
//! timelines in `tasks`, the body shapes in `replies`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Extension, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::checks;
use crate::config::{FaultTarget, SubmitShape};
use crate::faults::Injected;
use crate::idempotency::{self, Begin, Scope};
use crate::media::tiny_mp4;
use crate::replies::{Reply, dropped_connection};
use crate::state::SimState;
use crate::stats::bump;
use crate::task_list::TaskList;
use crate::tasks::TaskKind;
use crate::uploads::{self, MAX_UPLOAD_BYTES};
use crate::webhooks;

/// The top-level submit field naming a webhook base URL.
const WEBHOOK_FIELD: &str = "webhook";

/// Credits per USD (the gateway's `credits_cost = cost × 10`).
const CREDITS_PER_USD: f64 = 10.0;

/// The header that names each answer, as the gateway's one-api backend sends.
pub(crate) const REQUEST_ID_HEADER: &str = "x-oneapi-request-id";

/// Largest request body read (uploads may be 20 MB plus multipart framing;
/// generation bodies may carry base64 images).
const BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 4 * 1024 * 1024;

type Shared = State<Arc<SimState>>;

/// The id of the current request, put in the extensions by the middleware.
#[derive(Clone, Debug)]
struct RequestId(String);

/// The submit endpoints: the two of the seed pages, and any other path
/// under `/v1/` a spec may name.
#[derive(Clone, Copy, Debug)]
enum SubmitEndpoint {
    Generations,
    Midjourney,
    Unrouted,
}

/// The whole application.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/v1/videos/generations", post(submit_generation))
        .route("/v1/midjourney/generations/video", post(submit_midjourney))
        .route("/v1/tasks/{id}", get(poll_task))
        .route("/v1/balance", get(balance))
        .route("/v1/user/balance", get(balance))
        .route("/v1/uploads/images", post(upload_image))
        .route("/__sim/videos/{id}/{file}", get(download_video))
        .route("/__sim/uploads/{name}", get(serve_upload))
        .route("/__sim/stats", get(stats))
        .route("/__sim/tasks", get(task_list))
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), request_id))
        .with_state(state)
}

/// Gives every request an id and every answer the `X-Oneapi-Request-Id` header.
async fn request_id(State(state): Shared, mut request: Request, next: Next) -> Response {
    let id = state.request_id();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    response
}

/// The 401 answer when the key is missing or wrong, counted.
fn refuse_unauthorized(
    state: &SimState,
    request_id: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if state.authorized(authorization) {
        return None;
    }
    bump(&state.counters.unauthorized);
    Some(Reply::unauthorized(request_id).into_response())
}

/// Runs `handle` under the fault chosen for this request: refusing faults
/// answer instead of it; slow sleeps first; drop and malformed run it (so a
/// submit creates its task) and then spoil its answer.
async fn with_fault(
    state: &SimState,
    target: FaultTarget,
    handle: impl FnOnce() -> Reply,
) -> Response {
    match state.pick_fault(target) {
        Some(Injected::PaymentRequired) => Reply::payment_required().into_response(),
        Some(Injected::RateLimited(retry_after)) => {
            Reply::rate_limited(retry_after).into_response()
        }
        Some(Injected::ServerError) => Reply::server_error().into_response(),
        Some(Injected::Slow(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            handle().into_response()
        }
        Some(Injected::Drop) => {
            let _answer_never_sent = handle();
            dropped_connection()
        }
        Some(Injected::Malformed) => handle().truncated(),
        // Faults of idempotency keys hit only keyed submits (`keyed_submit`).
        Some(Injected::IdempotencyUnavailable | Injected::IdempotencyIndeterminate) | None => {
            handle().into_response()
        }
    }
}

async fn submit_generation(
    State(state): Shared,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    submit(
        &state,
        &id,
        &headers,
        &body,
        SubmitEndpoint::Generations,
        "/v1/videos/generations",
    )
    .await
}

async fn submit_midjourney(
    State(state): Shared,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    submit(
        &state,
        &id,
        &headers,
        &body,
        SubmitEndpoint::Midjourney,
        "/v1/midjourney/generations/video",
    )
    .await
}

async fn submit(
    state: &Arc<SimState>,
    request_id: &str,
    headers: &HeaderMap,
    body: &[u8],
    endpoint: SubmitEndpoint,
    path: &str,
) -> Response {
    bump(&state.counters.submit_attempts);
    if let Some(refusal) = refuse_unauthorized(state, request_id, headers) {
        return refusal;
    }
    if let Some(key) = headers.get(idempotency::KEY_HEADER) {
        let Some(problem) = idempotency::key_problem(key.as_bytes()) else {
            let scope = Scope {
                api_key: bearer_token(headers),
                path: path.to_owned(),
                key: String::from_utf8_lossy(key.as_bytes()).into_owned(),
            };
            return keyed_submit(state, &scope, body, endpoint).await;
        };
        bump(&state.counters.rejected);
        return Reply::invalid_idempotency_key(&problem).into_response();
    }
    with_fault(state, FaultTarget::Submits, || {
        accept_submit(state, body, endpoint)
    })
    .await
}

/// The token of an authorised request's `Authorization` header: the API key
/// an idempotency key is scoped to.
fn bearer_token(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .map(|(_, token)| token.trim().to_owned())
        .unwrap_or_default()
}

/// A submit carrying an idempotency key (see `idempotency`): a key seen
/// before is replayed or refused; a new one runs the request under the fault
/// chosen for it, and keeps its answer unless the request was not executed
/// (402, 429, 500, 503 `idempotency_unavailable`: the key is free again).
async fn keyed_submit(
    state: &Arc<SimState>,
    scope: &Scope,
    body: &[u8],
    endpoint: SubmitEndpoint,
) -> Response {
    match state.idempotency_begin(scope, body) {
        Begin::Refuse(reply) => {
            bump(&state.counters.idempotency_refusals);
            return reply.into_response();
        }
        Begin::Replay(reply) => {
            bump(&state.counters.idempotent_replays);
            return with_fault(state, FaultTarget::Submits, || reply).await;
        }
        Begin::Fresh => {}
    }
    let run = || {
        let reply = accept_submit(state, body, endpoint);
        keep_or_free(state, scope, &reply);
        reply
    };
    let not_executed = |reply: Reply| {
        state.idempotency_forget(scope);
        reply.into_response()
    };
    match state.pick_fault(FaultTarget::Submits) {
        Some(Injected::PaymentRequired) => not_executed(Reply::payment_required()),
        Some(Injected::RateLimited(retry_after)) => not_executed(Reply::rate_limited(retry_after)),
        Some(Injected::ServerError) => not_executed(Reply::server_error()),
        Some(Injected::IdempotencyUnavailable) => {
            bump(&state.counters.idempotency_refusals);
            not_executed(Reply::idempotency_unavailable())
        }
        Some(Injected::IdempotencyIndeterminate) => {
            let _answer_never_sent = accept_submit(state, body, endpoint);
            state.idempotency_make_indeterminate(scope);
            bump(&state.counters.idempotency_refusals);
            Reply::idempotency_result_indeterminate().into_response()
        }
        Some(Injected::Slow(ms)) => {
            // Runs on its own task: a client that gives up and closes the
            // connection must not leave the key running for ever.
            let (state, scope, body) = (Arc::clone(state), scope.clone(), body.to_vec());
            let running = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let reply = accept_submit(&state, &body, endpoint);
                keep_or_free(&state, &scope, &reply);
                reply
            });
            match running.await {
                Ok(reply) => reply.into_response(),
                Err(_) => Reply::server_error().into_response(),
            }
        }
        Some(Injected::Drop) => {
            let _answer_never_sent = run();
            dropped_connection()
        }
        Some(Injected::Malformed) => run().truncated(),
        None => run().into_response(),
    }
}

/// Keeps the answer under its idempotency key, or frees the key when the
/// request was not executed (402: the balance could not pay).
fn keep_or_free(state: &SimState, scope: &Scope, reply: &Reply) {
    if reply.status == StatusCode::PAYMENT_REQUIRED {
        state.idempotency_forget(scope);
    } else {
        state.idempotency_finish(scope, reply);
    }
}

/// Checks a submit body, charges the balance, creates its task (402 when
/// the balance cannot pay) and schedules its webhook callback if the body
/// names one.
fn accept_submit(state: &Arc<SimState>, body: &[u8], endpoint: SubmitEndpoint) -> Reply {
    let checked = checks::parse_body(body).and_then(|request| {
        let accepted = match endpoint {
            SubmitEndpoint::Generations => checks::check_generation(&request),
            SubmitEndpoint::Midjourney => checks::check_midjourney(&request),
            SubmitEndpoint::Unrouted => checks::check_unrouted(&request),
        }?;
        Ok((accepted, request))
    });
    let (accepted, request) = match checked {
        Ok(accepted) => accepted,
        Err(rejection) => {
            bump(&state.counters.rejected);
            return Reply::rejected(&rejection);
        }
    };
    let kind = match endpoint {
        SubmitEndpoint::Generations | SubmitEndpoint::Unrouted => TaskKind::Standard,
        SubmitEndpoint::Midjourney => TaskKind::Midjourney {
            batch_size: accepted.videos,
        },
    };
    let Some((task_id, shape)) = state.create_paid_task(kind, &accepted.prompt) else {
        bump(&state.counters.balance_refusals);
        return Reply::payment_required();
    };
    if let Some(webhook) = request.get(WEBHOOK_FIELD).filter(|value| !value.is_null()) {
        webhooks::schedule(state, task_id.clone(), webhook);
    }
    Reply::ok(match shape {
        SubmitShape::Object => json!({"code": 200, "data": {"id": task_id, "status": "submitted"}}),
        SubmitShape::Array | SubmitShape::Alternate => {
            json!({"code": 200, "data": [{"status": "submitted", "task_id": task_id}]})
        }
    })
}

async fn poll_task(
    State(state): Shared,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    Path(task_id): Path<String>,
) -> Response {
    bump(&state.counters.polls);
    if let Some(refusal) = refuse_unauthorized(&state, &request_id, &headers) {
        return refusal;
    }
    with_fault(&state, FaultTarget::Polls, || {
        match state.task_body(&task_id) {
            Some(body) => Reply::ok(body),
            None => Reply::task_not_found(),
        }
    })
    .await
}

/// `GET /v1/balance` and `GET /v1/user/balance`: the configured balance
/// less what tasks have cost, in USD and credits (10 per USD). Never faulted.
async fn balance(
    State(state): Shared,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refuse_unauthorized(&state, &request_id, &headers) {
        return refusal;
    }
    let balance = state.balance();
    let money = |amount: f64| (amount * 1e6).round() / 1e6;
    Reply::ok(json!({"code": 200, "data": {
        "remain_balance": money(balance.remain),
        "remain_credits": money(balance.remain * CREDITS_PER_USD),
        "used_balance": money(balance.used),
        "used_credits": money(balance.used * CREDITS_PER_USD),
        "unlimited_quota": balance.unlimited,
    }}))
    .into_response()
}

async fn upload_image(
    State(state): Shared,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Some(refusal) = refuse_unauthorized(&state, &request_id, &headers) {
        return refusal;
    }
    uploads::receive(&state, multipart).await.into_response()
}

/// `GET /__sim/videos/{id}/{n}.mp4`: the tiny MP4 of a finished task.
async fn download_video(
    State(state): Shared,
    Path((task_id, file)): Path<(String, String)>,
) -> Response {
    let index = file
        .strip_suffix(".mp4")
        .and_then(|number| number.parse::<usize>().ok());
    match index {
        Some(index) if state.has_video(&task_id, index) => {
            bump(&state.counters.downloads);
            binary(
                "video/mp4",
                Body::from(tiny_mp4(&format!("{task_id}/{index}"))),
            )
        }
        _ => Reply::not_found("video not found").into_response(),
    }
}

/// `GET /__sim/uploads/{name}`: an uploaded image, as stored.
async fn serve_upload(State(state): Shared, Path(name): Path<String>) -> Response {
    match state.upload(&name) {
        Some(upload) => binary(upload.content_type, Body::from(upload.bytes)),
        None => Reply::not_found("upload not found").into_response(),
    }
}

async fn stats(State(state): Shared) -> Response {
    Json(state.stats()).into_response()
}

/// `GET /__sim/tasks`: every created task, oldest first (no key needed,
/// like `/__sim/stats`).
async fn task_list(State(state): Shared) -> Response {
    Json(TaskList {
        tasks: state.task_list(),
    })
    .into_response()
}

/// No route: a POST under `/v1/` is a submit to an endpoint a spec named
/// (`/v1/videos/image2video`), answered with a generic task; anything else
/// is not found.
async fn unknown_route(
    State(state): Shared,
    Extension(RequestId(id)): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::POST && uri.path().starts_with("/v1/") {
        return submit(
            &state,
            &id,
            &headers,
            &body,
            SubmitEndpoint::Unrouted,
            uri.path(),
        )
        .await;
    }
    Reply::not_found("not found").into_response()
}

fn binary(content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
