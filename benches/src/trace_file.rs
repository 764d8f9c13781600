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

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::traces::{Scale, TraceSpec};

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

/// Why a trace file cannot be replayed.
#[derive(Debug)]
#[non_exhaustive]
pub enum TraceFileError {
    /// An entry of `HIT_RATIO_TRACE_FILES` (or another setting) does not parse.
    Entry {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        why: String,
    },
    /// The format is neither given nor known from the file's name, or is not one of ours.
    UnknownFormat {
        /// The entry or file.
        what: String,
        /// What to write instead.
        why: String,
    },
    /// The file is compressed.
    Compressed {
        /// The file.
        path: PathBuf,
        /// The command that decompresses it.
        tool: &'static str,
    },
    /// The file cannot be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// An oracleGeneral file whose length is not a whole number of records.
    Truncated {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
    },
    /// A CSV line without the key's column.
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The line, counted from 1.
        line: u64,
        /// The column asked for.
        column: usize,
        /// The columns the line has.
        found: usize,
    },
    /// A file with no request to replay.
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for TraceFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Entry { entry, why } => write!(f, "`{entry}`: {why}"),
            Self::UnknownFormat { what, why } => write!(f, "`{what}`: {why}"),
            Self::Compressed { path, tool } => write!(
                f,
                "{}: compressed; decompress it first (`{tool} {}`) and give the decompressed file",
                path.display(),
                path.display()
            ),
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Truncated { path, len } => write!(
                f,
                "{}: {len} bytes is not a whole number of 24-byte oracleGeneral records: the last one is cut \
                 (an interrupted download or decompression?)",
                path.display()
            ),
            Self::MissingColumn {
                path,
                line,
                column,
                found,
            } => write!(
                f,
                "{}: line {line} has {found} column(s), the key is in column {column} (counted from 1)",
                path.display()
            ),
            Self::Empty { path } => write!(f, "{}: no request to replay", path.display()),
        }
    }
}

impl std::error::Error for TraceFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

