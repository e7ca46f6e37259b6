//! The use-cases of a node, shared by the CLI and the HTTP API: read the store, call the
//! core, append events, answer.
//!
//! Owns the data directory (the database file and the members' key files) and the rule that
//! nothing is written unless the fold accepts it. Must not parse arguments or speak HTTP.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use commune_core::constitution::Constitution;
use commune_core::event::verify_events;
use commune_core::fold::OutOfOrder;
use commune_core::invite::Invitation;
use commune_core::payload::{self, Payload};
use commune_core::state::Rejection;
use commune_core::{
    CouncilId, Event, EventId, Folded, Folder, Keypair, ParentInfo, PublicKey, Unsigned, fold_live,
};
use commune_store::Store;
use serde::Serialize;

/// The database file inside the data directory.
pub const DATABASE: &str = "commune.sqlite";
/// The file inside the data directory that names the node's store by URL, when its log is
/// not in [`DATABASE`] (a PostgreSQL database, say): written by `init --store URL`.
pub const STORE_FILE: &str = "store.url";
const KEYS: &str = "keys";
/// The identity `init` creates and commands use unless told `--as`.
pub const DEFAULT_IDENTITY: &str = "me";

/// A running node: its data directory and store, and the folds it has computed.
pub struct Node {
    dir: PathBuf,
    store: Store,
    folds: Folds,
    /// Each council's live fold, which takes the node's own acts without folding again, and
    /// its state read out, once read since the folder last changed.
    live: HashMap<CouncilId, Live>,
    /// Whether readers share `folds` (a server's pages): then each change is read out at
    /// once, so that a page never waits for a write to find a fold.
    shared: std::sync::atomic::AtomicBool,
    /// The store's data version when `folds` was last known fresh: another process (a CLI
    /// command beside `commune serve`) may have written since.
    seen_version: u64,
    /// Tells listeners (live web pages) which council just took a new event.
    changes: tokio::sync::broadcast::Sender<CouncilId>,
    /// What may enter the log from outside (`gate.rs`).
    gate: crate::gate::Gate,
    /// Browsers' sessions (`crate::session`), shared by every request to `commune serve`.
    sessions: crate::session::Sessions,
}

/// An event from outside that does not build on the council's current heads: its author
/// drafted it before another event arrived, and should draft it again.
#[derive(Debug)]
pub struct StaleHeads;

impl std::fmt::Display for StaleHeads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "the event is refused: it must build on the council's current heads (the council \
             moved on while it was signed: draft it again, or sync first)",
        )
    }
}

impl std::error::Error for StaleHeads {}

/// The folds a node has computed, shared with readers that must not wait for the node
/// itself (web pages, while a write holds the node): they see the latest complete fold.
#[derive(Debug, Clone, Default)]
pub struct Folds(Arc<RwLock<HashMap<CouncilId, Arc<Folded>>>>);

impl Folds {
    fn map(&self) -> std::sync::RwLockReadGuard<'_, HashMap<CouncilId, Arc<Folded>>> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn map_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<CouncilId, Arc<Folded>>> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, council: &CouncilId) -> Option<Arc<Folded>> {
        self.map().get(council).cloned()
    }

    fn insert(&self, council: CouncilId, folded: Arc<Folded>) {
        self.map_mut().insert(council, folded);
    }

    fn remove(&self, council: &CouncilId) {
        self.map_mut().remove(council);
    }

    fn clear(&self) {
        self.map_mut().clear();
    }
}

/// A council's live folder, and its state as last read out of it (`None` once the folder has
/// taken an event since).
struct Live {
    folder: Folder,
    folded: Option<Arc<Folded>>,
}

/// What became of an event submitted from outside.
#[derive(Debug)]
pub enum Submitted {
    /// The event is new and now in the log.
    Recorded(Event),
    /// The node already held these exact bytes: nothing was written.
    AlreadyRecorded(Event),
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("dir", &self.dir).finish()
    }
}

/// One line about a council, for lists.
#[derive(Debug, Clone, Serialize)]
pub struct CouncilSummary {
    pub id: CouncilId,
    pub name: String,
    pub members: usize,
    pub open_proposals: usize,
    pub events: u64,
}

/// What became of events that came from another node (by sync or bundle).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Events stored now that were not before.
    pub new: usize,
    /// Events this node already had.
    pub duplicate: usize,
    /// Events refused for good, each with the reason: malformed, forged, of another council,
    /// or not fitting their parents.
    pub invalid: Vec<String>,
    /// Events dated beyond this node's clock (and what builds on them): the same bytes go
    /// in once their time has come.
    pub not_yet: Vec<String>,
    /// Events the gate kept out: their authors are not members here (DESIGN.md §4).
    pub refused: Vec<String>,
    /// Events held back because a parent is missing: fetch the parents and try again.
    pub orphans: Vec<EventId>,
    /// The missing parents of the orphans.
    #[serde(skip)]
    pub missing_parents: Vec<EventId>,
    /// The councils that gained events.
    #[serde(skip)]
    pub touched: Vec<CouncilId>,
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub council: CouncilId,
    pub events: u64,
    pub bad_signatures: Vec<EventId>,
    pub state_hash: String,
    /// The state hash the projection held, when it differs from the recomputed one.
    pub projection_mismatch: Option<String>,
    pub rejections: usize,
    /// The council's heads are missing, or name events the log lacks: acts cannot be drafted
    /// until `rebuild` recomputes them.
    pub heads_missing: bool,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.bad_signatures.is_empty() && self.projection_mismatch.is_none() && !self.heads_missing
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

