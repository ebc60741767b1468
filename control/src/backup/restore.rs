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
    /// Its first care-of address, where a verification request goes (a million restored
    /// bindings keep no list each: only Mobile IPv4 has more than one, and it is not asked).
    pub care_of: Option<IpAddr>,
    /// When it lapses unless refreshed.
    pub expires: Expiry,
}

impl RestoredBinding {
    /// The restored binding a record describes.
    pub fn of(r: &Record) -> RestoredBinding {
        RestoredBinding {
            role: r.role,
            home: r.home_address,
            care_of: r.care_of.first().copied(),
            expires: r.expires,
        }
    }
}

/// Splits `records` into those alive at `now` and the deletions of those that lapsed
/// while the node was down.
/// In place: a million records are not copied into a second vector.
pub fn split_lapsed(mut records: Vec<Record>, now: SystemTime) -> (Vec<Record>, Vec<Change>) {
    let mut deletions = Vec::new();
    records.retain(|r| {
        let lapsed = r.expires.is_due(now);
        if lapsed {
            deletions.push(Change::Delete(r.role, r.home_address));
        }
        !lapsed
    });
    (records, deletions)
}
