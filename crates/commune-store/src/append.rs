//! Deciding which events of a batch may enter the log, whatever the backend.
//!
//! Owns [`AppendReport`] and the rules of [`plan`]: order a batch by (depth, id), find each
//! parent in the batch or the store, check depth, time and council against the parents. Must
//! not speak SQL (the backend passes a lookup) and must not verify signatures (the caller
//! verifies a whole batch at once, before appending).

use std::collections::{HashMap, HashSet};

use commune_core::event::MAX_PARENTS;
use commune_core::{CouncilId, Event, EventError, EventId};

use crate::StoreError;

/// What happened to each event of a batch given to [`Store::append`](crate::Store::append).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[must_use]
pub struct AppendReport {
    /// The events now stored that were not before, in the order they went in: (depth, id).
    pub inserted: Vec<EventId>,
    /// How many events were already stored (or given twice), and were skipped.
    pub duplicates: usize,
    /// Events not stored because a parent is in neither the store nor the batch, or is in the
    /// batch but was itself not stored. Fetch the parents and append again.
    pub missing_parents: Vec<EventId>,
    /// Events not stored because they do not fit their parents (depth, time or council).
    /// They never will: the same bytes always fail the same way.
    pub invalid: Vec<(EventId, EventError)>,
}

/// What a child's checks need to know about one of its parents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParentFacts {
    pub council: CouncilId,
    pub depth: u64,
    pub time_ms: u64,
}

impl ParentFacts {
    fn of(event: &Event) -> ParentFacts {
        ParentFacts {
            council: event.council(),
            depth: event.unsigned.depth,
            time_ms: event.unsigned.time_ms,
        }
    }
}

/// The fate of one event of a batch.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Insert it; the backend then finds out whether it was already there.
    Store,
    MissingParents,
    Invalid(EventError),
}

/// Judges every event of a batch, in the order the backend must insert them: (depth, id),
/// so that parents go in before their children.
///
/// `stored` looks up a parent that is not in the batch; it is called at most once per id.
pub(crate) fn plan(
    events: &[Event],
    mut stored: impl FnMut(EventId) -> Result<Option<ParentFacts>, StoreError>,
) -> Result<Vec<(&Event, Verdict)>, StoreError> {
    let mut order: Vec<&Event> = events.iter().collect();
    order.sort_by_key(|event| (event.unsigned.depth, event.id));
    // An id commits to the depth, time and council its bytes claim, so a child can be checked
    // against a parent of the batch before that parent is judged. A parent that comes later
    // in (depth, id) order claims a depth at least the child's, so the child's check fails.
    let claimed: HashMap<EventId, ParentFacts> = order
        .iter()
        .map(|event| (event.id, ParentFacts::of(event)))
        .collect();
    let mut looked_up: HashMap<EventId, Option<ParentFacts>> = HashMap::new();
    let mut rejected: HashSet<EventId> = HashSet::new();
    let mut parents = Vec::with_capacity(MAX_PARENTS);
    let mut verdicts = Vec::with_capacity(order.len());
    for event in order {
        parents.clear();
        let mut missing = false;
        for parent in &event.unsigned.parents {
            let facts = match claimed.get(parent) {
                Some(facts) => Some(*facts),
                None => match looked_up.get(parent) {
                    Some(facts) => *facts,
                    None => {
                        let facts = stored(*parent)?;
                        looked_up.insert(*parent, facts);
                        facts
                    }
                },
            };
            match facts {
                Some(facts) => parents.push((facts.council, facts.depth, facts.time_ms)),
                None => missing = true,
            }
        }
        let verdict = if missing {
            Verdict::MissingParents
        } else if let Err(error) = event.check_parents(&parents) {
            Verdict::Invalid(error)
        } else if event
            .unsigned
            .parents
            .iter()
            .any(|parent| rejected.contains(parent))
        {
            Verdict::MissingParents
        } else {
            Verdict::Store
        };
        if verdict != Verdict::Store {
            rejected.insert(event.id);
        }
        verdicts.push((event, verdict));
    }
    Ok(verdicts)
}

/// How a batch of newly stored events moves the heads: the parents they name that stop being
/// heads, and the new events that no other new event names, which become heads. No stored
/// event can name a new one, because an event is stored only after its parents. Both lists
/// are sorted, so that concurrent writers take row locks in the same order.
pub(crate) fn head_changes(inserted: &[&Event]) -> HeadChanges {
    let new: HashSet<EventId> = inserted.iter().map(|event| event.id).collect();
    let mut named: HashMap<EventId, CouncilId> = HashMap::new();
    for event in inserted {
        for parent in &event.unsigned.parents {
            named.insert(*parent, event.council());
        }
    }
    let mut removed: Vec<(CouncilId, EventId)> = named
        .iter()
        .filter(|(parent, _)| !new.contains(*parent))
        .map(|(parent, council)| (*council, *parent))
        .collect();
    removed.sort();
    let mut added: Vec<(CouncilId, EventId)> = inserted
        .iter()
        .filter(|event| !named.contains_key(&event.id))
        .map(|event| (event.council(), event.id))
        .collect();
    added.sort();
    HeadChanges { removed, added }
}

/// What [`head_changes`] found: (council, event) pairs.
#[derive(Debug, Default)]
pub(crate) struct HeadChanges {
    pub removed: Vec<(CouncilId, EventId)>,
    pub added: Vec<(CouncilId, EventId)>,
}
