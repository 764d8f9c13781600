//! Why a trace file cannot be replayed: one message per cause, naming the file.

use std::fmt;
use std::io;
use std::path::PathBuf;

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
            Self::Io { path, source } => {
                write!(f, "{}: {source}", path.display())?;
                match std::env::current_dir() {
                    Ok(dir) if path.is_relative() => write!(
                        f,
                        " (a relative path is read from the working directory, {}; cargo runs benches in their package's: give an absolute path)",
                        dir.display()
                    ),
                    _ => Ok(()),
                }
            }
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
