//! Trace files for the hit-ratio bench (`benches/benches/hit_ratio.rs`): recorded request traces read from disk
//! and replayed like the synthetic ones of [`crate::traces`], through the same subjects, Belady and checks.
//!
//! `HIT_RATIO_TRACE_FILES` lists them, separated by commas (so a path may not hold one):
//! `[FORMAT:]PATH[@CAP[:CAP...]]`.
//! * `FORMAT` is `text`, `csv:N` (the key is column `N`, counted from 1; `csv:3+5` joins columns 3 and 5 into one
//!   key) or `oracleGeneral` (alias `bin`). Without it the file's name decides: `*.txt` is text, `*.bin` and any
//!   name holding `.oracleGeneral` are oracleGeneral; a `*.csv` must say its key column; `*.zst`, `*.gz`, `*.xz`,
//!   `*.bz2`, `*.lz4` must be decompressed first (the content is checked too: a zstd or gzip file is refused
//!   whatever its name).
//! * `CAP` is a number of entries (`5000`) or a share of the file's distinct keys (`0.5%`). Default: `1%:10%`,
//!   as the synthetic traces use 1 % and 10 % of their id range.
//!
//! Formats:
//! * **text**: one key per line, any bytes; surrounding ASCII whitespace trimmed, blank lines skipped.
//! * **csv**: comma-separated, no quoting (a quoted field holding a comma is split); a first line whose key is
//!   not an integer while the second line's is counts as a header and is skipped.
//! * **oracleGeneral**: libCacheSim's binary, 24-byte little-endian records `{u32 time, u64 obj_id, u32 obj_size,
//!   i64 next_access_vtime}`; the key is `obj_id`. Records of size 0 are skipped, as libCacheSim's reader does by
//!   default; the size is otherwise ignored (every object is one entry).
//!
//! Keys become the `u64` ids the subjects and Belady replay ([`Ids`]): if every key of a text or CSV file is a
//! decimal integer that fits a `u64` (block offsets, object ids), the ids are those integers, so a file written
//! from a synthetic trace replays the very same keys (and cache-core's hashing of them); otherwise every key is
//! interned to a dense id (0, 1, 2, ... in order of first request; integers by value, other keys by their bytes).
//! oracleGeneral ids are always the file's `obj_id`s. Memory: 8 bytes a request, plus the interning map when
//! there is one.

use std::fmt;
use std::path::{Path, PathBuf};

mod error;
mod read;
mod replay;
#[cfg(test)]
mod tests;

pub use error::TraceFileError;
pub use replay::Replay;

/// How a trace file is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// One key per line.
    Text,
    /// Comma-separated values; the key is these columns (counted from 1), joined by commas if more than one.
    Csv {
        /// The key's columns, counted from 1.
        columns: Vec<usize>,
    },
    /// libCacheSim's `oracleGeneral` binary records.
    OracleGeneral,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text => f.write_str("text"),
            Self::Csv { columns } => {
                let cols: Vec<String> = columns.iter().map(ToString::to_string).collect();
                write!(f, "csv:{}", cols.join("+"))
            }
            Self::OracleGeneral => f.write_str("oracleGeneral"),
        }
    }
}

/// A capacity asked for after `@`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capacity {
    /// This many entries.
    Entries(usize),
    /// This percentage of the trace's distinct keys (rounded down, at least one entry).
    PercentOfKeys(f64),
}

/// The capacities measured when an entry names none: 1 % and 10 % of the distinct keys.
pub const DEFAULT_CAPACITIES: [Capacity; 2] =
    [Capacity::PercentOfKeys(1.0), Capacity::PercentOfKeys(10.0)];

/// How the ids of a trace relate to its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// The keys were integers (or oracleGeneral `obj_id`s): the ids are those integers.
    AsWritten,
    /// Dense ids in order of first request.
    Interned,
}

/// One entry of `HIT_RATIO_TRACE_FILES`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFile {
    /// The file.
    pub path: PathBuf,
    /// Its layout.
    pub format: Format,
    /// The capacities to measure it at.
    pub capacities: Vec<Capacity>,
}

