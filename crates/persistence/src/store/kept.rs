//! Records kept in memory between changes: programs, partners and indicators.
//!
//! A page of bulletins names a handful of programs and partners out of a few hundred that rarely change, and
//! reading them costs five statements a page (the records, their texts, their countries); a bulletin's figures
//! name indicators out of a few dozen, three statements more. The store keeps those it
//! has read, by id, for as long as its change generation ([`super::SqlStore::change_generation`]) stays the same.
//! That is the response cache's rule: a server never answers with a record older than the last change it has
//! heard of, and the server that makes a change moves its generation before the change's call returns. Ids not
//! kept are read from the database, so a record another server has just created is read, never missed. Without a
//! generation (PostgreSQL while no listener runs) nothing is kept and every read goes to the database.

use boletin_domain::DomainResult;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

/// The most records kept of one kind; past it, the kept ones are dropped and the store starts again.
const MOST: usize = 20_000;

/// Records of one kind kept at one change generation.
pub(crate) struct Kept<V> {
    state: Mutex<State<V>>,
}

struct State<V> {
    generation: u64,
    records: HashMap<i64, V>,
}

impl<V: Clone> Kept<V> {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                generation: 0,
                records: HashMap::new(),
            }),
        }
    }

    /// The records among `ids`, in no particular order: those kept at the current `generation()`, and the others
    /// from `read`, kept in turn unless something changed while they were read. `id_of` gives a record's id.
    pub(crate) async fn get<R, F>(
        &self,
        ids: &[i64],
        generation: impl Fn() -> Option<u64>,
        id_of: impl Fn(&V) -> i64,
        read: R,
    ) -> DomainResult<Vec<V>>
    where
        R: FnOnce(Vec<i64>) -> F,
        F: Future<Output = DomainResult<Vec<V>>>,
    {
        let Some(at) = generation() else {
            return read(ids.to_vec()).await;
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            // A panic while the lock was held cannot leave the map half-changed (no call here panics midway).
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.generation != at {
                state.records.clear();
                state.generation = at;
            }
            for id in ids {
                match state.records.get(id) {
                    Some(record) => found.push(record.clone()),
                    None => missing.push(*id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        missing.sort_unstable();
        missing.dedup();
        let read = read(missing).await?;
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            // Kept only if read at the generation still current: a change heard meanwhile may have come after
            // the read.
            if state.generation == at && generation() == Some(at) {
                if state.records.len() + read.len() > MOST {
                    state.records.clear();
                }
                for record in &read {
                    state.records.insert(id_of(record), record.clone());
                }
            }
        }
        found.extend(read);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Reads `ids` as records `(id, version)`, counting the reads.
    async fn read(reads: &Cell<usize>, version: u32, ids: Vec<i64>) -> DomainResult<Vec<(i64, u32)>> {
        reads.set(reads.get() + 1);
        Ok(ids.into_iter().map(|id| (id, version)).collect())
    }

    fn sorted(mut records: Vec<(i64, u32)>) -> Vec<(i64, u32)> {
        records.sort_unstable();
        records
    }

    #[tokio::test]
    async fn records_are_read_once_per_generation_and_never_without_one() {
        let kept = Kept::new();
        let reads = Cell::new(0);
        let id_of = |r: &(i64, u32)| r.0;
        let got = kept.get(&[1, 2], || Some(7), id_of, |ids| read(&reads, 1, ids)).await;
        assert_eq!(got.map(sorted).ok(), Some(vec![(1, 1), (2, 1)]));
        // Kept: no read, even for the ids in another order; a new id alone is read.
        let got = kept
            .get(&[2, 1, 3], || Some(7), id_of, |ids| read(&reads, 2, ids))
            .await;
        assert_eq!(got.map(sorted).ok(), Some(vec![(1, 1), (2, 1), (3, 2)]));
        assert_eq!(reads.get(), 2);
        // A change: everything is read again.
        let got = kept.get(&[1], || Some(8), id_of, |ids| read(&reads, 3, ids)).await;
        assert_eq!(got.ok(), Some(vec![(1, 3)]));
        // No generation: always read, nothing kept from it.
        let got = kept.get(&[1], || None, id_of, |ids| read(&reads, 4, ids)).await;
        assert_eq!(got.ok(), Some(vec![(1, 4)]));
        let got = kept.get(&[1], || Some(8), id_of, |ids| read(&reads, 5, ids)).await;
        assert_eq!(got.ok(), Some(vec![(1, 3)]));
        assert_eq!(reads.get(), 4);
    }

    #[tokio::test]
    async fn records_read_across_a_change_are_not_kept() {
        let kept = Kept::new();
        let reads = Cell::new(0);
        let generation = Cell::new(1);
        let id_of = |r: &(i64, u32)| r.0;
        // The generation moves while the record is read: it is served but not kept.
        let got = kept
            .get(
                &[1],
                || Some(generation.get()),
                id_of,
                |ids| {
                    generation.set(2);
                    read(&reads, 1, ids)
                },
            )
            .await;
        assert_eq!(got.ok(), Some(vec![(1, 1)]));
        let got = kept.get(&[1], || Some(2), id_of, |ids| read(&reads, 2, ids)).await;
        assert_eq!(got.ok(), Some(vec![(1, 2)]));
        assert_eq!(reads.get(), 2);
    }
}
