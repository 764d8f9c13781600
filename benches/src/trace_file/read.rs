//! Reading a trace file into the ids the bench replays.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use super::{distinct, Format, Ids, Trace, TraceFile, TraceFileError};

/// oracleGeneral's record: u32 time, u64 obj_id, u32 obj_size, i64 next_access_vtime.
pub(super) const RECORD: usize = 24;

impl TraceFile {
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