/// A trace file read into memory.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The requests' ids, in order.
    pub keys: Vec<u64>,
    /// Distinct ids among them.
    pub distinct: usize,
    /// Where the ids come from.
    pub ids: Ids,
    /// Lines or records read but not replayed: a CSV header, oracleGeneral records of size 0.
    pub skipped: u64,
    /// Whether reading stopped at the request limit before the end of the file.
    pub limited: bool,
}

const FORMATS: &str = "text:, csv:N: (key column N, from 1) or oracleGeneral:";

/// The entries of `list` (a `HIT_RATIO_TRACE_FILES` value); empty entries are ignored.
///
/// # Errors
/// The first entry that does not parse, or whose format is unknown.
pub fn parse_list(list: &str) -> Result<Vec<TraceFile>, TraceFileError> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(TraceFile::parse)
        .collect()
}

/// `HIT_RATIO_TRACE_FILES` parsed (empty when unset), each file checked ([`TraceFile::check`]).
///
/// # Errors
/// As [`parse_list`] and [`TraceFile::check`].
pub fn files_from_env() -> Result<Vec<TraceFile>, TraceFileError> {
    let files = parse_list(&std::env::var("HIT_RATIO_TRACE_FILES").unwrap_or_default())?;
    for file in &files {
        file.check()?;
    }
    Ok(files)
}

/// `HIT_RATIO_TRACE_LIMIT`: the requests to read from each file at most (`None` when unset).
///
/// # Errors
/// When it is set to anything but a positive integer.
pub fn limit_from_env() -> Result<Option<usize>, TraceFileError> {
    match std::env::var("HIT_RATIO_TRACE_LIMIT") {
        Err(_) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(TraceFileError::Entry {
                entry: format!("HIT_RATIO_TRACE_LIMIT={v}"),
                why: "a positive number of requests".into(),
            }),
        },
    }
}

impl TraceFile {
    /// One entry: `[FORMAT:]PATH[@CAP[:CAP...]]` (see the module's documentation).
    ///
    /// # Errors
    /// A bad format prefix, key column or capacity; a compressed file or one whose format its name does not tell.
    pub fn parse(entry: &str) -> Result<Self, TraceFileError> {
        let bad = |why: &str| TraceFileError::Entry {
            entry: entry.into(),
            why: why.into(),
        };
        let (rest, capacities) = split_capacities(entry).map_err(|why| bad(&why))?;
        let (format, path) = split_format(entry, rest)?;
        if path.is_empty() {
            return Err(bad("no path"));
        }
        let path = PathBuf::from(path);
        let format = match format {
            Some(f) => f,
            None => detect(&path)?,
        };
        Ok(Self {
            path,
            format,
            capacities: capacities.unwrap_or_else(|| DEFAULT_CAPACITIES.to_vec()),
        })
    }

    /// The name in tables and in the CSV: the file's name.
    #[must_use]
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The capacities for a trace of `distinct` keys, in order, without repeats.
    #[must_use]
    pub fn capacities(&self, distinct: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .capacities
            .iter()
            .map(|c| match *c {
                Capacity::Entries(n) => n,
                #[allow(
                    clippy::cast_precision_loss,
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss
                )]
                Capacity::PercentOfKeys(p) => ((distinct as f64 * p / 100.0) as usize).max(1),
            })
            .collect();
        let mut seen = Vec::new();
        out.retain(|c| {
            let new = !seen.contains(c);
            seen.push(*c);
            new
        });
        out
    }
}

/// Splits `PATH@CAP:CAP` into the path and the capacities; the part after the last `@` is taken as capacities
/// only if it holds nothing but digits, `.`, `%` and `:` (so a path may hold an `@`).
fn split_capacities(entry: &str) -> Result<(&str, Option<Vec<Capacity>>), String> {
    let Some((path, caps)) = entry.rsplit_once('@') else {
        return Ok((entry, None));
    };
    if caps.is_empty()
        || !caps
            .bytes()
            .all(|b| b.is_ascii_digit() || b"%.:".contains(&b))
    {
        return Ok((entry, None));
    }
    let parse = |cap: &str| -> Result<Capacity, String> {
        let bad = || {
            format!("capacity `{cap}`: a positive number of entries (`5000`) or of % of the distinct keys (`0.5%`)")
        };
        if let Some(pct) = cap.strip_suffix('%') {
            let p: f64 = pct.parse().map_err(|_| bad())?;
            if p.is_finite() && p > 0.0 {
                return Ok(Capacity::PercentOfKeys(p));
            }
        } else if let Ok(n @ 1..) = cap.parse::<usize>() {
            return Ok(Capacity::Entries(n));
        }
        Err(bad())
    };
    let caps = caps.split(':').map(parse).collect::<Result<_, _>>()?;
    Ok((path, Some(caps)))
}

