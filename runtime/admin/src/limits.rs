//! What fits in one ZooKeeper record: the partition counts and rebalanced
//! IdealStates an admin operation may write. A record is at most
//! [`SIZE_LIMIT`] bytes after Helix's automatic GZIP compression; anything
//! bigger is refused with one line before ZooKeeper is touched (and before
//! memory is spent building it).

use strand_model::{IdealState, ModelError, RebalanceMode, SIZE_LIMIT, ZNRecord};

use crate::error::{AdminError, Result};
use crate::placement::PartitionPlacement;

/// No IdealState can hold more partitions than it has bytes: each
/// partition is a list field and a map field of its own, which takes more
/// than a byte even compressed. Counts above this are refused without
/// building anything.
pub const MAX_PARTITIONS: usize = SIZE_LIMIT;

/// Refuses a partition count no rebalanced IdealState of `resource` could
/// hold: above [`MAX_PARTITIONS`] at once ([`check_partition_cap`]);
/// otherwise when even the smallest rebalanced form (FULL_AUTO's empty
/// lists and maps) is over the limit. Linear in `partitions`, and heavy
/// near the limit: async callers use [`check_partition_count_off_thread`].
pub fn check_partition_count(resource: &str, partitions: u64) -> Result<()> {
    let count = check_partition_cap(resource, partitions)?;
    let mut smallest = IdealState::new(resource);
    smallest.set_rebalance_mode(RebalanceMode::FullAuto);
    write_partitions(&mut smallest, resource, count, RebalanceMode::FullAuto, &[]);
    match smallest.record().to_bytes() {
        Ok(_) => Ok(()),
        Err(ModelError::SizeLimit { size, .. }) => {
            // Size grows about linearly with the count: estimate the most
            // that would fit, to say what to ask for instead.
            let most = (count as u128 * SIZE_LIMIT as u128 / size.max(1) as u128) as u64;
            Err(too_many(
                resource,
                partitions,
                &format!(
                    "even without placements its IdealState is {size} bytes; about {most} would fit"
                ),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// The cheap half of [`check_partition_count`]: refuses counts above
/// [`MAX_PARTITIONS`] without building anything; returns the count.
pub fn check_partition_cap(resource: &str, partitions: u64) -> Result<usize> {
    usize::try_from(partitions)
        .ok()
        .filter(|&n| n <= MAX_PARTITIONS)
        .ok_or_else(|| {
            too_many(
                resource,
                partitions,
                &format!(
                    "every partition takes more than a byte, so no record holds more than {MAX_PARTITIONS}"
                ),
            )
        })
}

fn too_many(resource: &str, partitions: u64, detail: &str) -> AdminError {
    AdminError::Invalid(format!(
        "{partitions} partitions of {resource} cannot fit in one ZooKeeper record \
         (at most {SIZE_LIMIT} bytes, compressed): {detail}; use fewer partitions or \
         several resources"
    ))
}

/// [`check_partition_count`] on the blocking pool (it may build and
/// compress a record of up to [`MAX_PARTITIONS`] partitions).
pub async fn check_partition_count_off_thread(resource: &str, partitions: u64) -> Result<()> {
    let resource = resource.to_owned();
    off_thread(move || check_partition_count(&resource, partitions)).await
}

/// Replaces `ideal`'s partitions with `count` partitions `<resource>_<i>`:
/// empty lists and maps for FULL_AUTO, else the given placements' preference
/// lists and state maps. Keys are written sorted (as Helix's typed records
/// write them), which keeps every insertion O(1).
pub fn write_partitions(
    ideal: &mut IdealState,
    resource: &str,
    count: usize,
    mode: RebalanceMode,
    placements: &[PartitionPlacement],
) {
    let record: &mut ZNRecord = ideal.record_mut();
    record.key_order = strand_model::KeyOrder::Sorted;
    record.list_fields.clear();
    record.map_fields.clear();
    if mode == RebalanceMode::FullAuto {
        record.list_fields.reserve(count);
        record.map_fields.reserve(count);
        for p in 0..count {
            let name = format!("{resource}_{p}");
            record.set_list(name.clone(), Vec::<String>::new());
            record.map_mut(name);
        }
    } else {
        record.list_fields.reserve(placements.len());
        record.map_fields.reserve(placements.len());
        for placed in placements {
            record.set_list(placed.partition.clone(), placed.preference_list.clone());
            let map = record.map_mut(placed.partition.clone());
            for (instance, state) in &placed.states {
                map.insert(instance.clone(), state.clone());
            }
        }
    }
}

/// The record's znode bytes, or a refusal naming `what` and its size when
/// they would not fit in ZooKeeper.
pub fn to_bytes_within_limit(record: &ZNRecord, what: &str) -> Result<Vec<u8>> {
    match record.to_bytes() {
        Ok(bytes) => Ok(bytes),
        Err(ModelError::SizeLimit {
            size, compressed, ..
        }) => Err(AdminError::Invalid(format!(
            "{what} would be {size} bytes{}, over ZooKeeper's record limit of {SIZE_LIMIT} bytes; \
             use fewer partitions or replicas, or several resources",
            if compressed { " compressed" } else { "" }
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Runs CPU-heavy work (building and compressing records of many
/// partitions) on tokio's blocking pool, so the async workers — and the
/// ZooKeeper session they keep alive — are never starved.
pub async fn off_thread<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(_) => Err(AdminError::Refused(
            "the runtime is shutting down; nothing was written".into(),
        )),
    }
}

/// The replica count written into `REPLICAS`, refused when it does not fit
/// Helix's `int`.
pub fn replica_count(replicas: u32) -> Result<i32> {
    i32::try_from(replicas)
        .map_err(|_| {
            AdminError::Invalid(format!("replicas {replicas} is more than Helix can store"))
        })
        .and_then(|n| {
            if n == 0 {
                Err(AdminError::Invalid("replicas must be at least 1".into()))
            } else {
                Ok(n)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_that_cannot_fit_are_refused_without_building() {
        for absurd in [
            u64::MAX,
            4_294_967_296,
            2_000_000_000,
            MAX_PARTITIONS as u64 + 1,
        ] {
            let err = check_partition_count("db", absurd).expect_err("refused");
            assert!(err.to_string().contains("cannot fit"), "{err}");
        }
    }

    #[test]
    fn the_limit_is_measured_on_the_smallest_rebalanced_form() {
        check_partition_count("db", 50_000).expect("50,000 partitions fit");
        let err = check_partition_count("db", 900_000).expect_err("too big compressed");
        let text = err.to_string();
        assert!(text.contains("about"), "{text}");
    }

    #[test]
    fn replica_counts_are_checked() {
        assert!(replica_count(0).is_err());
        assert!(replica_count(u32::MAX).is_err());
        assert_eq!(replica_count(3).expect("fine"), 3);
    }
}