const FORMATS: &str = "text:, csv:N: (key column N, from 1) or oracleGeneral:";
/// oracleGeneral's record: u32 time, u64 obj_id, u32 obj_size, i64 next_access_vtime.
const RECORD: usize = 24;

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

    /// Cheap checks before any replay: the file opens, is not compressed, is not empty, and an oracleGeneral
    /// file holds whole records.
    ///
    /// # Errors
    /// The first of those that fails.
    pub fn check(&self) -> Result<(), TraceFileError> {
        let (mut reader, len) = self.open()?;
        if len == 0 {
            return Err(TraceFileError::Empty {
                path: self.path.clone(),
            });
        }
        if self.format == Format::OracleGeneral && len % RECORD as u64 != 0 {
            return Err(TraceFileError::Truncated {
                path: self.path.clone(),
                len,
            });
        }
        let head = reader.fill_buf().map_err(|e| self.io(e))?;
        let tool = if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            "zstd -d"
        } else if head.starts_with(&[0x1F, 0x8B]) {
            "gzip -d"
        } else {
            return Ok(());
        };
        Err(TraceFileError::Compressed {
            path: self.path.clone(),
            tool,
        })
    }

    /// The whole file (or its first `limit` requests) as ids.
    ///
    /// # Errors
    /// The file fails [`check`](Self::check), cannot be read, a CSV line lacks the key's column, or no request is
    /// left to replay.
    pub fn read(&self, limit: Option<usize>) -> Result<Trace, TraceFileError> {
        self.check()?;
        let (mut reader, _) = self.open()?;
        let limit = limit.unwrap_or(usize::MAX);
        let mut ids = IdMap::default();
        let mut skipped = 0;
        match &self.format {
            Format::OracleGeneral => {
                let mut record = [0; RECORD];
                while ids.len() < limit {
                    match reader.read_exact(&mut record) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                        Err(e) => return Err(self.io(e)),
                    }
                    let field = |at: usize, n: usize| {
                        record[at..at + n]
                            .iter()
                            .rev()
                            .fold(0, |v, &b| (v << 8) | u64::from(b))
                    };
                    if field(12, 4) == 0 {
                        skipped += 1;
                    } else {
                        ids.push_id(field(4, 8));
                    }
                }
            }
            Format::Text => {
                self.lines(&mut reader, |_, line| {
                    let key = line.trim_ascii();
                    if !key.is_empty() {
                        ids.push_key(key);
                    }
                    Ok(ids.len() < limit)
                })?;
            }
            Format::Csv { columns } => {
                // The first line's key, held until the second line tells whether it was a header.
                let mut first: Option<Vec<u8>> = None;
                let mut lines = 0;
                self.lines(&mut reader, |number, line| {
                    if line.trim_ascii().is_empty() {
                        return Ok(true);
                    }
                    let key = self.csv_key(number, line, columns)?;
                    lines += 1;
                    if lines == 1 && parse_u64(&key).is_none() {
                        first = Some(key);
                        return Ok(true);
                    }
                    if let Some(held) = first.take() {
                        if parse_u64(&key).is_some() {
                            skipped += 1; // a header
                        } else {
                            ids.push_key(&held);
                        }
                    }
                    if ids.len() < limit {
                        ids.push_key(&key);
                    }
                    Ok(ids.len() < limit)
                })?;
                if let Some(held) = first {
                    ids.push_key(&held);
                }
            }
        }
        let limited = ids.len() >= limit && self.more_after(&mut reader)?;
        let (keys, distinct, kind) = ids.finish();
        if keys.is_empty() {
            return Err(TraceFileError::Empty {
                path: self.path.clone(),
            });
        }
        Ok(Trace {
            keys,
            distinct,
            ids: kind,
            skipped,
            limited,
        })
    }

    fn open(&self) -> Result<(BufReader<File>, u64), TraceFileError> {
        let file = File::open(&self.path).map_err(|e| self.io(e))?;
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        Ok((BufReader::with_capacity(1 << 20, file), len))
    }

    fn io(&self, source: io::Error) -> TraceFileError {
        TraceFileError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Calls `each(line number from 1, line without its end)` until it returns `false` or the file ends.
    fn lines(
        &self,
        reader: &mut BufReader<File>,
        mut each: impl FnMut(u64, &[u8]) -> Result<bool, TraceFileError>,
    ) -> Result<(), TraceFileError> {
        let mut line = Vec::new();
        let mut number = 0;
        loop {
            line.clear();
            if reader
                .read_until(b'\n', &mut line)
                .map_err(|e| self.io(e))?
                == 0
            {
                return Ok(());
            }
            number += 1;
            let end = line.len() - usize::from(line.ends_with(b"\n"));
            let end = end - usize::from(line[..end].ends_with(b"\r"));
            if !each(number, &line[..end])? {
                return Ok(());
            }
        }
    }

    fn csv_key(
        &self,
        number: u64,
        line: &[u8],
        columns: &[usize],
    ) -> Result<Vec<u8>, TraceFileError> {
        let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
        let mut key = Vec::new();
        for (i, &column) in columns.iter().enumerate() {
            let field = fields
                .get(column - 1)
                .ok_or(TraceFileError::MissingColumn {
                    path: self.path.clone(),
                    line: number,
                    column,
                    found: fields.len(),
                })?;
            if i > 0 {
                key.push(b',');
            }
            key.extend_from_slice(field.trim_ascii());
        }
        Ok(key)
    }

    /// Whether anything but blank lines is left after the limit was reached.
    fn more_after(&self, reader: &mut BufReader<File>) -> Result<bool, TraceFileError> {
        let mut rest = Vec::new();
        reader
            .take(1 << 16)
            .read_to_end(&mut rest)
            .map_err(|e| self.io(e))?;
        Ok(!rest.trim_ascii().is_empty())
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

/// A key that is a decimal integer fitting a `u64`.
fn parse_u64(key: &[u8]) -> Option<u64> {
    if key.is_empty() || !key.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(key).ok()?.parse().ok()
}

/// The ids of a trace as it is read: the keys as written while every one is an integer, interned from the first
/// that is not (the ids so far are re-mapped then).
#[derive(Default)]
struct IdMap {
    keys: Vec<u64>,
    interner: Option<Interner>,
}

#[derive(Default)]
struct Interner {
    numbers: HashMap<u64, u64>,
    strings: HashMap<Box<[u8]>, u64>,
}

impl Interner {
    fn next(&self) -> u64 {
        (self.numbers.len() + self.strings.len()) as u64
    }

    fn number(&mut self, n: u64) -> u64 {
        let next = self.next();
        *self.numbers.entry(n).or_insert(next)
    }

    fn string(&mut self, key: &[u8]) -> u64 {
        if let Some(&id) = self.strings.get(key) {
            return id;
        }
        let id = self.next();
        self.strings.insert(key.into(), id);
        id
    }
}

impl IdMap {
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// A binary trace's id: always as written.
    fn push_id(&mut self, id: u64) {
        self.keys.push(id);
    }

    fn push_key(&mut self, key: &[u8]) {
        let id = match (&mut self.interner, parse_u64(key)) {
            (None, Some(n)) => n,
            (Some(interner), Some(n)) => interner.number(n),
            (Some(interner), None) => interner.string(key),
            (None, None) => {
                let mut interner = Interner::default();
                for k in &mut self.keys {
                    *k = interner.number(*k);
                }
                let id = interner.string(key);
                self.interner = Some(interner);
                id
            }
        };
        self.keys.push(id);
    }

    fn finish(self) -> (Vec<u64>, usize, Ids) {
        match self.interner {
            Some(interner) => {
                let distinct = usize::try_from(interner.next()).expect("ids fit usize");
                (self.keys, distinct, Ids::Interned)
            }
            None => {
                let distinct = distinct(&self.keys);
                (self.keys, distinct, Ids::AsWritten)
            }
        }
    }
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

/// One trace as the bench replays it, synthetic or from a file.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The name in tables and in the CSV.
    pub name: &'static str,
    /// One line on what it is.
    pub about: String,
    /// The requests' ids.
    pub keys: Vec<u64>,
    /// Distinct ids among them.
    pub distinct: usize,
    /// The id count capacities are a share of: the synthetic scale's unit, or the file's distinct keys.
    pub unit: usize,
    /// The capacities measured (outside a sweep).
    pub capacities: Vec<usize>,
}

impl Replay {
    /// A synthetic trace generated at `scale` from `seed`.
    #[must_use]
    pub fn synthetic(spec: &TraceSpec, scale: Scale, seed: u64) -> Self {
        let keys = spec.generate(scale, seed);
        Self {
            name: spec.name,
            about: spec.about.into(),
            distinct: distinct(&keys),
            keys,
            unit: scale.unit,
            capacities: spec.capacities(scale).to_vec(),
        }
    }

    /// A trace file, read whole or up to `limit` requests. Its name is leaked, to live as long as the bench's
    /// tables need it: the bench reads a file once.
    ///
    /// # Errors
    /// As [`TraceFile::read`].
    pub fn file(
        file: &TraceFile,
        name: String,
        limit: Option<usize>,
    ) -> Result<Self, TraceFileError> {
        let trace = file.read(limit)?;
        let mut about = format!(
            "{} ({}): {} requests",
            file.path.display(),
            file.format,
            trace.keys.len()
        );
        if trace.limited {
            about.push_str(" (HIT_RATIO_TRACE_LIMIT)");
        }
        if trace.skipped > 0 {
            let what = if file.format == Format::OracleGeneral {
                "records of size 0"
            } else {
                "header line"
            };
            about.push_str(&format!(", {} {what} skipped", trace.skipped));
        }
        about.push_str(match trace.ids {
            Ids::AsWritten => ", ids as written",
            Ids::Interned => ", keys interned",
        });
        Ok(Self {
            name: Box::leak(name.into_boxed_str()),
            about,
            capacities: file.capacities(trace.distinct),
            unit: trace.distinct,
            distinct: trace.distinct,
            keys: trace.keys,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces;

    /// A directory of its own under the system's temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("trace_file_{}_{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self(dir)
        }

        fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).expect("write");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn record(id: u64, size: u32) -> Vec<u8> {
        let mut r = Vec::with_capacity(RECORD);
        r.extend_from_slice(&7_u32.to_le_bytes());
        r.extend_from_slice(&id.to_le_bytes());
        r.extend_from_slice(&size.to_le_bytes());
        r.extend_from_slice(&(-1_i64).to_le_bytes());
        r
    }

    fn read(entry: &str) -> Result<Trace, TraceFileError> {
        TraceFile::parse(entry)?.read(None)
    }

    #[test]
    fn text_integers_are_replayed_as_written() {
        let dir = TempDir::new("text_int");
        let path = dir.write("t.txt", b"5\n7\n\n5\r\n  9 \n1099511627776\n");
        let t = read(path.to_str().unwrap()).unwrap();
        assert_eq!(t.keys, [5, 7, 5, 9, 1 << 40]);
        assert_eq!(
            (t.distinct, t.ids, t.skipped, t.limited),
            (4, Ids::AsWritten, 0, false)
        );
    }

    #[test]
    fn text_strings_are_interned_in_order_of_first_request() {
        let dir = TempDir::new("text_str");
        let path = dir.write("t.txt", b"a\n12\nb\na\n12\n");
        let t = read(path.to_str().unwrap()).unwrap();
        assert_eq!(t.keys, [0, 1, 2, 0, 1]);
        assert_eq!((t.distinct, t.ids), (3, Ids::Interned));
        // Integers first: re-mapped when the first string arrives; "007" is the integer 7.
        let path = dir.write("u.txt", b"12\n007\n7\nx\n12\ny\n7\n");
        let t = read(path.to_str().unwrap()).unwrap();
        assert_eq!(t.keys, [0, 1, 1, 2, 0, 3, 1]);
        assert_eq!((t.distinct, t.ids), (4, Ids::Interned));
    }

    #[test]
    fn csv_key_column_and_header() {
        let dir = TempDir::new("csv");
        let path = dir.write("t.csv", b"time,obj_id,size\n1,100,5\n2,200,5\n3,100,5\n");
        let t = read(&format!("csv:2:{}", path.display())).unwrap();
        assert_eq!(t.keys, [100, 200, 100]);
        assert_eq!((t.skipped, t.ids), (1, Ids::AsWritten));
        // String keys (as in the Twitter traces): no header is guessed, every line counts.
        let path = dir.write(
            "twitter.csv",
            b"0,nz:abc,1,get\n1,nz:def,1,get\n2,nz:abc,1,get\n",
        );
        let t = read(&format!("csv:2:{}", path.display())).unwrap();
        assert_eq!(
            (t.keys.as_slice(), t.skipped, t.ids),
            (&[0, 1, 0][..], 0, Ids::Interned)
        );
        // Joined columns (as disk number + offset in the MSR Cambridge traces).
        let path = dir.write(
            "msr.csv",
            b"128166372003061629,hm,0,Read,3154227200,4096,4000\n\
              128166372016382155,hm,1,Read,3154227200,4096,4000\n\
              128166372026382245,hm,0,Write,3154227200,512,400\n",
        );
        let t = read(&format!("csv:3+5:{}", path.display())).unwrap();
        assert_eq!((t.keys.as_slice(), t.distinct), (&[0, 1, 0][..], 2));
        let t = read(&format!("csv:5:{}", path.display())).unwrap();
        assert_eq!(t.keys, [3_154_227_200; 3]);
    }

    #[test]
    fn csv_line_without_the_key_column_is_an_error() {
        let dir = TempDir::new("csv_short");
        let path = dir.write("t.csv", b"1,100\n2,200\n3\n");
        let e = read(&format!("csv:2:{}", path.display())).unwrap_err();
        assert!(
            matches!(
                e,
                TraceFileError::MissingColumn {
                    line: 3,
                    column: 2,
                    found: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("line 3 has 1 column(s)"), "{e}");
    }

    #[test]
    fn oracle_general_records() {
        let dir = TempDir::new("bin");
        let mut bytes = Vec::new();
        for (id, size) in [(10, 4096), (u64::MAX - 1, 1), (10, 4096), (30, 0), (40, 1)] {
            bytes.extend(record(id, size));
        }
        let path = dir.write("w01.oracleGeneral.bin", &bytes);
        let t = read(path.to_str().unwrap()).unwrap();
        assert_eq!(t.keys, [10, u64::MAX - 1, 10, 40]);
        assert_eq!((t.distinct, t.skipped, t.ids), (3, 1, Ids::AsWritten));
        // Found by `.oracleGeneral` in the name too (libCacheSim's `*.oracleGeneral.sample10`), or by prefix.
        let path = dir.write("c52.oracleGeneral.sample10", &bytes);
        assert_eq!(read(path.to_str().unwrap()).unwrap().keys.len(), 4);
        let path = dir.write("trace.dat", &bytes);
        assert_eq!(
            read(&format!("oracleGeneral:{}", path.display()))
                .unwrap()
                .keys
                .len(),
            4
        );
        assert_eq!(
            read(&format!("bin:{}", path.display())).unwrap().keys.len(),
            4
        );
    }

    #[test]
    fn truncated_record_is_an_error() {
        let dir = TempDir::new("truncated");
        let mut bytes = [record(1, 1), record(2, 1)].concat();
        bytes.extend_from_slice(&[0; 5]);
        let path = dir.write("t.bin", &bytes);
        let e = read(path.to_str().unwrap()).unwrap_err();
        assert!(
            matches!(e, TraceFileError::Truncated { len: 53, .. }),
            "{e}"
        );
        assert!(
            e.to_string().contains("not a whole number of 24-byte"),
            "{e}"
        );
    }

    #[test]
    fn compressed_files_are_refused_by_name_and_by_content() {
        let e = TraceFile::parse("/data/w106.oracleGeneral.bin.zst").unwrap_err();
        assert!(
            matches!(
                e,
                TraceFileError::Compressed {
                    tool: "zstd -d",
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("zstd -d /data/w106.oracleGeneral.bin.zst"),
            "{e}"
        );
        let dir = TempDir::new("zstd");
        let mut bytes = vec![0x28, 0xB5, 0x2F, 0xFD];
        bytes.resize(48, 0);
        let path = dir.write("looks.bin", &bytes);
        let e = read(path.to_str().unwrap()).unwrap_err();
        assert!(
            matches!(
                e,
                TraceFileError::Compressed {
                    tool: "zstd -d",
                    ..
                }
            ),
            "{e}"
        );
        let path = dir.write("looks.txt", &[0x1F, 0x8B, 8, 0]);
        let e = read(path.to_str().unwrap()).unwrap_err();
        assert!(
            matches!(
                e,
                TraceFileError::Compressed {
                    tool: "gzip -d",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let e = read("/nonexistent/dir/trace.txt").unwrap_err();
        let TraceFileError::Io { source, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
        assert!(
            e.to_string().starts_with("/nonexistent/dir/trace.txt: "),
            "{e}"
        );
    }

    #[test]
    fn unknown_formats_are_errors() {
        for (entry, says) in [
            ("/data/trace.dat", "prefix the path with text:"),
            ("/data/trace", "prefix the path with text:"),
            ("/data/trace.csv", "csv:N:PATH"),
            ("parquet:/data/trace.parquet", "unknown format `parquet`"),
        ] {
            let e = TraceFile::parse(entry).unwrap_err();
            assert!(
                matches!(e, TraceFileError::UnknownFormat { .. }),
                "{entry}: {e}"
            );
            assert!(e.to_string().contains(says), "{entry}: {e}");
        }
        for (entry, says) in [
            ("csv:/data/t.csv", "key column"),
            ("csv:0:/data/t.csv", "numbers from 1"),
            ("csv:x:/data/t.csv", "numbers from 1"),
            ("/data/t.txt@0", "capacity `0`"),
            ("/data/t.txt@1:%", "capacity `%`"),
            ("text:", "no path"),
        ] {
            let e = TraceFile::parse(entry).unwrap_err();
            assert!(matches!(e, TraceFileError::Entry { .. }), "{entry}: {e}");
            assert!(e.to_string().contains(says), "{entry}: {e}");
        }
    }

    #[test]
    fn empty_traces_are_errors() {
        let dir = TempDir::new("empty");
        for (name, bytes, entry_prefix) in [
            ("a.txt", &b""[..], ""),
            ("b.txt", b"\n  \n\r\n", ""),
            ("c.bin", &record(5, 0)[..], ""),
            ("d.csv", b"\n\n", "csv:1:"),
        ] {
            let path = dir.write(name, bytes);
            let e = read(&format!("{entry_prefix}{}", path.display())).unwrap_err();
            assert!(matches!(e, TraceFileError::Empty { .. }), "{name}: {e}");
            assert!(e.to_string().ends_with("no request to replay"), "{e}");
        }
    }

    #[test]
    fn limit_reads_the_first_requests() {
        let dir = TempDir::new("limit");
        let path = dir.write("t.txt", b"1\n2\n3\n4\n5\n\n");
        let file = TraceFile::parse(path.to_str().unwrap()).unwrap();
        let t = file.read(Some(3)).unwrap();
        assert_eq!(
            (t.keys.as_slice(), t.distinct, t.limited),
            (&[1, 2, 3][..], 3, true)
        );
        let t = file.read(Some(5)).unwrap();
        assert_eq!((t.keys.len(), t.limited), (5, false));
        let path = dir.write(
            "t.bin",
            &[record(1, 1), record(2, 0), record(3, 1), record(4, 1)].concat(),
        );
        let t = TraceFile::parse(path.to_str().unwrap())
            .unwrap()
            .read(Some(2))
            .unwrap();
        assert_eq!(
            (t.keys.as_slice(), t.skipped, t.limited),
            (&[1, 3][..], 1, true)
        );
        let path = dir.write("h.csv", b"t,k\n1,10\n2,20\n3,30\n");
        let file = TraceFile::parse(&format!("csv:2:{}", path.display())).unwrap();
        assert_eq!(file.read(Some(2)).unwrap().keys, [10, 20]);
    }

    #[test]
    fn capacities_default_to_1_and_10_percent_of_the_distinct_keys() {
        let file = TraceFile::parse("/data/t.txt").unwrap();
        assert_eq!(file.capacities, DEFAULT_CAPACITIES);
        // As the synthetic traces' 1 % and 10 % of their ids: zipf-1.0 has 343,315 distinct keys.
        assert_eq!(file.capacities(343_315), [3433, 34_331]);
        assert_eq!(file.capacities(1_000_000), [10_000, 100_000]);
        assert_eq!(file.capacities(50), [1, 5]);
        assert_eq!(file.capacities(5), [1], "at least one entry, no repeats");
        let file = TraceFile::parse("text:/data/a@b.log@5000:0.5%:5000").unwrap();
        assert_eq!(file.path, Path::new("/data/a@b.log"));
        assert_eq!(
            file.capacities,
            [
                Capacity::Entries(5000),
                Capacity::PercentOfKeys(0.5),
                Capacity::Entries(5000)
            ]
        );
        assert_eq!(file.capacities(40_000), [5000, 200]);
    }

    #[test]
    fn entries_and_names() {
        let files =
            parse_list(" csv:3+5:/a/x.csv@1%, /b/x.csv.bin ,text:/c/x.csv,,/d/y.txt").unwrap();
        let formats: Vec<String> = files.iter().map(|f| f.format.to_string()).collect();
        assert_eq!(formats, ["csv:3+5", "oracleGeneral", "text", "text"]);
        assert_eq!(files[0].capacities, [Capacity::PercentOfKeys(1.0)]);
        assert_eq!(
            names(&files),
            ["/a/x.csv", "x.csv.bin", "/c/x.csv", "y.txt"]
        );
        assert!(parse_list("").unwrap().is_empty());
    }

    /// The three formats of one synthetic trace give the same ids as the trace itself.
    #[test]
    fn a_synthetic_trace_round_trips_through_every_format() {
        let dir = TempDir::new("round_trip");
        let spec = traces::by_name("scan-hot").expect("a trace");
        let scale = Scale {
            unit: 2000,
            requests: 5000,
        };
        let keys = spec.generate(scale, 3);
        for path in write_formats(&dir.0, "scan-hot", &keys) {
            let t = read(&path).unwrap();
            assert_eq!(t.keys, keys, "{path}");
            assert_eq!(
                (t.ids, t.distinct),
                (Ids::AsWritten, distinct(&keys)),
                "{path}"
            );
        }
    }

    /// `keys` as `NAME.txt`, `NAME.csv` (a header, the key in column 2) and `NAME.oracleGeneral.bin` in `dir`;
    /// returns their `HIT_RATIO_TRACE_FILES` entries.
    fn write_formats(dir: &Path, name: &str, keys: &[u64]) -> Vec<String> {
        use std::io::Write as _;
        let mut text = io::BufWriter::new(File::create(dir.join(format!("{name}.txt"))).unwrap());
        let mut csv = io::BufWriter::new(File::create(dir.join(format!("{name}.csv"))).unwrap());
        let mut bin = io::BufWriter::new(
            File::create(dir.join(format!("{name}.oracleGeneral.bin"))).unwrap(),
        );
        writeln!(csv, "time,obj_id,obj_size").unwrap();
        for (i, &k) in keys.iter().enumerate() {
            writeln!(text, "{k}").unwrap();
            writeln!(csv, "{i},{k},1").unwrap();
            bin.write_all(&record(k, 1)).unwrap();
        }
        for mut w in [text, csv, bin] {
            w.flush().unwrap();
        }
        vec![
            dir.join(format!("{name}.txt")).display().to_string(),
            format!("csv:2:{}", dir.join(format!("{name}.csv")).display()),
            dir.join(format!("{name}.oracleGeneral.bin"))
                .display()
                .to_string(),
        ]
    }

    /// Writes the full-size synthetic trace `TRACE_FILE_NAME` (default `zipf-1.0`, at `BENCH_QUICK`'s scale if set)
    /// in the three formats to `TRACE_FILE_DIR` (default `target/trace_files`), for the end-to-end check in
    /// docs/benchmarks.md: replaying them must give the synthetic trace's cells.
    #[test]
    #[ignore = "writes ~100 MB; run by hand for the end-to-end check"]
    fn write_a_synthetic_trace_as_files() {
        let name = std::env::var("TRACE_FILE_NAME").unwrap_or_else(|_| "zipf-1.0".into());
        let dir = std::env::var_os("TRACE_FILE_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/trace_files"),
            PathBuf::from,
        );
        std::fs::create_dir_all(&dir).unwrap();
        let scale = if crate::quick() {
            Scale::QUICK
        } else {
            Scale::FULL
        };
        let spec = traces::by_name(&name).expect("a synthetic trace's name");
        // The bench's seed (hit_ratio.rs `SEED`).
        let keys = spec.generate(scale, 0x0005_EED0_21FF);
        let entries = write_formats(&dir, &name, &keys);
        println!("HIT_RATIO_TRACE_FILES={}", entries.join(","));
    }
}
