//! The tables and the CSV of the hit-ratio bench (`benches/benches/hit_ratio.rs`), from the hits each subject
//! scored in each cell (trace x capacity).

use std::fmt::Write as _;

use crate::Table;

/// The name of the offline optimum's figures in every cell.
pub const BELADY: &str = "Belady (MIN)";

/// (subject name, hits) pairs.
pub type Figures = Vec<(String, usize)>;

/// The figures of one trace at one capacity; [`BELADY`] among them.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The trace's name.
    pub trace: &'static str,
    /// The cache's capacity (entries).
    pub capacity: usize,
    /// Requests in the trace.
    pub requests: usize,
    /// The id count the capacity is a share of (in labels): the synthetic scale's unit, or a trace file's
    /// distinct keys.
    pub unit: usize,
    /// Every subject's hits.
    pub results: Figures,
}

impl Cell {
    /// The hits of the subject called `name`, if it ran.
    #[must_use]
    pub fn hits(&self, name: &str) -> Option<usize> {
        self.results
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, h)| h)
    }

    /// `hits` as a percentage of the requests.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn pct(&self, hits: usize) -> f64 {
        hits as f64 * 100.0 / self.requests as f64
    }

    /// Belady's hit ratio, %.
    #[must_use]
    pub fn belady_pct(&self) -> f64 {
        self.pct(self.hits(BELADY).expect("Belady always runs"))
    }

    fn pct_of(&self, name: &str) -> f64 {
        self.pct(self.hits(name).expect("every column ran in every cell"))
    }
}

/// A column of the tables: a subject as users get it.
#[derive(Debug, Clone)]
pub struct Column {
    /// The subject's name in [`Cell::results`].
    pub name: &'static str,
    /// A peer (compared against), or one of ours (compared).
    pub peer: bool,
    /// The name of the same subject on one shard, if it ran that way too.
    pub one_shard: Option<String>,
}

/// The report over all cells.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// The cells, in print order.
    pub cells: &'a [Cell],
    /// The subjects, in column order.
    pub columns: Vec<Column>,
}