impl Node {
    /// Creates the data directory, the database and the identity `name` if they are missing.
    /// Returns the node and whether the identity was new. With `store`, the log is in the
    /// store that URL names (see [`open_store`]), which the data directory then remembers in
    /// [`STORE_FILE`] for later commands.
    pub fn init(dir: &Path, store: Option<&str>, name: &str) -> Result<(Node, bool)> {
        fs::create_dir_all(dir.join(KEYS))
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        // Only the owner may enter, whatever the umask: the log and the keys are in here.
        restrict(dir, 0o700)?;
        restrict(&dir.join(KEYS), 0o700)?;
        if store.is_none() && !dir.join(STORE_FILE).exists() {
            private_file(&dir.join(DATABASE))?;
        }
        if let Some(url) = store {
            // The URL may hold a password: only the owner may read the file.
            let path = dir.join(STORE_FILE);
            fs::write(&path, format!("{url}\n"))
                .with_context(|| format!("cannot write {}", path.display()))?;
            restrict(&path, 0o600)?;
        }
        let node = Node::open_with(dir, store)?;
        let created = if node.key_path(name)?.exists() {
            false
        } else {
            node.create_identity(name)?;
            true
        };
        Ok((node, created))
    }

    /// Opens an existing data directory.
    pub fn open(dir: &Path) -> Result<Node> {
        Node::open_with(dir, None)
    }

    /// Opens an existing data directory, with the store a URL names (see [`open_store`]).
    pub fn open_with(dir: &Path, store: Option<&str>) -> Result<Node> {
        if !dir.join(KEYS).is_dir() {
            bail!(
                "no data directory at {}: run `commune init` first (or pass --data DIR)",
                dir.display()
            );
        }
        let store = open_store(dir, store)?;
        let seen_version = store.data_version()?;
        Ok(Node {
            dir: dir.to_owned(),
            store,
            folds: Folds::default(),
            live: HashMap::new(),
            shared: Default::default(),
            seen_version,
            changes: tokio::sync::broadcast::channel(64).0,
            gate: crate::gate::Gate::default(),
            sessions: crate::session::Sessions::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The node's folds, to read without holding the node. From now on each change is read
    /// out into them as it is made.
    pub fn folds(&self) -> Folds {
        self.shared
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.folds.clone()
    }

    /// The browsers' sessions, to check without holding the node.
    pub fn sessions(&self) -> crate::session::Sessions {
        self.sessions.clone()
    }

    /// Puts a council's live folder back after a change, reading its state out at once when
    /// readers share the folds.
    fn keep_live(&mut self, council: CouncilId, folder: Folder) {
        let folded = self
            .shared
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| Arc::new(folder.folded().expect("a live folder needs no restart")));
        if let Some(folded) = &folded {
            self.folds.insert(council, folded.clone());
        }
        self.live.insert(council, Live { folder, folded });
    }

    fn key_path(&self, name: &str) -> Result<PathBuf> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!("an identity name uses letters, digits, - and _ only: {name:?}");
        }
        Ok(self.dir.join(KEYS).join(format!("{name}.key")))
    }

    /// Makes a new member key, kept in a file only its owner can read. The file appears
    /// whole or not at all (written beside, synced, then linked into place), and an
    /// existing key is never replaced.
    pub fn create_identity(&self, name: &str) -> Result<Keypair> {
        let keypair = Keypair::from_seed(random_bytes());
        self.save_identity(name, &keypair)?;
        Ok(keypair)
    }

