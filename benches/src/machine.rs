//! What the machine was doing while a bench ran: the load average and the CPU other processes used, printed
//! beside the figures (the machine is shared and noisy).

use std::num::NonZeroUsize;

/// CPU tick counters from `/proc` (zero where they cannot be read): all CPUs' busy ticks, and this process's.
pub fn busy_ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let total: u64 = cpu.iter().sum();
    let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
    // /proc/self/stat: utime and stime are the 12th and 13th fields after the `(comm)` field.
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let own: u64 = me
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse::<u64>().unwrap_or(0))
        .sum();
    (total, total - idle, own)
}

/// How much CPU other processes used since `before` (from [`busy_ticks`]), as a share of one CPU.
pub fn others_since(before: (u64, u64, u64)) -> String {
    let now = busy_ticks();
    let total = now.0.saturating_sub(before.0);
    if total == 0 {
        return "(no /proc counters)".to_owned();
    }
    let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get) as u64;
    let others = now
        .1
        .saturating_sub(before.1)
        .saturating_sub(now.2.saturating_sub(before.2));
    #[allow(clippy::cast_precision_loss)]
    let share = others as f64 * 100.0 * cpus as f64 / total as f64;
    format!("other processes used {share:.0} % of one CPU")
}

/// The output of `uptime` (the load averages), or `/proc/loadavg` where `uptime` is missing.
pub fn uptime() -> String {
    std::process::Command::new("uptime")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .or_else(|| std::fs::read_to_string("/proc/loadavg").ok())
        .unwrap_or_else(|| "?".to_owned())
}
