//! Bundle files: export a node's events to a file, import a file, and write a have-file for
//! the next incremental export. The bytes are `commune_core::bundle`'s.
//!
//! Import copies the file into the data directory first (the stick may be pulled out), reads
//! the copy frame by frame, checking each event's bytes and signature as it goes, skips and
//! reports damaged frames, keeps every valid event of a truncated file, and appends them all
//! in one transaction. It never deletes or overwrites: events are added or found present.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use commune_core::bundle::{self, Digest, Frame, Trailer};
use commune_core::{CouncilId, EventId, Keypair};
use serde::{Deserialize, Serialize};

use super::write_atomically;
use crate::node::{IngestReport, Node, now_ms, verify_decoded};

/// Files larger than this are refused unless the user raises the limit.
pub const DEFAULT_MAX_MB: u64 = 2048;
/// Bytes of frames that do not decode searched for frames inside them, beyond four times
/// the file's size.
const SEARCH_BUDGET: u64 = 16 << 20;
/// Frames checked in one signature batch while reading.
const BATCH: usize = 4096;

/// What a node has: each council's heads. An export `--since` it leaves out the past of
/// those heads, which the other node holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Have {
    pub version: u32,
    pub councils: BTreeMap<CouncilId, Vec<EventId>>,
}

pub fn write_have(node: &Node, path: &Path) -> Result<Have> {
    let mut have = Have {
        version: 1,
        ..Have::default()
    };
    for council in node.store().councils()? {
        have.councils.insert(council, node.store().heads(council)?);
    }
    write_atomically(path, |file| Ok(serde_json::to_writer_pretty(file, &have)?))?;
    Ok(have)
}

pub fn read_have(path: &Path) -> Result<Have> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the have-file {}", path.display()))?;
    let have: Have = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a have-file", path.display()))?;
    if have.version != 1 {
        bail!(
            "{} is a have-file of version {}; this commune reads version 1",
            path.display(),
            have.version
        );
    }
    Ok(have)
}

/// What an export wrote.
#[derive(Debug, Serialize)]
pub struct ExportReport {
    pub councils: usize,
    pub events: u64,
    pub bytes: u64,
}

/// Writes the councils' events (less the past of `since`'s heads) to `path`, in (depth, id)
/// order per council, with a trailer signed by `keypair`. The file appears whole or not at
/// all.
pub fn export(
    node: &Node,
    councils: &[CouncilId],
    since: Option<&Have>,
    keypair: &Keypair,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportReport> {
    let mut digest = Digest::default();
    let mut report = ExportReport {
        councils: councils.len(),
        events: 0,
        bytes: 0,
    };
    write_atomically(path, |file| {
        let mut out = BufWriter::new(file);
        out.write_all(bundle::HEADER)?;
        for council in councils {
            let events = node.store().events_of(*council)?;
            let known = match since.and_then(|have| have.councils.get(council)) {
                Some(heads) => past_of(&events, heads),
                None => HashSet::new(),
            };
            for event in events.iter().filter(|e| !known.contains(&e.id)) {
                out.write_all(&bundle::event_frame(&event.bytes))?;
                digest.add(&event.bytes);
                report.events += 1;
                report.bytes += event.bytes.len() as u64 + 8;
                progress(report.events);
            }
        }
        out.write_all(&Trailer::frame(&digest, keypair, now_ms()))?;
        out.flush()?;
        Ok(())
    })?;
    Ok(report)
}

/// The ids in the past of `heads` (heads included), among `events` in (depth, id) order.
fn past_of(events: &[commune_core::Event], heads: &[EventId]) -> HashSet<EventId> {
    let mut past: HashSet<EventId> = heads.iter().copied().collect();
    for event in events.iter().rev() {
        if past.contains(&event.id) {
            past.extend(event.unsigned.parents.iter().copied());
        }
    }
    past
}

/// What an import found.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    #[serde(flatten)]
    pub events: IngestReport,
    /// Damaged stretches skipped, as (byte offset, length): the first [`REPORTED`] of them.
    pub corrupt: Vec<(u64, u64)>,
    /// Damage found beyond what `invalid` and `corrupt` list: frames and stretches counted,
    /// not described, so that the report stays small whatever the file holds.
    pub unreported_damage: u64,
    /// The header was damaged; the frames after it were read all the same.
    pub header_damaged: bool,
    /// The file ends inside a frame or before its trailer.
    pub truncated: bool,
    /// Who signed the trailer, if it holds.
    pub signed_by: Option<String>,
    /// Why the trailer does not hold, if it does not.
    pub trailer_problem: Option<String>,
    /// Bytes hashed or decoded while reading: at most a few times the file's size.
    #[serde(skip)]
    pub examined: u64,
}

