//! Helpers shared by the deterministic async tests (paused time, current-thread runtime).
#![allow(dead_code)] // each test file uses its own subset

use std::time::Duration;

/// Lets every spawned task run until it blocks: with paused time, a sleep ends only once the runtime is idle.
pub async fn settle() {
    tokio::time::sleep(Duration::from_micros(1)).await;
}

/// Awaits a task, failing (instead of hanging) if it does not finish within a minute of paused time.
pub async fn done<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("a caller hung")
        .expect("task failed")
}
