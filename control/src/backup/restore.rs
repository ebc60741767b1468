//! Recovery step 1 of issue 6: the records loaded from the backup at start-up, split
//! into those still alive and those that lapsed while the node was down, and the
//! bindings put back, as the recovery that verifies them needs to know them.

use std::net::IpAddr;
use std::time::SystemTime;

use super::{Change, Record, Role};
use crate::state::bindings::Expiry;

/// One binding put back into a role's state and every worker at start-up, for the
/// paced verification that follows (binding refresh requests; MIPv4 bindings are kept
/// until their stored lifetime).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredBinding {
    /// The role that owns it.
    pub role: Role,
    /// Its home address (a MAP: the regional care-of address).
    pub home: IpAddr,
    /// Its care-of addresses.
    pub care_of: Vec<IpAddr>,
    /// When it lapses unless refreshed.
    pub expires: Expiry,
}

impl RestoredBinding {
    /// The restored binding a record describes.
    pub fn of(r: &Record) -> RestoredBinding {
        RestoredBinding {
            role: r.role,
            home: r.home_address,
            care_of: r.care_of.clone(),
            expires: r.expires,
        }
    }
}

/// Splits `records` into those alive at `now` and the deletions of those that lapsed
/// while the node was down.
pub fn split_lapsed(records: Vec<Record>, now: SystemTime) -> (Vec<Record>, Vec<Change>) {
    let (lapsed, alive): (Vec<Record>, Vec<Record>) =
        records.into_iter().partition(|r| r.expires.is_due(now));
    let deletions = lapsed
        .into_iter()
        .map(|r| Change::Delete(r.role, r.home_address))
        .collect();
    (alive, deletions)
}
