//! A small HTTP service (axum) whose handlers call cached code, with a Prometheus `/metrics` endpoint.
//!
//! * `GET /users/{id}?region=eu|us`: a per-instance cached method, `UserRepo::user`. Each region has its own
//!   repository instance over its own (fake, slow) database, so the two never share entries.
//! * `GET /rates/{currency}`: an `#[async_cache]` free function with a 1 s TTL, `exchange_rate`.
//! * `GET /metrics`: the caches' counters (`cache_hits_total`, `cache_misses_total`, `cache_loads_total`, ...) and
//!   the backends' query counts, as Prometheus text.
//!
//! A backend error is a 503 and is never cached: the next request asks the backend again.
//!
//! ```sh
//! cargo run --example web_service              # starts on a free port, sends a few requests, prints, exits
//! cargo run --example web_service -- --serve   # serves on 127.0.0.1:3000 (or $PORT) until Ctrl-C
//! ```
//!
//! The integration test `examples/web/tests/web_service.rs` includes this file and drives [`app`] over real sockets.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cache_core::{async_cache, CacheIdentity, InstanceId};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A user as the backend returns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    /// The user's id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// The region whose database answered.
    pub region: &'static str,
}

/// A failed backend call. Never cached: the attribute caches only `Ok`.
#[derive(Clone, Debug)]
pub enum BackendError {
    /// The backend is down (503).
    Unavailable(&'static str),
    /// No such record (404).
    NotFound(String),
}

impl IntoResponse for BackendError {
    fn into_response(self) -> Response {
        match self {
            Self::Unavailable(name) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("backend {name} unavailable\n"),
            )
                .into_response(),
            Self::NotFound(what) => {
                (StatusCode::NOT_FOUND, format!("{what} not found\n")).into_response()
            }
        }
    }
}

/// A fake slow database or remote API: every query is counted, waits `latency`, and fails while
/// [`set_failing`](Self::set_failing) is on. [`hold`](Self::hold) parks queries until released, as a stalled
/// database would (the test uses it to have every request of a burst waiting on one load).
pub struct Backend {
    name: &'static str,
    latency: Duration,
    queries: AtomicUsize,
    failing: AtomicBool,
    open: watch::Sender<bool>,
}

impl Backend {
    /// A backend called `name` (the `backend` label of `backend_queries_total`) answering after `latency`.
    pub fn new(name: &'static str, latency: Duration) -> Arc<Self> {
        Arc::new(Self {
            name,
            latency,
            queries: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
            open: watch::Sender::new(true),
        })
    }

    /// How many queries reached this backend.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// Makes every query fail (`true`), as a database that is down would, until `set_failing(false)`.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Parks queries (`true`) until `hold(false)`.
    pub fn hold(&self, hold: bool) {
        self.open.send_replace(!hold);
    }

    async fn query<T>(
        &self,
        answer: impl FnOnce() -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        metrics::counter!("backend_queries_total", "backend" => self.name).increment(1);
        let mut open = self.open.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail.
        let _ = open.wait_for(|open| *open).await;
        tokio::time::sleep(self.latency).await;
        if self.failing.load(Ordering::SeqCst) {
            return Err(BackendError::Unavailable(self.name));
        }
        answer()
    }
}

/// The users of one region. Its cached method keys on `(self's InstanceId, id)`: each repository has its own
/// entries, and a new repository never sees a dropped one's.
#[derive(CacheIdentity)]
pub struct UserRepo {
    id: InstanceId,
    region: &'static str,
    db: Arc<Backend>,
}

impl UserRepo {
    /// A repository of `region`'s users, stored in `db`.
    pub fn new(region: &'static str, db: Arc<Backend>) -> Self {
        Self {
            id: InstanceId::new(),
            region,
            db,
        }
    }

    /// The repository's database (to count its queries or make it fail).
    pub fn db(&self) -> &Backend {
        &self.db
    }

    /// One user, cached per repository for 5 minutes; `Err` is never cached.
    #[async_cache(maxsize = 10_000, ttl = 300)]
    pub async fn user(&self, id: u64) -> Result<User, BackendError> {
        let region = self.region;
        self.db
            .query(|| {
                Ok(User {
                    id,
                    name: format!("user-{id}"),
                    region,
                })
            })
            .await
    }
}

/// Units of `currency` per US dollar, from a (fake) rates API. Cached process-wide for 1 s: rates move. The API
/// handle (`skip_args = 1`) is not part of the key; the currency is.
#[async_cache(maxsize = 100, ttl = 1, skip_args = 1)]
pub async fn exchange_rate(api: &Backend, currency: String) -> Result<f64, BackendError> {
    api.query(|| match currency.as_str() {
        "EUR" => Ok(0.92),
        "GBP" => Ok(0.79),
        "JPY" => Ok(151.4),
        // Test currencies: any code starting with `X` exists, so each test can use fresh keys.
        code if code.starts_with('X') => Ok(1.0 + code.len() as f64 / 100.0),
        _ => Err(BackendError::NotFound(format!("currency {currency}"))),
    })
    .await
}

/// Any error of the demo or the client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The European users (the default region).
    pub eu: Arc<UserRepo>,
    /// The American users.
    pub us: Arc<UserRepo>,
    /// The rates API behind [`exchange_rate`].
    pub rates: Arc<Backend>,
}

impl AppState {
    /// Two regional user databases and a rates API, each answering after `latency`.
    pub fn new(latency: Duration) -> Self {
        Self {
            eu: Arc::new(UserRepo::new("eu", Backend::new("users-eu", latency))),
            us: Arc::new(UserRepo::new("us", Backend::new("users-us", latency))),
            rates: Backend::new("rates", latency),
        }
    }
}