    /// Keeps `keypair` as the identity `name`, as [`Node::create_identity`] does.
    pub fn save_identity(&self, name: &str, keypair: &Keypair) -> Result<()> {
        let path = self.key_path(name)?;
        if path.exists() {
            bail!(
                "an identity {name:?} already exists in {}: choose another name",
                self.dir.display()
            );
        }
        let keys = self.dir.join(KEYS);
        // tempfile makes the file 0600 before anything is written to it.
        let mut file = tempfile::NamedTempFile::new_in(&keys)
            .with_context(|| format!("cannot write in {}", keys.display()))?;
        writeln!(file, "{}", data_encoding::HEXLOWER.encode(&keypair.seed()))
            .and_then(|()| file.as_file().sync_all())
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        file.persist_noclobber(&path).map_err(|error| {
            if error.error.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!("an identity {name:?} already exists: choose another name")
            } else {
                anyhow!(
                    "cannot create the key file {}: {}",
                    path.display(),
                    error.error
                )
            }
        })?;
        // The new name is durable once the directory is.
        if let Ok(dir) = fs::File::open(&keys) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The key of a local identity.
    pub fn identity(&self, name: &str) -> Result<Keypair> {
        let path = self.key_path(name)?;
        let text = fs::read_to_string(&path).map_err(|_| {
            anyhow!(
                "no identity {name:?} in {}: make it with `commune key new {name}`",
                self.dir.display()
            )
        })?;
        let seed: [u8; 32] = data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                anyhow!(
                    "the key file {} is damaged: restore it from a backup \
                     (`commune key import`), or make another identity",
                    path.display()
                )
            })?;
        Ok(Keypair::from_seed(seed))
    }

    /// The local identities, by name; a damaged key file is left out (see
    /// [`Node::identity_files`]).
    pub fn identities(&self) -> Result<Vec<(String, PublicKey)>> {
        Ok(self
            .identity_files()?
            .into_iter()
            .filter_map(|(name, key)| Some((name, key.ok()?)))
            .collect())
    }

    /// Every key file, by name: its public key, or why it cannot be read.
    pub fn identity_files(&self) -> Result<Vec<(String, Result<PublicKey, String>)>> {
        let mut identities = Vec::new();
        for entry in fs::read_dir(self.dir.join(KEYS))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "key")
                && let Some(name) = path.file_stem().and_then(|s| s.to_str())
            {
                let key = self
                    .identity(name)
                    .map(|keypair| keypair.public())
                    .map_err(|error| error.to_string());
                identities.push((name.to_owned(), key));
            }
        }
        identities.sort();
        Ok(identities)
    }

    /// The fold of a council if the node holds it computed and current; never folds (it may
    /// read the state out of the council's live folder).
    pub fn cached_fold(&mut self, council: CouncilId) -> Result<Option<Arc<Folded>>> {
        self.notice_others()?;
        let Some(live) = self.live.get_mut(&council) else {
            return Ok(None);
        };
        if let Some(folded) = &live.folded {
            return Ok(Some(folded.clone()));
        }
        let folded = Arc::new(
            live.folder
                .folded()
                .expect("a live folder needs no restart"),
        );
        live.folded = Some(folded.clone());
        self.folds.insert(council, folded.clone());
        Ok(Some(folded))
    }

    /// Forgets every fold when another process has written to the store since.
    fn notice_others(&mut self) -> Result<()> {
        let version = self.store.data_version()?;
        if version != self.seen_version {
            self.folds.clear();
            self.live.clear();
            self.seen_version = version;
        }
        Ok(())
    }

    /// Forgets a council's fold: its log changed under it.
    fn forget_fold(&mut self, council: &CouncilId) {
        self.folds.remove(council);
        self.live.remove(council);
    }

    /// The fold of a council, computed once per change.
    pub fn fold(&mut self, council: CouncilId) -> Result<Arc<Folded>> {
        if let Some(folded) = self.cached_fold(council)? {
            return Ok(folded);
        }
        if self.store.event_count(council)? == 0 {
            bail!("no council {council} on this node");
        }
        // Read out here, not through `cached_fold`: another process may write meanwhile, and
        // noticing it would drop the fold just made (the next read then folds again).
        let folder = self.fold_with(council, None)?;
        let folded = Arc::new(folder.folded().expect("a live folder needs no restart"));
        self.folds.insert(council, folded.clone());
        self.live.insert(
            council,
            Live {
                folder,
                folded: Some(folded.clone()),
            },
        );
        Ok(folded)
    }

    /// Folds the council's stored events, and `extra` after them, into a live folder.
    fn fold_with(&self, council: CouncilId, extra: Option<&Event>) -> Result<Folder> {
        fold_store_live(
            &self.store,
            council,
            extra.map(std::slice::from_ref).unwrap_or(&[]),
        )
    }

    /// The council's live folder with `event` folded in, if the fold accepts it: the folder
    /// the node holds when `event` extends it exactly (see [`Folder::extends_exactly`]), else
    /// a fold of the store and `event`. The node's folder is taken out either way: the
    /// caller puts the result back once `event` is in the log.
    fn fold_in(&mut self, council: CouncilId, event: &Event) -> Result<Folder> {
        self.notice_others()?;
        // Readers keep the latest fold read out (in `folds`) until a newer one is.
        let live = self.live.remove(&council).map(|live| live.folder);
        let extended = match live {
            None if event.unsigned.is_genesis() => {
                Folder::new(council, Default::default()).extend(event, None)
            }
            Some(folder) => folder.extend(event, None),
            _ => None,
        };
        let folder = match extended {
            Some(folder) => folder,
            None => self.fold_with(council, Some(event))?,
        };
        if let Some(rejection) = folder.rejection_of(&event.id) {
            bail!("{}", rejection.reason);
        }
        Ok(folder)
    }

    /// The event `keypair` would sign for `payload` at `now`: on the council's heads, or on
    /// `after` alone (an event composed but not yet appended), for a chain of acts that go in
    /// together with [`Node::commit_all`].
    pub fn compose_after(
        &self,
        keypair: &Keypair,
        council: CouncilId,
        after: Option<&Event>,
        payload: &Payload,
        now: u64,
    ) -> Result<Event> {
        let Some(after) = after else {
            return self.compose(keypair, council, payload, now);
        };
        Ok(Unsigned::compose(
            council,
            keypair.public(),
            after.unsigned.seq + 1,
            &[after.parent_info()],
            now.max(after.unsigned.time_ms),
            payload.kind(),
            payload.encode(),
        )
        .sign(keypair))
    }

    /// Appends a chain of events from [`Node::compose_after`] if the fold accepts every one
    /// of them; otherwise nothing, and the error names the first refused.
    pub fn commit_all(&mut self, council: CouncilId, events: &[Event]) -> Result<()> {
        if let Some(reason) = events
            .iter()
            .find_map(|e| crate::gate::not_yet(e, now_ms()))
        {
            bail!("{reason}");
        }
        self.notice_others()?;
        // Into the live folder one by one while each extends it exactly, else from genesis.
        let mut live = self.live.remove(&council).map(|live| live.folder);
        for event in events {
            live = live.and_then(|folder| folder.extend(event, None));
        }
        let folder = match live {
            Some(folder) => folder,
            None => fold_store_live(&self.store, council, events)?,
        };
        for (n, event) in events.iter().enumerate() {
            if let Some(rejection) = folder.rejection_of(&event.id) {
                bail!(
                    "nothing was recorded: act {} of {} is refused: {}",
                    n + 1,
                    events.len(),
                    rejection.reason
                );
            }
        }
        let report = self.store.append(events)?;
        if let Some((_, error)) = report.invalid.first() {
            bail!("the events do not fit their parents: {error}");
        }
        self.keep_live(council, folder);
        for event in events {
            self.gate.note(event);
        }
        let _ = self.changes.send(council);
        Ok(())
    }

    /// Councils on this node.
    pub fn councils(&mut self) -> Result<Vec<CouncilSummary>> {
        let mut summaries = Vec::new();
        for council in self.store.councils()? {
            let folded = self.fold(council)?;
            summaries.push(CouncilSummary {
                id: council,
                name: folded.state.name.clone(),
                members: folded.state.members.len(),
                open_proposals: folded
                    .state
                    .proposals
                    .values()
                    .filter(|p| p.is_open())
                    .count(),
                events: folded.state.events,
            });
        }
        Ok(summaries)
    }

    /// The councils on this node with their names, read from their genesis events (a
    /// council's name is set when it is founded and never changes): no fold.
    pub fn council_names(&self) -> Result<Vec<(CouncilId, String)>> {
        let mut names = Vec::new();
        for council in self.store.councils()? {
            let genesis = self
                .store
                .event(EventId(council.0))?
                .ok_or_else(|| anyhow!("the genesis of council {council} is missing"))?;
            let name = match genesis
                .inline_body()
                .map(|body| Payload::decode(genesis.unsigned.kind, body))
            {
                Some(Ok(Payload::Found(found))) => found.name,
                // A genesis that founds nothing folds to a council without a name.
                _ => String::new(),
            };
            names.push((council, name));
        }
        Ok(names)
    }

    /// Finds a council by id, unique id prefix, exact name, or a unique part of its name.
    pub fn resolve_council(&mut self, text: &str) -> Result<CouncilId> {
        let names = self.council_names()?;
        let lower = text.to_lowercase();
        let exact: Vec<&(CouncilId, String)> =
            names.iter().filter(|(_, name)| name == text).collect();
        let found: Vec<&(CouncilId, String)> = if exact.is_empty() {
            names
                .iter()
                .filter(|(id, name)| {
                    (text.len() >= 4 && id.to_string().starts_with(&lower))
                        || (!text.is_empty() && name.to_lowercase().contains(&lower))
                })
                .collect()
        } else {
            exact
        };
        match found.as_slice() {
            [(id, _)] => Ok(*id),
            [] => bail!("no council {text:?} on this node: `commune council list` shows them"),
            _ => bail!("{text:?} matches several councils: give more of the id"),
        }
    }

    /// Finds a proposal of the council by id or unique id prefix.
    pub fn resolve_proposal(&mut self, council: CouncilId, text: &str) -> Result<EventId> {
        let folded = self.fold(council)?;
        let text = text.to_lowercase();
        let found: Vec<&EventId> = folded
            .state
            .proposals
            .keys()
            .filter(|id| text.len() >= 4 && id.to_string().starts_with(&text))
            .collect();
        match found.as_slice() {
            [one] => Ok(**one),
            [] => bail!(
                "no proposal {text:?} in {}: `commune proposal list` shows them",
                folded.state.name
            ),
            _ => bail!("{text:?} matches several proposals: give more of the id"),
        }
    }

    /// Founds a council; the founder is the identity `keypair`.
    pub fn found(
        &mut self,
        keypair: &Keypair,
        name: &str,
        founder_name: &str,
        constitution: Constitution,
    ) -> Result<Event> {
        let event = draft_found(keypair.public(), name, founder_name, constitution, now_ms())?
            .sign(keypair);
        self.commit(event.council(), event)
    }

    /// Signs `payload` as `keypair` on top of the council's heads and appends it, if the fold
    /// accepts it.
    pub fn act(
        &mut self,
        keypair: &Keypair,
        council: CouncilId,
        payload: Payload,
    ) -> Result<Event> {
        let event = self.compose(keypair, council, &payload, now_ms())?;
        self.commit(council, event)
    }

    fn compose(
        &self,
        keypair: &Keypair,
        council: CouncilId,
        payload: &Payload,
        now: u64,
    ) -> Result<Event> {
        let unsigned = self.draft(council, keypair.public(), payload, now)?;
        Ok(unsigned.sign(keypair))
    }

    /// The unsigned event `author` would sign for `payload` now: on the council's heads,
    /// with the author's next seq.
    pub fn draft(
        &self,
        council: CouncilId,
        author: PublicKey,
        payload: &Payload,
        now: u64,
    ) -> Result<Unsigned> {
        let parents = self.draft_parents(council, author, now)?;
        let seq = self.store.last_seq(council, author)? + 1;
        Ok(Unsigned::compose(
            council,
            author,
            seq,
            &parents,
            now,
            payload.kind(),
            payload.encode(),
        ))
    }

    /// The events a draft builds on: the heads, less those the fold rejected or dated beyond
    /// the clock (see [`crate::gate::parents`]).
    fn draft_parents(
        &self,
        council: CouncilId,
        author: PublicKey,
        now: u64,
    ) -> Result<Vec<ParentInfo>> {
        if self.store.heads(council)?.is_empty() {
            bail!("no council {council} on this node");
        }
        let folded;
        let folder = match self.live.get(&council) {
            Some(live) => &live.folder,
            None => {
                folded = self.fold_with(council, None)?;
                &folded
            }
        };
        crate::gate::parents(
            &self.store,
            council,
            author,
            |id| folder.rejection_of(id).is_some(),
            now,
        )
    }

    /// Takes a signed event from outside (the HTTP API): checks it, then commits it.
    pub fn submit(&mut self, bytes: &[u8]) -> Result<Submitted> {
        let event = Event::decode_verified(bytes)
            .map_err(|error| anyhow!("the event is refused: {error}"))?;
        if self.store.has(event.id)? {
            return Ok(Submitted::AlreadyRecorded(event));
        }
        let council = event.council();
        if let Some(reason) = crate::gate::not_yet(&event, now_ms()) {
            bail!("{reason}");
        }
        let on_heads = event.unsigned.is_genesis() || {
            let max_depth = self
                .draft_parents(council, event.unsigned.author, now_ms())?
                .iter()
                .map(|p| p.depth)
                .max();
            max_depth.is_some_and(|depth| event.unsigned.depth > depth)
        };
        if !on_heads {
            return Err(StaleHeads.into());
        }
        self.commit(council, event).map(Submitted::Recorded)
    }

    /// Appends an event the fold accepts, and refreshes the projection. Nothing is written
    /// when the fold would reject the event: the error says why.
    fn commit(&mut self, council: CouncilId, event: Event) -> Result<Event> {
        if let Some(reason) = crate::gate::not_yet(&event, now_ms()) {
            bail!("{reason}");
        }
        let folder = self.fold_in(council, &event)?;
        let report = self.store.append(std::slice::from_ref(&event))?;
        if let Some((_, error)) = report.invalid.first() {
            bail!("the event does not fit its parents: {error}");
        }
        if !report.missing_parents.is_empty() {
            bail!("the event's parents are not on this node (sync first)");
        }
        self.keep_live(council, folder);
        self.gate.note(&event);
        // Nobody listening is not an error.
        let _ = self.changes.send(council);
        Ok(event)
    }

    /// Listens for the councils that take new events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CouncilId> {
        self.changes.subscribe()
    }

    /// Ends every listener's stream (at shutdown, so that live pages let the server stop).
    pub fn close_subscriptions(&mut self) {
        self.changes = tokio::sync::broadcast::channel(64).0;
    }

    /// Saves the state hash with the number of events it covers (`rebuild` and `settle`
    /// do; an act does not, as it would hash the whole state each time).
    fn save_projection(&mut self, council: CouncilId, folded: &Folded) -> Result<()> {
        // The hash with the number of events it covers, in one document: when several
        // processes write one log, a process may save the fold it made just before another's
        // event went in, and verify must tell such a stale cache from a wrong one.
        self.store
            .put_projection(council, "state_hash", &hash_projection(folded))?;
        Ok(())
    }

    /// An invitation to the council, signed by `keypair`, which must be a member.
    pub fn invite(
        &mut self,
        keypair: &Keypair,
        council: CouncilId,
        valid_ms: u64,
    ) -> Result<Invitation> {
        let mut invitation = self.draft_invitation(council, keypair.public(), valid_ms)?;
        invitation.signature = keypair.sign(&invitation.signed_message()).0;
        Ok(invitation)
    }

    /// An unsigned invitation from `inviter`, which must be a member: its holder signs it.
    pub fn draft_invitation(
        &mut self,
        council: CouncilId,
        inviter: PublicKey,
        valid_ms: u64,
    ) -> Result<Invitation> {
        let folded = self.fold(council)?;
        if !folded.state.members.contains_key(&inviter) {
            bail!(
                "only a member can invite, and you are not a member of {}",
                folded.state.name
            );
        }
        Ok(Invitation::unsigned(
            council,
            folded.state.name.clone(),
            inviter,
            random_bytes(),
            now_ms().saturating_add(valid_ms),
        ))
    }

    /// Re-checks every signature and recomputes the state from the raw log, comparing it
    /// with the stored projection.
    pub fn verify(&mut self, council: CouncilId) -> Result<VerifyReport> {
        let events = self.store.events_of(council)?;
        let mut bad_signatures = Vec::new();
        for chunk in events.chunks(4096) {
            for (event, ok) in chunk.iter().zip(verify_events(chunk)) {
                if !ok {
                    bad_signatures.push(event.id);
                }
            }
        }
        let heads = self.store.heads(council)?;
        let mut heads_missing = heads.is_empty();
        for head in &heads {
            heads_missing |= !self.store.has(*head)?;
        }
        // The node's own fold (built act by act) must be the fold from genesis.
        let live = self.cached_fold(council)?;
        self.forget_fold(&council);
        let folded = self.fold(council)?;
        let live_mismatch = live
            .map(|live| data_encoding::HEXLOWER.encode(&live.state.hash()))
            .filter(|live| *live != data_encoding::HEXLOWER.encode(&folded.state.hash()));
        let state_hash = data_encoding::HEXLOWER.encode(&folded.state.hash());
        // A projection saved for fewer events is stale, not wrong (see `save_projection`);
        // one without a count is from before counts were saved.
        let stored = self.store.projection(council, "state_hash")?;
        let mismatch = stored.and_then(|stored| match stored.split_once(' ') {
            Some((hash, events)) if events == folded.state.events.to_string() => {
                (hash != state_hash).then(|| hash.to_owned())
            }
            Some(_) => None,
            None => (stored != state_hash).then_some(stored),
        });
        let mismatch = mismatch.or(live_mismatch);
        Ok(VerifyReport {
            council,
            events: events.len() as u64,
            bad_signatures,
            projection_mismatch: mismatch,
            state_hash,
            rejections: folded.rejections.len(),
            heads_missing,
        })
    }

    /// Recomputes every projection and the heads from the log, after checking every event's
    /// signature (in batches): a row forged in the database refuses the rebuild, and nothing
    /// changes. The new heads and projections replace the old in one transaction, so a crash
    /// leaves one or the other. Returns the councils rebuilt.
    pub fn rebuild(&mut self, mut progress: impl FnMut(usize, usize)) -> Result<Vec<CouncilId>> {
        let councils = self.store.councils()?;
        let mut forged = Vec::new();
        for council in &councils {
            let mut batch = Vec::with_capacity(4096);
            let mut check = |batch: &mut Vec<Event>| {
                for (event, ok) in batch.iter().zip(verify_events(batch)) {
                    if !ok {
                        forged.push(event.id);
                    }
                }
                batch.clear();
            };
            self.store.for_each_event(*council, |event| {
                batch.push(event);
                if batch.len() == 4096 {
                    check(&mut batch);
                }
            })?;
            check(&mut batch);
        }
        if let Some(first) = forged.first() {
            bail!(
                "nothing was rebuilt: {} event(s) in the database do not carry their author's signature (the first is {first}); the database was changed outside commune, and `commune verify` lists them",
                forged.len()
            );
        }
        self.folds.clear();
        self.live.clear();
        let mut folders = Vec::with_capacity(councils.len());
        let mut projections = Vec::with_capacity(councils.len());
        for (done, council) in councils.iter().enumerate() {
            let folder = self.fold_with(*council, None)?;
            let folded = folder.folded().expect("a live folder needs no restart");
            projections.push((*council, "state_hash", hash_projection(&folded)));
            folders.push((*council, folder));
            progress(done + 1, councils.len());
        }
        self.store.rebuild(&projections)?;
        for (council, folder) in folders {
            self.keep_live(council, folder);
        }
        Ok(councils)
    }

    /// Stores events from another node: each is decoded strictly and its signature checked
    /// (in one batch), then the batch is appended in one transaction. Events the fold rejects
    /// are still stored: the log keeps them and the fold's rejections say why. With
    /// `council`, events of any other council are refused.
    ///
    /// The projections of the councils that gained events are dropped before the append, and
    /// [`Node::settle`] saves them again once a whole sync or import is in: folding a long
    /// log after each batch would cost more than the batches.
    pub fn ingest(&mut self, council: Option<CouncilId>, frames: &[&[u8]]) -> Result<IngestReport> {
        let mut report = IngestReport::default();
        let verified = check_frames(council, frames, &mut report.invalid);
        self.append_gated(&verified, report, crate::gate::Source::Pushed)
    }

    /// Appends events that [`check_frames`] passed, that this node asked for (its own sync)
    /// or its operator chose (a bundle), in one transaction; `report` already holds the
    /// frames it refused.
    pub fn append_checked(
        &mut self,
        verified: &[Event],
        report: IngestReport,
    ) -> Result<IngestReport> {
        self.append_gated(verified, report, crate::gate::Source::Chosen)
    }

    /// Whether the node holds a council (any of its events).
    pub fn holds(&self, council: CouncilId) -> Result<bool> {
        Ok(self.store.event_count(council)? > 0)
    }

    /// Passes verified events through the gate (`gate.rs`), then appends what it lets in.
    fn append_gated(
        &mut self,
        verified: &[Event],
        mut report: IngestReport,
        source: crate::gate::Source,
    ) -> Result<IngestReport> {
        let mut councils: Vec<CouncilId> = verified.iter().map(Event::council).collect();
        councils.sort();
        councils.dedup();
        let version = self.store.data_version()?;
        for council in &councils {
            if self.gate.needs(*council, version) {
                let folded = match self.holds(*council)? {
                    true => Some(self.fold(*council)?),
                    false => None,
                };
                self.gate
                    .learn(*council, folded.as_ref().map(|f| &f.state), version);
            }
        }
        let verdicts = self.gate.judge(&self.store, verified, source, now_ms())?;
        report.not_yet = verdicts.not_yet;
        report.refused = verdicts.refused;
        let verified = verdicts.pass;
        // Only councils that may gain events lose their projections (and are settled).
        let mut councils: Vec<CouncilId> = verified.iter().map(Event::council).collect();
        councils.sort();
        councils.dedup();
        let mut held = Vec::with_capacity(councils.len());
        for council in councils {
            if self.holds(council)?
                || verified
                    .iter()
                    .any(|e| e.unsigned.is_genesis() && e.council() == council)
            {
                self.store.forget_projections(council)?;
                held.push(council);
            }
        }
        let councils = held;
        let appended = self.store.append(&verified)?;
        report.new = appended.inserted.len();
        report.duplicate = appended.duplicates;
        for (id, error) in &appended.invalid {
            report.invalid.push(format!("event {id}: {error}"));
        }
        let by_id: HashMap<EventId, &Event> = verified.iter().map(|e| (e.id, e)).collect();
        for orphan in &appended.missing_parents {
            report.orphans.push(*orphan);
            if let Some(event) = by_id.get(orphan) {
                for parent in &event.unsigned.parents {
                    if !by_id.contains_key(parent) && !self.store.has(*parent)? {
                        report.missing_parents.push(*parent);
                    }
                }
            }
        }
        report.missing_parents.sort();
        report.missing_parents.dedup();
        // Projections are dropped for every council of the batch, so every one is settled.
        report.touched = councils;
        self.fold_appended(&report.touched, &appended.inserted, &by_id)?;
        Ok(report)
    }

    /// Folds events just appended (in the store's (depth, id) order) into the live folders
    /// they extend; a council where one does not (it sorts before events already folded, or
    /// voids some) loses its fold, and the next read folds its log again.
    fn fold_appended(
        &mut self,
        councils: &[CouncilId],
        inserted: &[EventId],
        by_id: &HashMap<EventId, &Event>,
    ) -> Result<()> {
        self.notice_others()?;
        for council in councils {
            self.folds.remove(council);
        }
        for id in inserted {
            let Some(event) = by_id.get(id) else {
                continue;
            };
            let council = event.council();
            let Some(live) = self.live.remove(&council) else {
                continue;
            };
            let detached = match &event.unsigned.body {
                commune_core::Body::Detached { hash, .. } => self.store.body(*hash)?,
                commune_core::Body::Inline(_) => None,
            };
            if let Some(folder) = live.folder.extend(event, detached.as_deref()) {
                self.live.insert(
                    council,
                    Live {
                        folder,
                        folded: None,
                    },
                );
            }
        }
        Ok(())
    }

    /// Folds the councils again and saves their projections: after [`Node::ingest`].
    pub fn settle(&mut self, councils: &[CouncilId]) -> Result<()> {
        for council in councils {
            // The live fold took the new events as they went in, or was dropped.
            let folded = self.fold(*council)?;
            self.save_projection(*council, &folded)?;
            // Live pages show what sync and bundles bring, as they show local acts.
            let _ = self.changes.send(*council);
        }
        Ok(())
    }

    /// The rejections of a council's fold.
    pub fn rejections(&mut self, council: CouncilId) -> Result<Vec<Rejection>> {
        Ok(self.fold(council)?.rejections.clone())
    }
}

