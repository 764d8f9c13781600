//! What the machine was doing while a bench ran: the load average and the CPU other processes used, printed
//! beside the figures (the machine is shared and noisy).

use std::num::NonZeroUsize;

/// CPU tick counters from `/proc` (zero where they cannot be read), taken before a measurement so that
/// [`Ticks::others_since`] can say what the rest of the machine did during it.
#[derive(Debug, Clone, Copy)]
pub struct Ticks {
    /// All ticks of all CPUs, idle included.
    total: u64,
    /// Ticks the CPUs spent busy (anything but idle and iowait), by any process.
    busy: u64,
    /// Ticks the hypervisor gave to other guests while this one wanted to run.
    steal: u64,
    /// Ticks this process ran (user + system).
    own: u64,
}

impl Ticks {
    /// The counters now.
    pub fn now() -> Self {
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
        let field = |i: usize| cpu.get(i).copied().unwrap_or(0);
        let total: u64 = cpu.iter().sum();
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
        Self {
            total,
            busy: total - field(3) - field(4),
            steal: field(7),
            own,
        }
    }

    /// What other processes and other guests took since `self`: the CPU time of every other process, as a
    /// share of one CPU, and the steal time, as a share of all CPU time.
    pub fn others_since(self) -> String {
        let now = Self::now();
        let total = now.total.saturating_sub(self.total);
        if total == 0 {
            return "(no /proc counters)".to_owned();
        }
        let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get) as u64;
        let others = now
            .busy
            .saturating_sub(self.busy)
            .saturating_sub(now.own.saturating_sub(self.own));
        #[allow(clippy::cast_precision_loss)]
        let (others, steal) = (
            others as f64 * 100.0 * cpus as f64 / total as f64,
            now.steal.saturating_sub(self.steal) as f64 * 100.0 / total as f64,
        );
        format!("other processes used {others:.0} % of one CPU, steal time {steal:.1} %")
    }
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