/// The service's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { USAGE }))
        .route("/users/{id}", get(user))
        .route("/rates/{currency}", get(rate))
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

const USAGE: &str = "GET /users/{id}?region=eu|us, /rates/{currency} (EUR, GBP, JPY), /metrics\n";

#[derive(Deserialize)]
struct RegionQuery {
    region: Option<String>,
}

async fn user(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Query(query): Query<RegionQuery>,
) -> Result<Json<User>, Response> {
    let repo = match query.region.as_deref() {
        None | Some("eu") => &state.eu,
        Some("us") => &state.us,
        Some(other) => {
            return Err((StatusCode::NOT_FOUND, format!("no region {other}\n")).into_response())
        }
    };
    repo.user(id)
        .await
        .map(Json)
        .map_err(IntoResponse::into_response)
}

#[derive(Serialize)]
struct Rate {
    currency: String,
    per_usd: f64,
}

async fn rate(
    State(state): State<AppState>,
    Path(currency): Path<String>,
) -> Result<Json<Rate>, BackendError> {
    let per_usd = exchange_rate(&state.rates, currency.clone()).await?;
    Ok(Json(Rate { currency, per_usd }))
}

/// The process's Prometheus recorder, installed as the global `metrics` recorder on first use. Global, because
/// the caches are: an `#[async_cache]` cache is a `static`, and a cache is exported to one recorder.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .expect("no other global metrics recorder is installed")
    })
}

async fn render_metrics() -> String {
    // Publish what the caches counted since the last scrape, then render. The attribute's caches have no builder
    // name, so they are labelled here.
    exchange_rate::cache().export_metrics_as("exchange_rate");
    UserRepo::user_cache().export_metrics_as("UserRepo::user");
    let prometheus = prometheus();
    prometheus.run_upkeep();
    prometheus.render()
}

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    prometheus(); // installed before the first request records anything
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::args().any(|arg| arg == "--serve") {
        let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
        let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await?;
        let base = format!("http://{}", listener.local_addr()?);
        println!("serving on {base} until Ctrl-C; try:");
        for path in ["/users/7", "/users/7?region=us", "/rates/EUR", "/metrics"] {
            println!("  curl -s '{base}{path}'");
        }
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(listener, AppState::new(Duration::from_millis(200)), ctrl_c).await?;
        println!("shut down");
        return Ok(());
    }
    demo().await
}

/// Starts the service on a free port, sends it a few requests with a real HTTP client, and shuts it down.
async fn demo() -> Result<(), BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(Duration::from_millis(50));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    println!("serving on {base} (`--serve` to keep it running)");
    let client = client::Client::default();

    let burst: Vec<_> = (0..20)
        .map(|_| client.get(format!("{base}/users/7")))
        .collect();
    let bodies = futures_join_all(burst).await?;
    println!("20 concurrent GET /users/7 -> {}", bodies[0].1);
    client.get(format!("{base}/users/7")).await?;
    let eu_queries = state.eu.db().queries();
    println!("  and once more: users-eu queries {eu_queries} (one load for the burst, then a hit)");
    let (_, body) = client.get(format!("{base}/users/7?region=us")).await?;
    let us_queries = state.us.db().queries();
    println!("GET /users/7?region=us -> {body}");
    println!("  users-us queries {us_queries} (another repository instance: its own entry)");

    client.get(format!("{base}/rates/EUR")).await?;
    let (_, body) = client.get(format!("{base}/rates/EUR")).await?;
    println!(
        "2 x GET /rates/EUR -> {body}\n  rates queries: {}",
        state.rates.queries()
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.get(format!("{base}/rates/EUR")).await?;
    println!(
        "after the 1 s TTL, GET /rates/EUR again -> rates queries: {}",
        state.rates.queries()
    );

    state.us.db().set_failing(true);
    let (status, _) = client.get(format!("{base}/users/8?region=us")).await?;
    state.us.db().set_failing(false);
    let (again, _) = client.get(format!("{base}/users/8?region=us")).await?;
    println!("GET /users/8?region=us while its backend fails -> {status}; then -> {again} (errors are not cached)");

    let (_, metrics) = client.get(format!("{base}/metrics")).await?;
    println!("GET /metrics (its non-zero cache and backend series):");
    let mut series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("cache_") || l.starts_with("backend_"))
        .filter(|l| !l.ends_with(" 0"))
        .collect();
    series.sort_unstable();
    for line in series {
        println!("  {line}");
    }

    let started = Instant::now();
    let _ = stop.send(());
    server.await??;
    println!("shut down gracefully in {:?}", started.elapsed());
    Ok(())
}

/// Awaits all requests, concurrently.
async fn futures_join_all<F, T>(futures: Vec<F>) -> Result<Vec<T>, BoxError>
where
    F: Future<Output = Result<T, BoxError>> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await??);
    }
    Ok(out)
}

/// A plain HTTP/1 client (hyper), enough for the demo and the test.
pub mod client {
    use axum::body::Bytes;
    use axum::http::StatusCode;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    use super::BoxError;

    /// A cloneable client keeping connections alive between requests.
    #[derive(Clone)]
    pub struct Client(hyper_util::client::legacy::Client<HttpConnector, Empty<Bytes>>);

    impl Default for Client {
        /// A client with no TLS: `http://` only.
        fn default() -> Self {
            Self(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http())
        }
    }

    impl Client {
        /// `GET url`: the status and the body as text.
        pub fn get(
            &self,
            url: String,
        ) -> impl std::future::Future<Output = Result<(StatusCode, String), BoxError>> + Send + 'static
        {
            let client = self.0.clone();
            async move {
                let response = client.get(url.parse()?).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                Ok((status, String::from_utf8(body.to_vec())?))
            }
        }
    }
}
