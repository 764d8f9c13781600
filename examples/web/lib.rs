//! The axum web service example of cache-core, in a package of its own so that `cargo run --example fetch_user`
//! and the other examples build without a web stack.
//!
//! Everything is in the example target, `web_service.rs` (`cargo run --example web_service`), and its test,
//! `tests/web_service.rs` (`cargo test -p cache-web-example`). This library is empty: cargo needs a library or a
//! binary in every package.
