//! The counters of a mobility run: what the transmit side sent by kind, what the receive
//! side saw by kind and reason, and the summary (JSON) they become. Counting is array
//! indexing: nothing allocates until the summary is made at the end.

use std::collections::BTreeMap;

use serde::Serialize;

use super::build::{FrameKind, MalformedKind, Sizes, Workload};
use super::check::{Mismatch, Received};

/// What one side counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilityCounts {
    /// Data probes.
    pub data: u64,
    /// Valid requests (TX).
    pub requests: u64,
    /// Data probes that came back in the second care-of address's tunnel (RX: a
    /// handover had moved the mobile).
    pub moved: u64,
    /// Malformed frames by [`MalformedKind`] (sent, or forwarded by the device).
    pub malformed: [u64; MalformedKind::ALL.len()],
    /// Data probes that failed a check, by [`Mismatch`] (RX).
    pub mismatches: [u64; Mismatch::ALL.len()],
    /// Registration Replies by Code (RX).
    pub registration_codes: [u64; 256],
    /// Binding Acknowledgements by Status (RX).
    pub binding_ack_statuses: [u64; 256],
    /// Frames that were not ours (RX).
    pub other: u64,
}

impl Default for MobilityCounts {
    fn default() -> MobilityCounts {
        MobilityCounts {
            data: 0,
            requests: 0,
            moved: 0,
            malformed: [0; MalformedKind::ALL.len()],
            mismatches: [0; Mismatch::ALL.len()],
            registration_codes: [0; 256],
            binding_ack_statuses: [0; 256],
            other: 0,
        }
    }
}

fn malformed_index(k: MalformedKind) -> usize {
    MalformedKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

fn mismatch_index(m: Mismatch) -> usize {
    Mismatch::ALL.iter().position(|x| *x == m).unwrap_or(0)
}

impl MobilityCounts {
    /// Counts a frame the transmit side sent.
    #[inline]
    pub fn sent(&mut self, kind: FrameKind) {
        match kind {
            FrameKind::Data => self.data += 1,
            FrameKind::Request => self.requests += 1,
            FrameKind::Malformed(k) => self.malformed[malformed_index(k)] += 1,
        }
    }

    /// Counts a frame the receive side classified.
    #[inline]
    pub fn received(&mut self, r: &Received) {
        match *r {
            Received::Data { care_of, .. } => {
                self.data += 1;
                if care_of == 1 {
                    self.moved += 1;
                }
            }
            Received::Mismatch { reason, .. } => self.mismatches[mismatch_index(reason)] += 1,
            Received::Malformed(k) => self.malformed[malformed_index(k)] += 1,
            Received::RegistrationReply { code, .. } => {
                self.registration_codes[usize::from(code)] += 1
            }
            Received::BindingAck { status } => self.binding_ack_statuses[usize::from(status)] += 1,
            Received::Other => self.other += 1,
        }
    }

    /// Replies of either kind.
    pub fn replies(&self) -> u64 {
        self.registration_codes.iter().sum::<u64>() + self.binding_ack_statuses.iter().sum::<u64>()
    }

    /// Data probes that failed a check.
    pub fn mismatches_total(&self) -> u64 {
        self.mismatches.iter().sum()
    }
}

/// The mobility part of the JSON summary: every counter, zeros included, except the
/// reply codes and statuses, of which only those seen are listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MobilitySummary {
    /// The workload's name.
    pub workload: String,
    /// Mobiles addressed.
    pub mobiles: u32,
    /// The data frame sizes (bytes without FCS, or the IMIX).
    pub sizes: String,
    /// Data probes sent.
    pub tx_data: u64,
    /// Valid requests (registration requests or binding updates) sent.
    pub tx_requests: u64,
    /// Malformed frames sent, by kind.
    pub tx_malformed: BTreeMap<&'static str, u64>,
    /// Data probes received that passed every check.
    pub rx_data_ok: u64,
    /// Of those, the ones tunnelled to the mobile's second care-of address (handover).
    pub rx_data_moved: u64,
    /// Data probes received that failed a check, by the first check failed.
    pub rx_mismatches: BTreeMap<&'static str, u64>,
    /// Malformed frames the device forwarded, by kind.
    pub rx_malformed_forwarded: BTreeMap<&'static str, u64>,
    /// Registration Replies by Code (0: accepted; 131: failed authentication; 133:
    /// identification mismatch; 134: poorly formed). RFC 5944 §3.4.
    pub rx_registration_codes: BTreeMap<u8, u64>,
    /// Binding Acknowledgements by Status (0: accepted). RFC 6275 §6.1.8.
    pub rx_binding_ack_statuses: BTreeMap<u8, u64>,
    /// Received frames that were none of these (ARP, ND, other traffic).
    pub rx_other: u64,
}

impl MobilitySummary {
    /// The summary of a run.
    pub fn new(workload: &Workload, tx: &MobilityCounts, rx: &MobilityCounts) -> MobilitySummary {
        let by_kind = |a: &[u64; MalformedKind::ALL.len()]| {
            MalformedKind::ALL
                .iter()
                .zip(a)
                .map(|(k, n)| (k.name(), *n))
                .collect()
        };
        let seen = |a: &[u64; 256]| {
            a.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| (c as u8, *n))
                .collect()
        };
        MobilitySummary {
            workload: workload.name().to_string(),
            mobiles: workload.plan.mobiles,
            sizes: match workload.sizes {
                Sizes::Fixed(_) => workload.data_len(0).to_string(),
                Sizes::Imix => "imix 7:4:1 of 64/576/1514".to_string(),
            },
            tx_data: tx.data,
            tx_requests: tx.requests,
            tx_malformed: by_kind(&tx.malformed),
            rx_data_ok: rx.data,
            rx_data_moved: rx.moved,
            rx_mismatches: Mismatch::ALL
                .iter()
                .zip(&rx.mismatches)
                .map(|(m, n)| (m.name(), *n))
                .collect(),
            rx_malformed_forwarded: by_kind(&rx.malformed),
            rx_registration_codes: seen(&rx.registration_codes),
            rx_binding_ack_statuses: seen(&rx.binding_ack_statuses),
            rx_other: rx.other,
        }
    }

    /// The lines the text summary adds.
    pub fn to_text(&self) -> String {
        let list = |m: &BTreeMap<&'static str, u64>| {
            let v: Vec<String> = m
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let codes = |m: &BTreeMap<u8, u64>| {
            let v: Vec<String> = m.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        format!(
            "workload {} over {} mobiles, data frames {}: sent {} data, {} requests, malformed: {}\n\
             received {} data checked ok ({} via the second care-of address), mismatches: {}\n\
             malformed forwarded: {}; registration replies by code: {}; binding acks by status: {}; other frames {}\n",
            self.workload,
            self.mobiles,
            self.sizes,
            self.tx_data,
            self.tx_requests,
            list(&self.tx_malformed),
            self.rx_data_ok,
            self.rx_data_moved,
            list(&self.rx_mismatches),
            list(&self.rx_malformed_forwarded),
            codes(&self.rx_registration_codes),
            codes(&self.rx_binding_ack_statuses),
            self.rx_other,
        )
    }
}