/// Decodes frames from another node strictly and checks their signatures in batches: the
/// events that pass, in the order given. Each refused frame adds a reason to `invalid`.
/// With `council`, events of any other council are refused.
pub fn check_frames(
    council: Option<CouncilId>,
    frames: &[&[u8]],
    invalid: &mut Vec<String>,
) -> Vec<Event> {
    let mut events = Vec::with_capacity(frames.len());
    for bytes in frames {
        match Event::decode(bytes) {
            Ok(event) if council.is_some_and(|c| c != event.council()) => {
                invalid.push(format!("event {} belongs to another council", event.id))
            }
            Ok(event) => events.push(event),
            Err(error) => invalid.push(format!("event {}: {error}", EventId::of(bytes).short())),
        }
    }
    verify_decoded(events, invalid)
}

/// The events whose signatures hold, checked in batches; each forged one adds a reason to
/// `invalid`.
pub fn verify_decoded(events: Vec<Event>, invalid: &mut Vec<String>) -> Vec<Event> {
    let mut verified = Vec::with_capacity(events.len());
    for chunk in events.chunks(4096) {
        for (event, ok) in chunk.iter().zip(verify_events(chunk)) {
            if ok {
                verified.push(event.clone());
            } else {
                invalid.push(format!("event {}: the signature is forged", event.id));
            }
        }
    }
    verified
}