impl Report<'_> {
    fn capacity_label(cell: &Cell) -> String {
        #[allow(clippy::cast_precision_loss)]
        let pct = cell.capacity as f64 * 100.0 / cell.unit as f64;
        // Shares of a trace file's distinct keys are rarely round: two decimals are enough to tell them apart.
        let pct = (pct * 100.0).round() / 100.0;
        format!("{} ({pct} %)", cell.capacity)
    }

    /// Per cell: every subject's hit ratio, with the points below Belady in brackets.
    #[must_use]
    pub fn cells_table(&self) -> String {
        let mut header = vec!["trace", "capacity", BELADY];
        header.extend(self.columns.iter().map(|c| c.name));
        let mut table = Table::new(&header);
        for cell in self.cells {
            let mut row = vec![
                cell.trace.to_string(),
                Self::capacity_label(cell),
                format!("{:.2}", cell.belady_pct()),
            ];
            for col in &self.columns {
                let pct = cell.pct_of(col.name);
                row.push(format!("{pct:.2} (−{:.2})", cell.belady_pct() - pct));
            }
            table.row(row);
        }
        format!(
            "Hit ratio %, in brackets the points below Belady:\n\n{}",
            table.render()
        )
    }

    /// Per subject: the mean and largest gap to Belady over all cells, and how often it was the best.
    #[must_use]
    pub fn gaps_table(&self) -> String {
        let mut table = Table::new(&[
            "subject",
            "mean points below Belady",
            "largest (cell)",
            "cells where best of all subjects",
        ]);
        for col in &self.columns {
            let gaps: Vec<(f64, &Cell)> = self
                .cells
                .iter()
                .map(|c| (c.belady_pct() - c.pct_of(col.name), c))
                .collect();
            #[allow(clippy::cast_precision_loss)]
            let mean = gaps.iter().map(|g| g.0).sum::<f64>() / gaps.len() as f64;
            let (worst, at) = gaps
                .iter()
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .expect("some cells");
            let best = self
                .cells
                .iter()
                .filter(|c| {
                    let mine = c.hits(col.name);
                    self.columns.iter().all(|o| c.hits(o.name) <= mine)
                })
                .count();
            table.row(vec![
                col.name.into(),
                format!("{mean:.2}"),
                format!("{worst:.2} ({} at {})", at.trace, at.capacity),
                format!("{best} of {}", self.cells.len()),
            ]);
        }
        format!(
            "Mean gap to Belady over all {} cells (lower is better):\n\n{}",
            self.cells.len(),
            table.render()
        )
    }

    /// Per cell: the best peer and each of our subjects' distance to it (✓: within 0.5 point or better), then a
    /// count per subject.
    #[must_use]
    pub fn versus_peers_table(&self) -> String {
        let ours: Vec<&str> = self
            .columns
            .iter()
            .filter(|c| !c.peer)
            .map(|c| c.name)
            .collect();
        let mut header = vec!["trace", "capacity", "best peer"];
        header.extend(&ours);
        let mut table = Table::new(&header);
        let mut within = vec![0; ours.len()];
        for cell in self.cells {
            let Some((peer, peer_pct)) = self
                .columns
                .iter()
                .filter(|c| c.peer)
                .map(|c| (c.name, cell.pct_of(c.name)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
            else {
                return String::new();
            };
            let mut row = vec![
                cell.trace.to_string(),
                Self::capacity_label(cell),
                format!("{peer} {peer_pct:.2}"),
            ];
            for (n, name) in ours.iter().enumerate() {
                let delta = cell.pct_of(name) - peer_pct;
                let ok = delta >= -0.5;
                within[n] += usize::from(ok);
                row.push(format!("{delta:+.2}{}", if ok { " ✓" } else { "" }));
            }
            table.row(row);
        }
        let mut out = format!(
            "cache-core policies and candidates (S3-FIFO) against the best peer in each cell (points; ✓ = within 0.5 point or better):\n\n{}\n",
            table.render()
        );
        for (name, n) in ours.iter().zip(within) {
            let _ = writeln!(
                out,
                "{name}: within 0.5 point of the best peer in {n} of {} cells",
                self.cells.len()
            );
        }
        out
    }

    /// The cells where a subject on one shard differs from its default build by half a point or more.
    #[must_use]
    pub fn one_shard_note(&self) -> String {
        let mut lines = String::new();
        for col in &self.columns {
            let Some(one) = &col.one_shard else { continue };
            for cell in self.cells {
                let (Some(default), Some(single)) = (cell.hits(col.name), cell.hits(one)) else {
                    continue;
                };
                let delta = cell.pct(single) - cell.pct(default);
                if delta.abs() >= 0.5 {
                    let _ = writeln!(
                        lines,
                        "  {} at {}: {one} {:.2} against {:.2} by default ({delta:+.2})",
                        cell.trace,
                        Self::capacity_label(cell),
                        cell.pct(single),
                        cell.pct(default)
                    );
                }
            }
        }
        if lines.is_empty() {
            "cache-core with .shards(1) is within 0.5 point of its default build in every cell.\n"
                .into()
        } else {
            format!(
                "cache-core with .shards(1), where it differs from its default build by 0.5 point or more:\n{lines}"
            )
        }
    }

    /// Every figure of every cell (including the one-shard runs), one row each, with a header.
    #[must_use]
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "trace,capacity,capacity_pct,requests,subject,hits,hit_ratio_pct,gap_to_belady\n",
        );
        for cell in self.cells {
            #[allow(clippy::cast_precision_loss)]
            let cap_pct = cell.capacity as f64 * 100.0 / cell.unit as f64;
            for (name, hits) in &cell.results {
                let pct = cell.pct(*hits);
                let _ = writeln!(
                    out,
                    "{},{},{cap_pct},{},\"{name}\",{hits},{pct:.4},{:.4}",
                    cell.trace,
                    cell.capacity,
                    cell.requests,
                    cell.belady_pct() - pct
                );
            }
        }
        out
    }
}
