//! Helpers for the tests of the PostgreSQL task store: the server they use
//! (`VIDSPEC_TEST_POSTGRES`, started by `.ci/postgres`) and a schema of each
//! test's own, so tests run in parallel without seeing each other's rows.

#![allow(dead_code)] // each test file uses some of them

use tokio_postgres::NoTls;

/// The test server's URL; `None` (the test prints that it was skipped)
/// when `VIDSPEC_TEST_POSTGRES` is unset, except under CI (`CI` set), where
/// a missing server fails the test: CI must not skip PostgreSQL silently.
pub fn server_url() -> Option<String> {
    match std::env::var("VIDSPEC_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI is set but VIDSPEC_TEST_POSTGRES is not: CI must test the PostgreSQL store; \
             start a server with `eval \"$(.ci/postgres)\"` (as .ci/run does)"
        ),
        _ => {
            eprintln!(
                "skipped: VIDSPEC_TEST_POSTGRES is not set; `eval \"$(.ci/postgres)\"` starts a \
                 server for these tests"
            );
            None
        }
    }
}

/// `url` with `schema` first on the search path (where the store creates
/// and finds its tables).
pub fn with_search_path(url: &str, schema: &str) -> String {
    with_options(url, &format!("-csearch_path={schema}"))
}

/// `url` with the server options `options` (`-cNAME=VALUE …`).
pub fn with_options(url: &str, options: &str) -> String {
    let mut url = url::Url::parse(url).expect("VIDSPEC_TEST_POSTGRES is a URL");
    // libpq's URLs (and tokio-postgres's) read `+` as itself: spaces as %20.
    let options: String = url::form_urlencoded::byte_serialize(options.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let query = match url.query() {
        Some(query) => format!("{query}&options={options}"),
        None => format!("options={options}"),
    };
    url.set_query(Some(&query));
    url.to_string()
}

/// A new, empty schema named after `label` and a random number; `None`
/// when the tests are skipped.
pub async fn fresh_schema(label: &str) -> Option<(String, String)> {
    let url = server_url()?;
    let schema = format!("test_{label}_{:016x}", fastrand::u64(..));
    let client = connect(&url).await;
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create the test's schema");
    Some((with_search_path(&url, &schema), schema))
}

/// A store URL of a fresh schema of its own; `None` when skipped.
pub async fn fresh_store_url(label: &str) -> Option<String> {
    fresh_schema(label).await.map(|(url, _)| url)
}

/// A plain connection to `url`, for setting up what a test needs.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to the test server");
    tokio::spawn(connection);
    client
}
