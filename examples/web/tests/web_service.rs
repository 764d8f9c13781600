//! The service of `examples/web_service.rs`, started on a free port and driven over real sockets by a real HTTP
//! client: a burst of cold requests makes one backend call, hits make none, a TTL expires, repositories keep their
//! own entries, a backend error is a 503 that is not cached, `/metrics` counts it all, and shutdown is graceful.
//!
//! The caches are process-wide (`static`s), so the tests take turns (`SERIAL`) and compare counts before and
//! after what they do. Every await is bounded: a hang fails the test instead of stalling the run.

#[path = "../web_service.rs"]
#[allow(dead_code)] // the example's `main` and demo
mod web_service;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use web_service::client::Client;
use web_service::{exchange_rate, serve, AppState, UserRepo};

/// The static caches and the global recorder are shared by every test of this file.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Long enough for a loaded CI machine, short enough that a hang is reported.
const LIMIT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: no answer within {LIMIT:?}"),
    }
}

/// Polls `condition` until it holds (bounded by [`LIMIT`]).
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
}

struct Server {
    addr: SocketAddr,
    state: AppState,
    client: Client,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(latency: Duration) -> Self {
        let listener = within("bind", TcpListener::bind("127.0.0.1:0"))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(latency);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            state,
            client: Client::default(),
            stop,
            task,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let url = format!("http://{}{path}", self.addr);
        within(&format!("GET {path}"), self.client.get(url.clone()))
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `/metrics`, parsed: series (`name{labels}`) -> value.
    async fn scrape(&self) -> HashMap<String, f64> {
        let (status, text) = self.get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("`series value`");
                (series.to_owned(), value.parse().expect("a number"))
            })
            .collect()
    }

    async fn shut_down(self) {
        self.stop.send(()).unwrap();
        within("graceful shutdown", self.task)
            .await
            .unwrap()
            .unwrap();
    }
}

fn user_json(id: u64, region: &str) -> String {
    format!(r#"{{"id":{id},"name":"user-{id}","region":"{region}"}}"#)
}

/// A counter's growth between two scrapes (absent before its first export: 0).
fn grew(before: &HashMap<String, f64>, after: &HashMap<String, f64>, series: &str) -> f64 {
    let now = after
        .get(series)
        .unwrap_or_else(|| panic!("{series} missing from /metrics"));
    now - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_cold_requests_makes_one_backend_call_then_hits_make_none() {
    let _turn = SERIAL.lock().await;
    let server = Server::start(Duration::ZERO).await;
    let eu = Arc::clone(&server.state.eu);
    let db = eu.db();
    let misses = UserRepo::user_cache().metrics().misses;

    // The database stalls, so all 50 requests are inside the cache, waiting on one load, before it answers.
    db.hold(true);
    let burst: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(
                server
                    .client
                    .get(format!("http://{}/users/1001", server.addr)),
            )
        })
        .collect();
    until("50 callers waiting on the load", || {
        UserRepo::user_cache().metrics().misses - misses == 50
    })
    .await;
    assert_eq!(db.queries(), 1, "one load for 50 concurrent misses");
    db.hold(false);
    for response in burst {
        let (status, body) = within("a burst response", response).await.unwrap().unwrap();
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, user_json(1001, "eu").as_str())
        );
    }
    assert_eq!(db.queries(), 1);

    let hits = UserRepo::user_cache().metrics().hits;
    for _ in 0..10 {
        assert_eq!(
            server.get("/users/1001").await,
            (StatusCode::OK, user_json(1001, "eu"))
        );
    }
    assert_eq!(db.queries(), 1, "hits never reach the backend");
    assert_eq!(UserRepo::user_cache().metrics().hits - hits, 10);
    server.shut_down().await;
}

#[tokio::test]
async fn each_repository_instance_has_its_own_entries() {
    let _turn = SERIAL.lock().await;
    let server = Server::start(Duration::ZERO).await;
    let (eu, us) = (server.state.eu.db(), server.state.us.db());

    assert_eq!(
        server.get("/users/5").await,
        (StatusCode::OK, user_json(5, "eu"))
    );
    assert_eq!((eu.queries(), us.queries()), (1, 0));
    // Same id, the other repository: not the eu entry, its own load.
    assert_eq!(
        server.get("/users/5?region=us").await,
        (StatusCode::OK, user_json(5, "us"))
    );
    assert_eq!((eu.queries(), us.queries()), (1, 1));
    assert_eq!(
        server.get("/users/5?region=eu").await,
        (StatusCode::OK, user_json(5, "eu"))
    );
    assert_eq!(
        server.get("/users/5?region=us").await,
        (StatusCode::OK, user_json(5, "us"))
    );
    assert_eq!((eu.queries(), us.queries()), (1, 1), "both were hits");
    assert_eq!(
        server.get("/users/5?region=mars").await.0,
        StatusCode::NOT_FOUND
    );
    server.shut_down().await;

    // A new service has new repositories: nothing cached for the old ones is served to them.
    let again = Server::start(Duration::ZERO).await;
    assert_eq!(
        again.get("/users/5").await,
        (StatusCode::OK, user_json(5, "eu"))
    );
    assert_eq!(again.state.eu.db().queries(), 1);
    again.shut_down().await;
}