/// Splits an explicit `FORMAT:` off `rest` (`entry` without its capacities), if there is one.
fn split_format<'a>(
    entry: &str,
    rest: &'a str,
) -> Result<(Option<Format>, &'a str), TraceFileError> {
    let Some((prefix, after)) = rest.split_once(':') else {
        return Ok((None, rest));
    };
    let format = match prefix.to_ascii_lowercase().as_str() {
        "text" | "txt" => Format::Text,
        "oraclegeneral" | "bin" => Format::OracleGeneral,
        "csv" => {
            let bad = |why: &str| TraceFileError::Entry {
                entry: entry.into(),
                why: why.into(),
            };
            let (cols, path) = after
                .split_once(':')
                .ok_or_else(|| bad("csv needs its key column: `csv:N:PATH` (N counted from 1)"))?;
            let columns = cols
                .split('+')
                .map(|c| c.parse::<usize>().ok().filter(|&c| c > 0))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("csv key columns are numbers from 1, joined by `+`: `csv:2:PATH`, `csv:3+5:PATH`"))?;
            return Ok((Some(Format::Csv { columns }), path));
        }
        _ if !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && !Path::new(rest).exists() =>
        {
            return Err(TraceFileError::UnknownFormat {
                what: entry.into(),
                why: format!("unknown format `{prefix}`: use {FORMATS}"),
            })
        }
        _ => return Ok((None, rest)),
    };
    Ok((Some(format), after))
}

/// The format a file's name tells.
fn detect(path: &Path) -> Result<Format, TraceFileError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let compressed = [
        (".zst", "zstd -d"),
        (".zstd", "zstd -d"),
        (".gz", "gzip -d"),
        (".xz", "xz -d"),
        (".bz2", "bzip2 -d"),
        (".lz4", "lz4 -d"),
    ];
    if let Some(&(_, tool)) = compressed.iter().find(|(ext, _)| name.ends_with(ext)) {
        return Err(TraceFileError::Compressed {
            path: path.into(),
            tool,
        });
    }
    if name.ends_with(".bin") || name.contains(".oraclegeneral") {
        return Ok(Format::OracleGeneral);
    }
    if name.ends_with(".txt") {
        return Ok(Format::Text);
    }
    let why = if name.ends_with(".csv") {
        "say which column holds the key: `csv:N:PATH` (N counted from 1)".to_string()
    } else {
        format!("the name does not tell the format: prefix the path with {FORMATS}")
    };
    Err(TraceFileError::UnknownFormat {
        what: path.display().to_string(),
        why,
    })
}

/// The distinct values among `keys`.
#[must_use]
pub fn distinct(keys: &[u64]) -> usize {
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.len()
}

/// The capacities of a sweep: 0.25 % to 20 % of `unit`.
#[must_use]
pub fn sweep_capacities(unit: usize) -> Vec<usize> {
    [25, 50, 100, 200, 500, 1000, 2000]
        .iter()
        .map(|per_10k| (unit * per_10k / 10_000).max(1))
        .collect()
}

/// The names of `files` in tables: each file's name, or its path where two files share a name.
#[must_use]
pub fn names(files: &[TraceFile]) -> Vec<String> {
    let short: Vec<String> = files.iter().map(TraceFile::name).collect();
    files
        .iter()
        .zip(&short)
        .map(|(f, n)| {
            if short.iter().filter(|m| *m == n).count() > 1 {
                f.path.display().to_string()
            } else {
                n.clone()
            }
        })
        .collect()
}