/// Damaged frames and stretches described one by one in a report; the rest are counted.
pub const REPORTED: usize = 100;

impl ImportReport {
    fn refused_frame(&mut self, offset: u64, error: impl std::fmt::Display) {
        if self.events.invalid.len() < REPORTED {
            self.events
                .invalid
                .push(format!("the frame at offset {offset}: {error}"));
        } else {
            self.unreported_damage += 1;
        }
    }

    fn skipped(&mut self, offset: u64, len: u64) {
        let reported = self.corrupt.len();
        match self.corrupt.last_mut() {
            Some((at, n)) if *at + *n == offset => *n += len,
            _ if reported < REPORTED => self.corrupt.push((offset, len)),
            _ => self.unreported_damage += 1,
        }
    }
}

/// Reads a bundle into the node. See the module's doc for the guarantees.
///
/// The work is linear in the file's size: a frame that does not decode is searched for
/// frames inside it (a damaged length may have swallowed them) only while the bytes spent
/// on such frames stay under four times the file's size (and 16 MiB); after that a frame that does not decode
/// is skipped whole. A file crafted with a marker and a large length every few bytes so
/// costs a few passes over it, and a report of bounded size.
pub fn import(
    node: &mut Node,
    path: &Path,
    max_bytes: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    let size = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > max_bytes {
        bail!(
            "{} is {} MB, over the limit of {} MB: pass --max-mb to allow it",
            path.display(),
            size.div_ceil(1 << 20),
            max_bytes >> 20
        );
    }
    // Work on a copy in the data directory: the original may go away mid-read. The copy has
    // no name (the system removes it when the file is closed, also when the process is
    // killed), so an import never leaves a copy behind.
    let mut file = tempfile::tempfile_in(node.dir())
        .context("cannot make a copy of the bundle in the data directory")?;
    let mut source = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::copy(&mut source, &mut file)
        .with_context(|| format!("cannot copy {}", path.display()))?;
    drop(source);
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut header = [0u8; 16];
    let read = read_up_to(&mut file, &mut header)?;
    let mut buffer: Vec<u8> = vec![0; 1 << 20];
    let first = read_up_to(&mut file, &mut buffer)?;
    buffer.truncate(first);
    let mut report = ImportReport::default();
    match bundle::read_header(&header[..read], &buffer) {
        bundle::Header::Whole => {}
        bundle::Header::Damaged => report.header_damaged = true,
        bundle::Header::Version(version) => bail!(
            "{} is a bundle of version {version}; this commune reads version 1",
            path.display()
        ),
        bundle::Header::NotBundle => bail!(
            "{} is not a commune bundle (it does not start with the bundle header)",
            path.display()
        ),
    }

    let mut digest = Digest::default();
    let mut verified = Vec::new();
    let mut pending: Vec<commune_core::Event> = Vec::new();
    let mut offset: u64 = 16;
    let mut at_end = first == 0;
    let mut trailer_seen = false;
    // Bytes spent on frames that did not decode, and how many may be.
    let mut searched: u64 = 0;
    let search_budget = size.saturating_mul(4).saturating_add(SEARCH_BUDGET);
    let check = |pending: &mut Vec<_>, report: &mut ImportReport, verified: &mut Vec<_>| {
        verified.extend(verify_decoded(
            std::mem::take(pending),
            &mut report.events.invalid,
        ));
    };
    let mut start = 0;
    loop {
        if !at_end && buffer.len() - start < (bundle::MAX_FRAME + 8) {
            buffer.drain(..start);
            start = 0;
            let before = buffer.len();
            buffer.resize(before + (1 << 20), 0);
            let n = read_up_to(&mut file, &mut buffer[before..])?;
            buffer.truncate(before + n);
            at_end = n == 0;
            if !at_end {
                continue;
            }
        }
        if start == buffer.len() {
            break;
        }
        match bundle::next_frame(&buffer[start..]) {
            Frame::Event { payload, len } => {
                report.examined += payload.len() as u64;
                match commune_core::Event::decode(payload) {
                    Ok(event) => {
                        digest.add(payload);
                        report.examined += payload.len() as u64;
                        pending.push(event);
                        if pending.len() == BATCH {
                            check(&mut pending, &mut report, &mut verified);
                        }
                        start += len;
                        offset += len as u64;
                    }
                    // A damaged length may have swallowed the next frames: look for the
                    // next marker inside this frame rather than skip it whole, while the
                    // budget for that lasts.
                    Err(error) => {
                        report.refused_frame(offset, error);
                        searched += payload.len() as u64;
                        let step = if searched <= search_budget { 1 } else { len };
                        if step > 1 {
                            report.skipped(offset, step as u64);
                        }
                        start += step;
                        offset += step as u64;
                    }
                }
                progress(offset, size);
            }
            Frame::Trailer { payload, len } => {
                trailer_seen = true;
                report.examined += payload.len() as u64;
                match Trailer::check(payload, &digest) {
                    Ok(trailer) => report.signed_by = Some(trailer.signer.to_string()),
                    Err(problem) => report.trailer_problem = Some(problem),
                }
                start += len;
                offset += len as u64;
            }
            Frame::Need(_) if at_end => {
                report.truncated = true;
                break;
            }
            Frame::Need(_) => unreachable!("the buffer holds a whole frame until the end"),
            Frame::Garbage(len) => {
                report.skipped(offset, len as u64);
                start += len;
                offset += len as u64;
            }
        }
    }
    check(&mut pending, &mut report, &mut verified);
    if !trailer_seen {
        report.truncated = true;
    }
    let events = std::mem::take(&mut report.events);
    report.events = node.append_checked(&verified, events)?;
    // A council whose genesis did not arrive has nothing stored (its events wait as
    // orphans): there is nothing to fold, and the other councils' projections are saved.
    let mut stored = Vec::new();
    for council in &report.events.touched {
        if node.store().event_count(*council)? > 0 {
            stored.push(*council);
        }
    }
    node.settle(&stored)?;
    Ok(report)
}