/// The genesis event `author` would sign to found a council.
pub fn draft_found(
    author: PublicKey,
    name: &str,
    founder_name: &str,
    constitution: Constitution,
    now: u64,
) -> Result<Unsigned> {
    constitution
        .check()
        .map_err(|error| anyhow!("the constitution does not work: {error}"))?;
    let body = Payload::Found(payload::Found {
        name: name.to_owned(),
        constitution,
        founder_name: founder_name.to_owned(),
    });
    Ok(Unsigned::genesis(author, now, body.kind(), body.encode()))
}

/// Folds a council's events as the store holds them, and `extra` after them.
/// A node's store: the one `url` names (`sqlite:PATH` or `postgres://…`), else the one the
/// data directory names in [`STORE_FILE`], else the SQLite file [`DATABASE`] in it.
pub fn open_store(dir: &Path, url: Option<&str>) -> Result<Store> {
    let named = dir.join(STORE_FILE);
    let remembered = match url {
        Some(_) => None,
        None => match fs::read_to_string(&named) {
            Ok(text) => Some(text.trim().to_owned()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", named.display()));
            }
        },
    };
    Ok(match url.or(remembered.as_deref()) {
        Some(url) => Store::connect(url)?,
        None => Store::open(&dir.join(DATABASE))?,
    })
}

