//! One trace as the bench replays it, synthetic or from a file.

use super::{distinct, Format, Ids, TraceFile, TraceFileError};
use crate::traces::{Scale, TraceSpec};

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
