//! Tests of the trace-file reader: small files of each format in a temp dir, the errors, the capacities.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::read::RECORD;
use super::*;
use crate::traces::{self, Scale};

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("trace_file_{}_{name}", std::process::id()));
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

/// `e` refuses a compressed file and names `tool`, the command that decompresses it.
fn assert_compressed(e: &TraceFileError, tool: &str) {
    assert!(
        matches!(e, TraceFileError::Compressed { tool: t, .. } if *t == tool),
        "{e}"
    );
}

#[test]
fn compressed_files_are_refused_by_name_and_by_content() {
    let e = TraceFile::parse("/data/w106.oracleGeneral.bin.zst").unwrap_err();
    assert_compressed(&e, "zstd -d");
    assert!(
        e.to_string()
            .contains("zstd -d /data/w106.oracleGeneral.bin.zst"),
        "{e}"
    );
    let dir = TempDir::new("zstd");
    let mut bytes = vec![0x28, 0xB5, 0x2F, 0xFD];
    bytes.resize(48, 0);
    let path = dir.write("looks.bin", &bytes);
    assert_compressed(&read(path.to_str().unwrap()).unwrap_err(), "zstd -d");
    let path = dir.write("looks.txt", &[0x1F, 0x8B, 8, 0]);
    assert_compressed(&read(path.to_str().unwrap()).unwrap_err(), "gzip -d");
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
    let files = parse_list(" csv:3+5:/a/x.csv@1%, /b/x.csv.bin ,text:/c/x.csv,,/d/y.txt").unwrap();
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
    let mut bin =
        io::BufWriter::new(File::create(dir.join(format!("{name}.oracleGeneral.bin"))).unwrap());
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