/// The `state_hash` projection of a fold: the hash and the number of events it covers.
fn hash_projection(folded: &Folded) -> String {
    format!(
        "{} {}",
        data_encoding::HEXLOWER.encode(&folded.state.hash()),
        folded.state.events
    )
}

pub fn fold_store(store: &Store, council: CouncilId, extra: Option<&Event>) -> Result<Folded> {
    fold_store_with(
        store,
        council,
        extra.map(std::slice::from_ref).unwrap_or(&[]),
    )
}

/// Folds a council's events as the store holds them, and the `extra` events among them in
/// (depth, id) order: a new draft may sort before stored events (it never builds on a
/// rejected head, which may be deeper, see `gate::parents`).
pub fn fold_store_with(store: &Store, council: CouncilId, extra: &[Event]) -> Result<Folded> {
    let folder = fold_store_live(store, council, extra)?;
    Ok(folder.finish().expect("a live folder needs no restart"))
}

/// As [`fold_store_with`], into a live folder.
pub fn fold_store_live(store: &Store, council: CouncilId, extra: &[Event]) -> Result<Folder> {
    let mut extra: Vec<&Event> = extra.iter().collect();
    extra.sort_by_key(|e| (e.unsigned.depth, e.id));
    fold_live(council, |folder| -> Result<()> {
        let mut out_of_order = None;
        let mut extra = extra.iter().peekable();
        store.for_each_event(council, |event| {
            let key = (event.unsigned.depth, event.id);
            while let Some(early) = extra.next_if(|e| (e.unsigned.depth, e.id) < key) {
                if let Err(OutOfOrder(id)) = folder.apply(early, None) {
                    out_of_order.get_or_insert(id);
                }
            }
            let detached = match &event.unsigned.body {
                commune_core::Body::Detached { hash, .. } => store.body(*hash).ok().flatten(),
                commune_core::Body::Inline(_) => None,
            };
            if let Err(OutOfOrder(id)) = folder.apply(&event, detached.as_deref()) {
                out_of_order.get_or_insert(id);
            }
        })?;
        for event in extra {
            folder.apply(event, None)?;
        }
        match out_of_order {
            Some(id) => bail!("the store gave event {id} out of order"),
            None => Ok(()),
        }
    })
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the permissions of {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

/// Makes `path` a file only its owner can read and write: created so if missing (an empty
/// file is a new SQLite database), restricted so if it was there.
fn private_file(path: &Path) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    restrict(path, 0o600)
}

#[cfg(test)]
mod tests;