/// Removes what writes killed midway left in the data directory: the temporary files of
/// atomic writes, and the named copies of bundles that imports made before they used
/// unnamed ones. Only files an hour old are removed, so a write under way in another
/// process is left alone. Returns how many it removed.
pub fn remove_stray_copies(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", dir.display())),
    };
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let stray = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(STRAY_PREFIX))
            && metadata.is_file()
            && metadata.modified().is_ok_and(|at| at < hour_ago);
        if stray && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// The start of the name of a temporary file (`tempfile`'s default).
const STRAY_PREFIX: &str = ".tmp";

fn read_up_to(file: &mut File, buffer: &mut [u8]) -> Result<usize> {
    let mut read = 0;
    while read < buffer.len() {
        match file.read(&mut buffer[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header, then a marker and a declared length of 67,584 every 8 bytes: each marker
    /// starts a frame that swallows the next 8,448 markers, and none decodes.
    fn crafted(size: usize) -> Vec<u8> {
        let mut bytes = bundle::HEADER.to_vec();
        while bytes.len() < size {
            bytes.extend_from_slice(bundle::EVENT);
            bytes.extend_from_slice(&67_584u32.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn a_crafted_bundle_costs_a_few_passes_and_a_bounded_report() {
        let dir = tempfile::TempDir::new().unwrap();
        let (mut node, _) = Node::init(&dir.path().join("data"), None, "alice").unwrap();
        let bytes = crafted(4 << 20);
        let path = dir.path().join("crafted.bundle");
        fs::write(&path, &bytes).unwrap();
        let report = import(&mut node, &path, u64::MAX, &mut |_, _| {}).unwrap();
        let size = bytes.len() as u64;
        // Without the search budget every marker's frame is read whole: half a million frames
        // of 67 KB, thousands of times the file.
        assert!(
            report.examined <= 5 * size + SEARCH_BUDGET + 2 * bundle::MAX_FRAME as u64,
            "{} bytes examined for a file of {size}",
            report.examined
        );
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.len() < 64 << 10, "a report of {} bytes", json.len());
        assert!(report.unreported_damage > 0, "{json}");
        assert_eq!(report.events.new, 0);
    }
}