/// `exchange_rate` keeps a rate for 1 s. The test's runtime is current-thread, where the cache reads that
/// runtime's clock on every operation, so once the sleep below has passed the TTL the entry is expired: no
/// margin for a clock that lags.
#[tokio::test]
async fn a_rate_expires_after_its_ttl_and_is_loaded_again() {
    let _turn = SERIAL.lock().await;
    let server = Server::start(Duration::ZERO).await;
    let rates = &server.state.rates;
    let ttl = Duration::from_secs(1);
    let before = server.scrape().await;

    let asked = Instant::now(); // the first entry is stored after this
    let first = server.get("/rates/XTTL").await;
    assert_eq!(
        first,
        (
            StatusCode::OK,
            r#"{"currency":"XTTL","per_usd":1.04}"#.to_owned()
        )
    );
    assert_eq!(rates.queries(), 1);
    let second = server.get("/rates/XTTL").await;
    let answered = Instant::now(); // the entry now cached was stored before this
    assert_eq!(second, first);
    // Else this machine took over a second for two requests: a hit or a reload, no claim either way.
    let hit = answered < asked + ttl;
    if hit {
        assert_eq!(rates.queries(), 1, "a hit within the TTL");
    }

    let expired = answered + ttl + Duration::from_millis(1);
    tokio::time::sleep(expired.saturating_duration_since(Instant::now())).await;
    assert_eq!(server.get("/rates/XTTL").await, first);
    assert_eq!(
        rates.queries(),
        if hit { 2 } else { 3 },
        "expired: loaded again"
    );

    let after = server.scrape().await;
    let rate = |name: &str| {
        grew(
            &before,
            &after,
            &format!(r#"{name}{{cache="exchange_rate"}}"#),
        )
    };
    if hit {
        assert_eq!(
            (rate("cache_hits_total"), rate("cache_misses_total")),
            (1.0, 2.0)
        );
    }
    assert_eq!(rate("cache_loads_total"), if hit { 2.0 } else { 3.0 });
    assert!(
        grew(
            &before,
            &after,
            r#"cache_evictions_total{cache="exchange_rate",cause="expired"}"#
        ) >= 1.0
    );
    assert!(exchange_rate::cache().contains_key(&("XTTL".to_owned(),)));
    server.shut_down().await;
}

#[tokio::test]
async fn a_backend_error_is_a_503_and_is_not_cached() {
    let _turn = SERIAL.lock().await;
    let server = Server::start(Duration::ZERO).await;
    let db = server.state.eu.db();

    db.set_failing(true);
    for attempt in 1..=2 {
        let (status, body) = server.get("/users/9").await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "backend users-eu unavailable\n"
            )
        );
        assert_eq!(
            db.queries(),
            attempt,
            "every request asks the backend again"
        );
    }
    db.set_failing(false);
    assert_eq!(
        server.get("/users/9").await,
        (StatusCode::OK, user_json(9, "eu"))
    );
    assert_eq!(
        server.get("/users/9").await,
        (StatusCode::OK, user_json(9, "eu"))
    );
    assert_eq!(db.queries(), 3, "the first success is cached");

    // An unknown currency is an error too (404): not cached either.
    let rates = server.state.rates.queries();
    for _ in 0..2 {
        assert_eq!(server.get("/rates/ZZZ").await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(server.state.rates.queries(), rates + 2);
    server.shut_down().await;
}

#[tokio::test]
async fn metrics_count_hits_misses_loads_and_failures() {
    let _turn = SERIAL.lock().await;
    let server = Server::start(Duration::ZERO).await;
    let before = server.scrape().await;

    server.get("/users/20").await; // miss, load
    server.get("/users/20").await; // hit
    server.get("/users/20").await; // hit
    server.state.eu.db().set_failing(true);
    assert_eq!(
        server.get("/users/21").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    ); // miss, failed load
    server.state.eu.db().set_failing(false);

    let (status, text) = server.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("# TYPE cache_hits_total counter"), "{text}");
    assert!(text.contains("# TYPE cache_entries gauge"), "{text}");
    let after = server.scrape().await;
    let user = |name: &str| {
        grew(
            &before,
            &after,
            &format!(r#"{name}{{cache="UserRepo::user"}}"#),
        )
    };
    assert_eq!(user("cache_hits_total"), 2.0);
    assert_eq!(user("cache_misses_total"), 2.0);
    assert_eq!(user("cache_loads_total"), 1.0);
    assert_eq!(user("cache_load_failures_total"), 1.0);
    assert_eq!(
        grew(
            &before,
            &after,
            r#"backend_queries_total{backend="users-eu"}"#
        ),
        2.0
    );
    let gauge = |name: &str| after[&format!(r#"{name}{{cache="UserRepo::user"}}"#)];
    assert_eq!(gauge("cache_entries"), UserRepo::user_cache().len() as f64);
    assert_eq!(gauge("cache_max_entries"), 10_000.0);
    assert!(after.contains_key(r#"cache_hits_total{cache="exchange_rate"}"#));
    server.shut_down().await;
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_then_closes_the_port() {
    let _turn = SERIAL.lock().await;
    let mut server = Server::start(Duration::ZERO).await;
    let eu = Arc::clone(&server.state.eu);
    let db = eu.db();

    db.hold(true);
    let in_flight = tokio::spawn(
        server
            .client
            .get(format!("http://{}/users/30", server.addr)),
    );
    until("the request reached the backend", || db.queries() == 1).await;
    server.stop.send(()).unwrap();
    // Still serving the request: shutdown waits for it.
    let waited = tokio::time::timeout(Duration::from_millis(50), &mut server.task).await;
    assert!(
        waited.is_err(),
        "the server stopped with a request in flight: {waited:?}"
    );
    db.hold(false);
    let (status, body) = within("the request in flight", in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((status, body), (StatusCode::OK, user_json(30, "eu")));
    within("graceful shutdown", server.task)
        .await
        .unwrap()
        .unwrap();
    let refused = within(
        "connect after shutdown",
        tokio::net::TcpStream::connect(server.addr),
    )
    .await;
    assert!(refused.is_err(), "still accepting after shutdown");
}
