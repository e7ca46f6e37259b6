//! Bundle files: export a node's events to a file, import a file, and write a have-file for
//! the next incremental export. The bytes are `commune_core::bundle`'s.
//!
//! Import copies the file into the data directory first (the stick may be pulled out), reads
//! the copy frame by frame, checking each event's bytes and signature as it goes, skips and
//! reports damaged frames, keeps every valid event of a truncated file, and appends them all
//! in one transaction. It never deletes or overwrites: events are added or found present.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use commune_core::bundle::{self, Digest, Frame, Trailer};
use commune_core::{CouncilId, EventId, Keypair};
use serde::{Deserialize, Serialize};

use super::write_atomically;
use crate::node::{IngestReport, Node, now_ms, verify_decoded};

/// Files larger than this are refused unless the user raises the limit.
pub const DEFAULT_MAX_MB: u64 = 2048;
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
    /// Damaged stretches skipped, as (byte offset, length).
    pub corrupt: Vec<(u64, u64)>,
    /// The file ends inside a frame or before its trailer.
    pub truncated: bool,
    /// Who signed the trailer, if it holds.
    pub signed_by: Option<String>,
    /// Why the trailer does not hold, if it does not.
    pub trailer_problem: Option<String>,
}

/// Reads a bundle into the node. See the module's doc for the guarantees.
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
    // Work on a copy in the data directory: the original may go away mid-read.
    let copy = tempfile::NamedTempFile::new_in(node.dir())
        .context("cannot make a copy of the bundle in the data directory")?;
    fs::copy(path, copy.path()).with_context(|| format!("cannot copy {}", path.display()))?;
    let mut file = File::open(copy.path())?;
    let mut header = [0u8; 16];
    let read = read_up_to(&mut file, &mut header)?;
    if read < header.len() || &header != bundle::HEADER {
        if read >= 15 && header[..15] == bundle::HEADER[..15] {
            bail!(
                "{} is a bundle of version {}; this commune reads version 1",
                path.display(),
                header[15]
            );
        }
        bail!(
            "{} is not a commune bundle (it does not start with the bundle header)",
            path.display()
        );
    }

    let mut report = ImportReport::default();
    let mut digest = Digest::default();
    let mut verified = Vec::new();
    let mut pending: Vec<commune_core::Event> = Vec::new();
    let mut buffer: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut offset: u64 = 16;
    let mut at_end = false;
    let mut trailer_seen = false;
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
                digest.add(payload);
                match commune_core::Event::decode(payload) {
                    Ok(event) => {
                        pending.push(event);
                        if pending.len() == BATCH {
                            check(&mut pending, &mut report, &mut verified);
                        }
                        start += len;
                        offset += len as u64;
                    }
                    // A damaged length may have swallowed the next frames: look for the
                    // next marker inside this frame rather than skip it whole.
                    Err(error) => {
                        report
                            .events
                            .invalid
                            .push(format!("the frame at offset {offset}: {error}"));
                        start += 1;
                        offset += 1;
                    }
                }
                progress(offset, size);
            }
            Frame::Trailer { payload, len } => {
                trailer_seen = true;
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
                match report.corrupt.last_mut() {
                    Some((at, n)) if *at + *n == offset => *n += len as u64,
                    _ => report.corrupt.push((offset, len as u64)),
                }
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
    let touched = report.events.touched.clone();
    node.settle(&touched)?;
    Ok(report)
}

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
