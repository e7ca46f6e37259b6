//! Causal clocks: for each event, the highest seq of every device in its causal past.
//!
//! Each device's events form a chain (the fold refuses an event whose device's previous
//! event is not in its past), so "is X in the causal past of E" is `clock(E)[device(X)] >=
//! seq(X)`: one lookup, however far apart the two are. Clocks are a shared base vector plus
//! a short sorted list of changes, so a merge of concurrent events costs the size of their
//! differences, not the number of devices. Must not decide validity: the fold does.

use std::sync::Arc;

/// A device, numbered in fold order.
pub type DeviceIndex = u32;

/// How many changes a clock carries before it folds them into a new base.
const MAX_DELTA: usize = 32;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    base: Arc<Vec<u64>>,
    /// Sorted by device, each entry above the base's value.
    delta: Vec<(DeviceIndex, u64)>,
}

impl Clock {
    pub fn get(&self, device: DeviceIndex) -> u64 {
        match self.delta.binary_search_by_key(&device, |entry| entry.0) {
            Ok(found) => self.delta[found].1,
            Err(_) => self.base.get(device as usize).copied().unwrap_or(0),
        }
    }

    /// Whether the event `(device, seq)` is in the past this clock describes.
    pub fn covers(&self, device: DeviceIndex, seq: u64) -> bool {
        self.get(device) >= seq
    }

    /// The clock of an event: the pointwise maximum of its parents' clocks, then its own
    /// `(device, seq)`.
    pub fn of_event(parents: &[&Clock], device: DeviceIndex, seq: u64) -> Clock {
        let mut clock = match parents {
            [] => Clock::default(),
            [only] => (*only).clone(),
            [first, rest @ ..] => {
                if rest.iter().all(|p| Arc::ptr_eq(&p.base, &first.base)) {
                    let mut merged = first.delta.clone();
                    for parent in rest {
                        merged = merge_deltas(&merged, &parent.delta);
                    }
                    Clock {
                        base: first.base.clone(),
                        delta: merged,
                    }
                } else {
                    let mut base = first.materialise();
                    for parent in rest {
                        for (index, value) in parent.materialise().into_iter().enumerate() {
                            if index >= base.len() {
                                base.push(value);
                            } else if value > base[index] {
                                base[index] = value;
                            }
                        }
                    }
                    Clock {
                        base: Arc::new(base),
                        delta: Vec::new(),
                    }
                }
            }
        };
        clock.set(device, seq);
        clock
    }

    fn set(&mut self, device: DeviceIndex, seq: u64) {
        if self.get(device) >= seq {
            return;
        }
        match self.delta.binary_search_by_key(&device, |entry| entry.0) {
            Ok(found) => self.delta[found].1 = seq,
            Err(at) => self.delta.insert(at, (device, seq)),
        }
        if self.delta.len() > MAX_DELTA {
            self.base = Arc::new(self.materialise());
            self.delta.clear();
        }
    }

    fn materialise(&self) -> Vec<u64> {
        let mut full = self.base.as_ref().clone();
        for &(device, seq) in &self.delta {
            let index = device as usize;
            if index >= full.len() {
                full.resize(index + 1, 0);
            }
            full[index] = seq;
        }
        full
    }
}

fn merge_deltas(a: &[(DeviceIndex, u64)], b: &[(DeviceIndex, u64)]) -> Vec<(DeviceIndex, u64)> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                merged.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                merged.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                merged.push((a[i].0, a[i].1.max(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    merged.extend_from_slice(&a[i..]);
    merged.extend_from_slice(&b[j..]);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Clocks built through any mix of shared and materialised bases answer like a
        /// plain vector maximum.
        #[test]
        fn clocks_match_plain_vectors(steps in prop::collection::vec((0u32..40, 0usize..8, 0usize..8), 1..300)) {
            let mut clocks = vec![Clock::default()];
            let mut plain: Vec<Vec<u64>> = vec![vec![0; 40]];
            let mut seqs = vec![0u64; 40];
            for (device, a, b) in steps {
                let (a, b) = (a % clocks.len(), b % clocks.len());
                seqs[device as usize] += 1;
                let seq = seqs[device as usize];
                let clock = Clock::of_event(&[&clocks[a], &clocks[b]], device, seq);
                let mut vector: Vec<u64> = plain[a].iter().zip(&plain[b]).map(|(x, y)| *x.max(y)).collect();
                vector[device as usize] = vector[device as usize].max(seq);
                for d in 0..40 {
                    prop_assert_eq!(clock.get(d), vector[d as usize]);
                }
                clocks.push(clock);
                plain.push(vector);
            }
        }
    }
}
