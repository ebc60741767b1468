//! The Mobile IPv6 home agent's binding logic (RFC 6275 §9.5.1, §10.3.1, §10.3.2), with
//! the Binding Updates authenticated by the MN-HA Mobility Message Authentication option
//! and made fresh by the Mobility Message Replay Protection option of RFC 4285 instead of
//! IPsec: a received IPv6 packet in, the whole IPv6 packet to answer with (a Binding
//! Acknowledgement, or a Binding Error) and the binding changes for the workers out. No
//! sockets and no DPDK.
//!
//! Using it from the control thread (as [`crate::registration::mip6`] does):
//!
//! ```text
//! let mut ha = HomeAgent6::new(section.check()?);
//! // for each punted IPv6 packet carrying a Mobility Header to one of the HA's addresses:
//! let outcome = ha.handle_binding_update(packet, SystemTime::now());
//! counters[outcome.reason as usize] += 1;
//! for u in outcome.updates { sender.send(u); }           // then wait_visible(...)
//! if let Some(reply) = outcome.reply { rate_limited_transmit(reply); }
//! // on a timer, at ha.next_expiry():
//! for u in ha.expire(SystemTime::now()) { sender.send(u); }
//! // when a binding nears expiry, or on demand:
//! if let Some(brr) = ha.binding_refresh_request(home) { transmit(brr); }
//! ```
//!
//! Error replies are not rate-limited here: RFC 6275 §9.2 / §9.3.3 and the project's issue
//! ask for it, and the caller, which owns time and the TX queue, does it.
//!
//! Where the project's brief paraphrases the RFCs differently, the code follows the RFCs
//! and says so beside the rule.

pub mod config;
pub(crate) mod packet;
pub mod security;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::SystemTime;

use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::mh::{
    binding_ack_status, binding_error_status, message_type, BindingAcknowledgement, BindingUpdate,
    MhRepr, MobilityHeader,
};
use mipdp_dataplane::wire::mh_options::{
    authentication_subtype, MessageAuthentication, MobilityOption, MobilityOptionsRepr,
};

use crate::signalling::mh_receive::{receive, Received, Refused};

use mipdp_dataplane::tables::{Encap, MulticastEntry};

use crate::signalling::mip4::security::{ntp_difference, ntp_duration, ntp_timestamp};
use crate::signalling::mma;
use crate::state::{BindingCache6, HomeRegistration, Refusal6};
pub use config::{
    CorrespondentKey, HomeAgent6Config, HomeAgent6Section, MmaSettings, Operation6, Role6,
    SecurityAssociation6, SecurityAssociation6Section,
};
use security::AUTHENTICATOR_LEN;

/// What a packet gets in answer. RFC 6275 §6.1.8, §6.1.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Nothing: dropped silently.
    Nothing,
    /// A Binding Acknowledgement with this Status.
    Acknowledgement(u8),
    /// A Binding Error with this Status.
    Error(u8),
}

/// Why a packet ended as it did: one counter each. RFC 6275 §9.2, §9.5.1, §10.3.1,
/// §10.3.2; RFC 4285 §5.1, §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Home registration accepted (status 0). RFC 6275 §10.3.1.
    Registered,
    /// Home registration deleted (status 0). RFC 6275 §10.3.2.
    Deregistered,
    /// Not an IPv6 packet (too short, another version, payload beyond the buffer).
    NotIpv6,
    /// The source cannot be answered (unspecified, multicast or loopback).
    UnusableSource,
    /// Sent to an address that is not one of the home agent's.
    NotForThisHomeAgent,
    /// The extension headers are malformed, fragmented, carry a type 2 routing header
    /// (RFC 6275 §6.1: not on a Binding Update) or an unrecognised option that asks for
    /// the packet to be discarded (RFC 8200 §4.2; the node's ICMP, not this module).
    BadExtensionHeaders,
    /// The upper layer is not a Mobility Header.
    NotMobilityHeader,
    /// The Mobility Header is truncated, too short for its type, has a malformed option
    /// or a Payload Proto other than 59: silently discarded here (RFC 6275 §9.2 has the
    /// node send ICMP Parameter Problem for the last two).
    BadMobilityHeader,
    /// The Mobility Header checksum does not verify: silently discarded. RFC 6275 §9.2.
    BadChecksum,
    /// An unrecognised MH Type: Binding Error, status 2. RFC 6275 §9.2.
    UnknownMessageType,
    /// A known Mobility Header message other than a Binding Update: not for the home
    /// agent's binding logic; dropped.
    NotABindingUpdate,
    /// The H bit is clear: a correspondent registration, which needs return routability
    /// (Nonce Indices, Binding Authorization Data) that this home agent does not do;
    /// silently discarded as failing the §9.5.1 tests.
    CorrespondentRegistration,
    /// A home registration carrying the Nonce Indices option: silently discarded.
    /// RFC 6275 §9.5.1.
    NonceIndicesInHomeRegistration,
    /// The home address is not unicast routable: silently discarded. RFC 6275 §9.5.1.
    UnroutableHomeAddress,
    /// No MN-HA Mobility Message Authentication option, or not last: the Binding Update
    /// is not protected and is silently discarded (RFC 6275 §9.5.1: the protection test
    /// fails "for any other reason").
    MissingAuthentication,
    /// No MN-HA security association for the home address and SPI (status 146,
    /// MIPV6-AUTH-FAIL). RFC 4285 §5.1, §8.
    UnknownSecurityAssociation,
    /// The authenticator does not verify (status 146, MIPV6-AUTH-FAIL). RFC 4285 §5.1.
    FailedAuthentication,
    /// No Mobility Message Replay Protection option where the association requires one
    /// (status 145, MIPV6-MESG-ID-REQD). RFC 4285 §6.
    MissingReplayProtection,
    /// The timestamp is outside the tolerance of the home agent's clock (status 144,
    /// MIPV6-ID-MISMATCH). RFC 4285 §6.
    TimestampMismatch,
    /// The timestamp is not newer than the last one accepted under the association
    /// (status 144, MIPV6-ID-MISMATCH). RFC 4285 §6.
    Replayed,
    /// The Sequence Number is not greater, modulo 2^16, than the last accepted one
    /// (status 135). RFC 6275 §9.5.1.
    SequenceOutOfWindow,
    /// The home address is not on a home subnet prefix (status 132). RFC 6275 §10.3.1.
    NotHomeSubnet,
    /// A deregistration for a home address this home agent has no home registration for
    /// (status 133). RFC 6275 §10.3.2.
    NotHomeAgentForThisMobileNode,
    /// The binding cache is full (status 130). RFC 6275 §10.3.1.
    InsufficientResources,
    /// The care-of address cannot be tunnelled to (not unicast routable, or one of the
    /// home agent's own addresses) (status 128). RFC 6275 §10.3.1 ("reject ... for any
    /// other reason").
    UnusableCareOf,
    /// To a MAP, a Binding Update without the M flag: not a local binding update (the
    /// MAP is no home agent); silently discarded. RFC 5380 §6.1.
    NotLocalBindingUpdate,
    /// To a MAP, a regional care-of address outside its prefixes (status 129,
    /// administratively prohibited). RFC 5380 §10.
    NotMapPrefix,
    /// To an MMA, a registration without the multicast group option (status 128).
    /// docs/mma-registration.md.
    MissingMulticastGroup,
    /// To an MMA, a group that is not a routable multicast address (status 128).
    UnusableMulticastGroup,
    /// The MMA found no free care-of address in its prefixes (status 130).
    NoCareOfAddress,
    /// An MMA de-registration that names a new MMA: forwarding to it (status 0).
    ForwardingToNewMma,
}

impl From<Refused> for Reason {
    /// The counter of a message that failed the §9.2 checks (an unknown type is answered
    /// with a Binding Error instead, and counted there).
    fn from(r: Refused) -> Reason {
        match r {
            Refused::NotIpv6 => Reason::NotIpv6,
            Refused::UnusableSource => Reason::UnusableSource,
            Refused::NotOurs => Reason::NotForThisHomeAgent,
            Refused::BadExtensionHeaders => Reason::BadExtensionHeaders,
            Refused::NotMobilityHeader => Reason::NotMobilityHeader,
            Refused::BadChecksum => Reason::BadChecksum,
            Refused::BadMobilityHeader | Refused::UnknownType { .. } => Reason::BadMobilityHeader,
        }
    }
}

impl Reason {
    /// Every reason, in counter order (`reason as usize` indexes it).
    pub const ALL: [Reason; 31] = [
        Reason::Registered,
        Reason::Deregistered,
        Reason::NotIpv6,
        Reason::UnusableSource,
        Reason::NotForThisHomeAgent,
        Reason::BadExtensionHeaders,
        Reason::NotMobilityHeader,
        Reason::BadMobilityHeader,
        Reason::BadChecksum,
        Reason::UnknownMessageType,
        Reason::NotABindingUpdate,
        Reason::CorrespondentRegistration,
        Reason::NonceIndicesInHomeRegistration,
        Reason::UnroutableHomeAddress,
        Reason::MissingAuthentication,
        Reason::UnknownSecurityAssociation,
        Reason::FailedAuthentication,
        Reason::MissingReplayProtection,
        Reason::TimestampMismatch,
        Reason::Replayed,
        Reason::SequenceOutOfWindow,
        Reason::NotHomeSubnet,
        Reason::NotHomeAgentForThisMobileNode,
        Reason::InsufficientResources,
        Reason::UnusableCareOf,
        Reason::NotLocalBindingUpdate,
        Reason::NotMapPrefix,
        Reason::MissingMulticastGroup,
        Reason::UnusableMulticastGroup,
        Reason::NoCareOfAddress,
        Reason::ForwardingToNewMma,
    ];

    /// Name for counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Registered => "registered",
            Reason::Deregistered => "deregistered",
            Reason::NotIpv6 => "not_ipv6",
            Reason::UnusableSource => "unusable_source",
            Reason::NotForThisHomeAgent => "not_for_this_home_agent",
            Reason::BadExtensionHeaders => "bad_extension_headers",
            Reason::NotMobilityHeader => "not_mobility_header",
            Reason::BadMobilityHeader => "bad_mobility_header",
            Reason::BadChecksum => "bad_checksum",
            Reason::UnknownMessageType => "unknown_message_type",
            Reason::NotABindingUpdate => "not_a_binding_update",
            Reason::CorrespondentRegistration => "correspondent_registration",
            Reason::NonceIndicesInHomeRegistration => "nonce_indices_in_home_registration",
            Reason::UnroutableHomeAddress => "unroutable_home_address",
            Reason::MissingAuthentication => "missing_authentication",
            Reason::UnknownSecurityAssociation => "unknown_security_association",
            Reason::FailedAuthentication => "failed_authentication",
            Reason::MissingReplayProtection => "missing_replay_protection",
            Reason::TimestampMismatch => "timestamp_mismatch",
            Reason::Replayed => "replayed",
            Reason::SequenceOutOfWindow => "sequence_out_of_window",
            Reason::NotHomeSubnet => "not_home_subnet",
            Reason::NotHomeAgentForThisMobileNode => "not_home_agent_for_this_mobile_node",
            Reason::InsufficientResources => "insufficient_resources",
            Reason::UnusableCareOf => "unusable_care_of",
            Reason::NotLocalBindingUpdate => "not_local_binding_update",
            Reason::NotMapPrefix => "not_map_prefix",
            Reason::MissingMulticastGroup => "missing_multicast_group",
            Reason::UnusableMulticastGroup => "unusable_multicast_group",
            Reason::NoCareOfAddress => "no_care_of_address",
            Reason::ForwardingToNewMma => "forwarding_to_new_mma",
        }
    }

    /// What the packet is answered with. RFC 6275 §6.1.8 (status codes), §6.1.9; RFC 4285
    /// §8 (144–146).
    pub fn answer(self) -> Answer {
        use binding_ack_status::*;
        let ack = Answer::Acknowledgement;
        match self {
            Reason::Registered | Reason::Deregistered | Reason::ForwardingToNewMma => ack(ACCEPTED),
            Reason::UnknownMessageType => Answer::Error(binding_error_status::UNRECOGNIZED_MH_TYPE),
            Reason::NotIpv6
            | Reason::UnusableSource
            | Reason::NotForThisHomeAgent
            | Reason::BadExtensionHeaders
            | Reason::NotMobilityHeader
            | Reason::BadMobilityHeader
            | Reason::BadChecksum
            | Reason::NotABindingUpdate
            | Reason::CorrespondentRegistration
            | Reason::NotLocalBindingUpdate
            | Reason::NonceIndicesInHomeRegistration
            | Reason::UnroutableHomeAddress
            | Reason::MissingAuthentication => Answer::Nothing,
            Reason::UnknownSecurityAssociation | Reason::FailedAuthentication => {
                ack(AUTHENTICATION_FAILED)
            }
            Reason::MissingReplayProtection => ack(MESSAGE_ID_REQUIRED),
            Reason::TimestampMismatch | Reason::Replayed => ack(ID_MISMATCH),
            Reason::SequenceOutOfWindow => ack(SEQUENCE_NUMBER_OUT_OF_WINDOW),
            Reason::NotHomeSubnet => ack(NOT_HOME_SUBNET),
            Reason::NotHomeAgentForThisMobileNode => ack(NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE),
            Reason::InsufficientResources => ack(INSUFFICIENT_RESOURCES),
            Reason::UnusableCareOf
            | Reason::MissingMulticastGroup
            | Reason::UnusableMulticastGroup => ack(REASON_UNSPECIFIED),
            Reason::NotMapPrefix => ack(ADMINISTRATIVELY_PROHIBITED),
            Reason::NoCareOfAddress => ack(INSUFFICIENT_RESOURCES),
        }
    }
}

/// What handling one packet came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Why: the counter to increment.
    pub reason: Reason,
    /// The whole IPv6 packet to send (Binding Acknowledgement or Binding Error), or None
    /// where the packet is dropped silently.
    pub reply: Option<Vec<u8>>,
    /// Updates every worker must apply (before the reply goes out, so that "accepted"
    /// means forwarding has started).
    pub updates: Vec<Update>,
}

impl Outcome {
    fn dropped(reason: Reason) -> Outcome {
        Outcome {
            reason,
            reply: None,
            updates: Vec::new(),
        }
    }
}

/// A security association with its replay state. RFC 4285 §6.
#[derive(Debug, Clone)]
struct Association {
    sa: SecurityAssociation6,
    /// The last timestamp accepted; kept across deregistration so that a Binding Update
    /// captured before it cannot be replayed after it (RFC 4285 §6: "especially useful
    /// for cases where the home agent does not maintain stateful information about the
    /// mobile node after the binding entry has been removed").
    last_timestamp: Option<u64>,
}

/// The addresses a Binding Update names. RFC 6275 §9.5.1.
#[derive(Debug, Clone, Copy)]
struct Addresses {
    /// The IPv6 Source Address: where the Binding Acknowledgement goes (§9.5.4).
    source: Ipv6Addr,
    /// The IPv6 Destination Address: the home agent address, the answer's source.
    destination: Ipv6Addr,
    /// The Home Address option's address, else the source.
    home: Ipv6Addr,
    /// The Alternate Care-of Address option's address, else the source.
    care_of: Ipv6Addr,
}

/// The decision on a Binding Update, before the acknowledgement is written.
#[derive(Debug)]
struct Verdict {
    reason: Reason,
    /// The Sequence Number to acknowledge (the last accepted one for status 135).
    sequence: u16,
    /// The lifetime granted, 4-second units (0 unless registered).
    lifetime: u16,
    /// The timestamp to carry in the Replay Protection option.
    timestamp: Option<u64>,
    /// The association whose key authenticates the acknowledgement, once known.
    association: Option<usize>,
    /// The care-of address an MMA assigned, for the acknowledgement to carry.
    assigned: Option<Ipv6Addr>,
    updates: Vec<Update>,
}

impl Verdict {
    fn deny(mut self, reason: Reason) -> Verdict {
        self.reason = reason;
        self.lifetime = 0;
        self.assigned = None;
        self.updates.clear();
        self
    }
}

/// A Mobile IPv6 home agent: configuration, MN-HA security associations with their
/// replay state, and the binding cache of home registrations. RFC 6275 §10.
#[derive(Debug)]
pub struct HomeAgent6 {
    config: HomeAgent6Config,
    associations: Vec<Association>,
    /// Index into `associations` by (home address, SPI): the lookup of every Binding
    /// Update (a linear search made 50,000 associations cost 24 µs a message).
    by_home: HashMap<(Ipv6Addr, u32), usize>,
    bindings: BindingCache6,
    /// MMA: each care-of address handed out (bound, or still forwarded to a new MMA)
    /// → the home address it is for.
    care_of_in_use: HashMap<Ipv6Addr, Ipv6Addr>,
    /// MMA: home addresses forwarded to their new MMA → until when, and the care-of
    /// address they had here.
    forwarding: HashMap<Ipv6Addr, (SystemTime, Ipv6Addr)>,
    /// MMA: the new MMA each forwarded home address goes to (the backup holds it).
    forwarded_to: HashMap<Ipv6Addr, Ipv6Addr>,
    /// MMA: the multicast group of each registered home address (the backup holds it).
    groups: HashMap<Ipv6Addr, Ipv6Addr>,
    /// MMA: the home addresses whose registration or forwarding changed since the last
    /// [`take_mma_changed`](Self::take_mma_changed): what the backup is to store or delete.
    mma_changed: Vec<Ipv6Addr>,
}

/// What an MMA holds for one home address, as the backup stores it (issue 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmaEntry {
    /// Registered: the binding (home → assigned care-of address) and its group.
    Registered {
        /// The binding cache entry.
        binding: crate::state::bindings6::HomeBinding,
        /// The mobile's multicast group.
        group: Ipv6Addr,
    },
    /// De-registered naming a new MMA: forwarded to it until `until`.
    Forwarding {
        /// The care-of address it had here (kept, and forwarded too).
        care_of: Ipv6Addr,
        /// The new MMA.
        new_mma: Ipv6Addr,
        /// When forwarding ends.
        until: SystemTime,
    },
}

impl HomeAgent6 {
    /// A home agent with an empty binding cache.
    pub fn new(config: HomeAgent6Config) -> HomeAgent6 {
        let associations = config
            .security_associations
            .iter()
            .map(|sa| Association {
                sa: sa.clone(),
                last_timestamp: None,
            })
            .collect();
        let mut by_home = HashMap::new();
        for (i, sa) in config.security_associations.iter().enumerate() {
            // The first of duplicates wins, as a search in order would find it.
            by_home.entry((sa.home_address, sa.spi)).or_insert(i);
        }
        HomeAgent6 {
            bindings: BindingCache6::new(config.max_bindings),
            config,
            associations,
            by_home,
            care_of_in_use: HashMap::new(),
            forwarding: HashMap::new(),
            forwarded_to: HashMap::new(),
            groups: HashMap::new(),
            mma_changed: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HomeAgent6Config {
        &self.config
    }

    /// Makes room for `n` more bindings at once (a restore from the backup).
    pub fn reserve(&mut self, n: usize) {
        self.bindings.reserve(n);
    }

    /// The binding cache.
    pub fn bindings(&self) -> &BindingCache6 {
        &self.bindings
    }

    /// Removes the bindings whose lifetime lapsed at `now`; the updates take them off
    /// every worker. RFC 6275 §10.3.1.
    /// An MMA's lapsed registrations take their multicast-map entries with them, and
    /// its forwarding to a new MMA ends when its time is up.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Update> {
        if !matches!(self.config.role, Role6::MulticastAgent(_)) {
            return self.bindings.expire(now);
        }
        let lapsed: Vec<(Ipv6Addr, Ipv6Addr)> = self
            .bindings
            .iter()
            .filter(|(_, b)| b.expires <= now)
            .map(|(home, b)| (*home, b.care_of))
            .collect();
        self.bindings.expire(now);
        let ended: Vec<(Ipv6Addr, Ipv6Addr)> = self
            .forwarding
            .iter()
            .filter(|(_, (until, _))| *until <= now)
            .map(|(home, (_, care_of))| (*home, *care_of))
            .collect();
        let mut updates = Vec::new();
        for (home, care_of) in lapsed.into_iter().chain(ended) {
            self.forwarding.remove(&home);
            self.forwarded_to.remove(&home);
            self.groups.remove(&home);
            self.mma_changed.push(home);
            if self.care_of_in_use.get(&care_of) == Some(&home) {
                self.care_of_in_use.remove(&care_of);
            }
            updates.extend(multicast_removal(home, care_of));
        }
        updates
    }

    /// Removes the binding of `home` (its mobile node did not answer the verification
    /// after a restart, issue 6); the updates take it off every worker (an MMA's
    /// multicast-map entries with it). Empty when nothing was bound.
    pub fn remove(&mut self, home: Ipv6Addr) -> Vec<Update> {
        let care_of = self.bindings.get(home).map(|b| b.care_of);
        let Some(update) = self.bindings.deregister(home) else {
            return Vec::new();
        };
        match (&self.config.role, care_of) {
            // An MMA's registration is its multicast-map entries, as in `expire`.
            (Role6::MulticastAgent(_), Some(care_of)) => {
                self.groups.remove(&home);
                self.mma_changed.push(home);
                if self.care_of_in_use.get(&care_of) == Some(&home) {
                    self.care_of_in_use.remove(&care_of);
                }
                multicast_removal(home, care_of).to_vec()
            }
            _ => vec![update],
        }
    }

    /// When [`expire`](Self::expire) has work next.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        let forwarding = self.forwarding.values().map(|(until, _)| *until).min();
        match (self.bindings.next_expiry(), forwarding) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The last replay protection timestamp accepted under the association of (`home`,
    /// `spi`), for the backup. RFC 4285 §6.
    pub fn last_timestamp(&self, home: Ipv6Addr, spi: u32) -> Option<u64> {
        let i = self.by_home.get(&(home, spi))?;
        self.associations.get(*i)?.last_timestamp
    }

    /// Puts back a binding restored from the backup after a restart (issue 6), with the
    /// association's last accepted timestamp (`timestamp`), so a Binding Update captured
    /// before the restart is still refused after it (RFC 4285 §6); the binding's
    /// sequence number keeps refusing older ones (RFC 6275 §9.5.1).
    pub fn restore(
        &mut self,
        home: Ipv6Addr,
        binding: crate::state::bindings6::HomeBinding,
        timestamp: Option<u64>,
    ) -> Result<Update, crate::state::bindings6::Refusal6> {
        if let (Some(t), Some(i)) = (timestamp, self.by_home.get(&(home, binding.spi))) {
            if let Some(a) = self.associations.get_mut(*i) {
                if a.last_timestamp
                    .is_none_or(|last| ntp_difference(t, last) > 0)
                {
                    a.last_timestamp = Some(t);
                }
            }
        }
        self.bindings.restore(home, binding)
    }

    /// What an MMA holds for `home`: its registration, or its forwarding to a new MMA.
    pub fn mma_entry(&self, home: Ipv6Addr) -> Option<MmaEntry> {
        if let (Some(binding), Some(group)) = (self.bindings.get(home), self.groups.get(&home)) {
            return Some(MmaEntry::Registered {
                binding: *binding,
                group: *group,
            });
        }
        let (until, care_of) = self.forwarding.get(&home).copied()?;
        Some(MmaEntry::Forwarding {
            care_of,
            new_mma: self.forwarded_to.get(&home).copied()?,
            until,
        })
    }

    /// The home addresses whose MMA registration or forwarding changed (registered,
    /// refreshed, moved, forwarded, de-registered, lapsed, removed) since the last call:
    /// what the backup stores ([`Self::mma_entry`]) or deletes (issue 6).
    pub fn take_mma_changed(&mut self) -> Vec<Ipv6Addr> {
        std::mem::take(&mut self.mma_changed)
    }

    /// Puts back an MMA's registration or forwarding restored from the backup after a
    /// restart (issue 6), with the association's last accepted `timestamp` as
    /// [`restore`](Self::restore) does; the updates put its multicast-map entries (home
    /// and care-of address → the group, or → the new MMA) on every worker. Refused when
    /// this is no MMA, the care-of address is another home address's, or the cache is full.
    pub fn restore_mma(
        &mut self,
        home: Ipv6Addr,
        entry: MmaEntry,
        timestamp: Option<u64>,
    ) -> Result<Vec<Update>, crate::state::bindings6::Refusal6> {
        use crate::state::bindings6::Refusal6;
        if !matches!(self.config.role, Role6::MulticastAgent(_)) {
            return Err(Refusal6::Invalid);
        }
        let (care_of, target) = match entry {
            MmaEntry::Registered { binding, group } => (
                binding.care_of,
                MulticastEntry::to_group(IpAddr::V6(group), Encap::IpInIp),
            ),
            MmaEntry::Forwarding {
                care_of, new_mma, ..
            } => (
                care_of,
                Some(MulticastEntry::to_new_mma(
                    IpAddr::V6(new_mma),
                    Encap::IpInIp,
                )),
            ),
        };
        let target = target.ok_or(Refusal6::Invalid)?;
        if self
            .care_of_in_use
            .get(&care_of)
            .is_some_and(|other| *other != home)
        {
            return Err(Refusal6::Invalid);
        }
        match entry {
            MmaEntry::Registered { binding, group } => {
                // The binding cache's update (a tunnel) is not the MMA's: its
                // registration is the multicast map.
                self.restore(home, binding, timestamp)?;
                self.groups.insert(home, group);
            }
            MmaEntry::Forwarding { new_mma, until, .. } => {
                self.forwarding.insert(home, (until, care_of));
                self.forwarded_to.insert(home, new_mma);
            }
        }
        self.care_of_in_use.insert(care_of, home);
        Ok([home, care_of]
            .into_iter()
            .map(|key| Update::Multicast {
                key: IpAddr::V6(key),
                entry: target,
            })
            .collect())
    }

    /// When forwarding `home` to its new MMA ends (MMA).
    pub fn forwarding_until(&self, home: Ipv6Addr) -> Option<SystemTime> {
        self.forwarding.get(&home).map(|(until, _)| *until)
    }

    /// The care-of address an MMA assigned to a registered home address.
    pub fn assigned_care_of(&self, home: Ipv6Addr) -> Option<Ipv6Addr> {
        match self.config.role {
            Role6::MulticastAgent(_) => self.bindings.get(home).map(|b| b.care_of),
            _ => None,
        }
    }

    /// The Binding Refresh Request for the binding of `home`, None when it has none.
    /// RFC 6275 §6.1.2, §9.5.5, §10.4.1: the request goes to the home address from the
    /// home agent address that binding uses, and, as any packet for a bound home address,
    /// is tunnelled to the care-of address (IPv6 in IPv6, RFC 2473). Not with a type 2
    /// routing header, which RFC 6275 §6.1 forbids on every Mobility Header message but a
    /// Binding Acknowledgement.
    ///
    /// An MMA's request goes the way its packets for the mobile go: tunnelled to the
    /// mobile's multicast group. The care-of address the MMA assigned lies in its own
    /// prefix, routed to the MMA, not toward the mobile (docs/mma-registration.md).
    pub fn binding_refresh_request(&self, home: Ipv6Addr) -> Option<Vec<u8>> {
        let b = self.bindings.get(home)?;
        let brr = MhRepr::BindingRefreshRequest {
            options: MobilityOptionsRepr::default(),
        };
        let mh = packet::mobility_header(&brr, b.home_agent, home)?;
        let inner = packet::with_mobility_header(b.home_agent, home, None, &mh)?;
        let to = match self.config.role {
            Role6::MulticastAgent(_) => *self.groups.get(&home)?,
            _ => b.care_of,
        };
        packet::tunnelled(b.home_agent, to, &inner)
    }

    /// Handles one received IPv6 packet that should carry a Binding Update (the whole
    /// packet from the IPv6 header), at time `now`. Never panics, whatever the bytes.
    /// RFC 6275 §9.2, §9.5.1, §10.3.1, §10.3.2; RFC 4285 §5.1, §6.
    pub fn handle_binding_update(&mut self, packet: &[u8], now: SystemTime) -> Outcome {
        let Received {
            source,
            destination,
            home,
            header,
            ..
        } = match receive(packet, &self.config.addresses) {
            Ok(r) => r,
            Err(Refused::UnknownType {
                source,
                destination,
                home_option,
            }) => return self.binding_error(source, destination, home_option),
            Err(e) => return Outcome::dropped(Reason::from(e)),
        };
        if header.mh_type() != message_type::BINDING_UPDATE {
            return Outcome::dropped(Reason::NotABindingUpdate);
        }
        let bu = match MhRepr::parse(&home, &destination, &header, ChecksumMode::Ignore) {
            Ok(MhRepr::BindingUpdate(bu)) => bu,
            _ => return Outcome::dropped(Reason::BadMobilityHeader),
        };
        let addresses = Addresses {
            source,
            destination,
            home,
            care_of: bu.options.alternate_care_of_address.unwrap_or(source),
        };
        self.binding_update(&header, &bu, &addresses, now)
    }

    /// The §9.5.1 tests that end in a silent discard, then the checks that answer.
    fn binding_update(
        &mut self,
        header: &MobilityHeader<&[u8]>,
        bu: &BindingUpdate<'_>,
        a: &Addresses,
        now: SystemTime,
    ) -> Outcome {
        // RFC 5380 §6.1: a MAP takes local binding updates (M set); the home agent and
        // the MMA (docs/mma-registration.md) home registrations (H set).
        match self.config.role {
            Role6::MobilityAnchorPoint if !bu.map_registration => {
                return Outcome::dropped(Reason::NotLocalBindingUpdate);
            }
            Role6::HomeAgent | Role6::MulticastAgent(_) if !bu.home_registration => {
                return Outcome::dropped(Reason::CorrespondentRegistration);
            }
            _ => {}
        }
        if bu.options.nonce_indices.is_some() {
            return Outcome::dropped(Reason::NonceIndicesInHomeRegistration);
        }
        if !is_unicast_routable(a.home) {
            return Outcome::dropped(Reason::UnroutableHomeAddress);
        }
        let Some(auth) = last_mn_ha_authentication(header) else {
            return Outcome::dropped(Reason::MissingAuthentication);
        };
        let verdict = self.decide(header, bu, auth, a, now);
        let reply = self.acknowledgement(&verdict, auth.spi, a);
        Outcome {
            reason: verdict.reason,
            reply,
            updates: verdict.updates,
        }
    }

    /// Authentication (RFC 4285 §5.1), then replay protection (RFC 4285 §6: "after the
    /// Binding Update has been authenticated"), then the sequence number (RFC 6275
    /// §9.5.1), then the home registration itself (§10.3.1 / §10.3.2).
    fn decide(
        &mut self,
        header: &MobilityHeader<&[u8]>,
        bu: &BindingUpdate<'_>,
        auth: MessageAuthentication<'_>,
        a: &Addresses,
        now: SystemTime,
    ) -> Verdict {
        let mut v = Verdict {
            reason: Reason::UnknownSecurityAssociation,
            sequence: bu.sequence,
            lifetime: 0,
            timestamp: bu.options.replay_protection,
            association: None,
            assigned: None,
            updates: Vec::new(),
        };
        let Some(index) = self.association(a.home, auth.spi) else {
            return v;
        };
        v.association = Some(index);
        if !self.authentic(index, header, a) {
            return v.deny(Reason::FailedAuthentication);
        }
        if let Err(reason) = self.check_timestamp(index, &mut v, now) {
            return v.deny(reason);
        }
        if let Some(b) = self.bindings.get(a.home) {
            if !sequence_greater(bu.sequence, b.sequence) {
                v.sequence = b.sequence;
                return v.deny(Reason::SequenceOutOfWindow);
            }
        }
        // RFC 6275 §9.5.1: lifetime zero, or a care-of address equal to the home
        // address, asks for the binding to be deleted.
        if bu.lifetime == 0 || a.care_of == a.home {
            if let Role6::MulticastAgent(settings) = &self.config.role {
                let cap = settings.max_forward;
                return self.mma_deregister(v, header, a, cap, now);
            }
            return match self.bindings.deregister(a.home) {
                Some(update) => {
                    v.updates.push(update);
                    v.reason = Reason::Deregistered;
                    v
                }
                None => v.deny(Reason::NotHomeAgentForThisMobileNode),
            };
        }
        self.register(v, header, bu, index, a, now)
    }

    /// An MMA de-registration: the multicast-map entries go at once, or, when it names
    /// the new MMA (docs/mma-registration.md), point at the new MMA until the time asked
    /// for (capped at `cap`) is up.
    fn mma_deregister(
        &mut self,
        mut v: Verdict,
        header: &MobilityHeader<&[u8]>,
        a: &Addresses,
        cap: std::time::Duration,
        now: SystemTime,
    ) -> Verdict {
        let Some(care_of) = self.bindings.get(a.home).map(|b| b.care_of) else {
            return v.deny(Reason::NotHomeAgentForThisMobileNode);
        };
        self.bindings.deregister(a.home);
        self.groups.remove(&a.home);
        self.mma_changed.push(a.home);
        let moved = mma::new_mma(header).filter(|n| {
            is_unicast_routable(n.address)
                && n.seconds > 0
                && !self.config.addresses.contains(&n.address)
        });
        let forward = moved.and_then(|n| {
            let time = std::time::Duration::from_secs(u64::from(n.seconds)).min(cap);
            Some((n.address, now.checked_add(time)?))
        });
        match forward {
            Some((new_mma, until)) => {
                let entry = MulticastEntry::to_new_mma(IpAddr::V6(new_mma), Encap::IpInIp);
                for key in [a.home, care_of] {
                    v.updates.push(Update::Multicast {
                        key: IpAddr::V6(key),
                        entry,
                    });
                }
                self.forwarding.insert(a.home, (until, care_of));
                self.forwarded_to.insert(a.home, new_mma);
                v.reason = Reason::ForwardingToNewMma;
            }
            None => {
                self.care_of_in_use.remove(&care_of);
                v.updates.extend(multicast_removal(a.home, care_of));
                v.reason = Reason::Deregistered;
            }
        }
        v
    }

    /// RFC 6275 §10.3.1: the home address must be on a home subnet prefix; the lifetime
    /// granted is the one asked for, clamped to the configured maximum.
    ///
    /// A MAP: the RCoA must be in the MAP's prefixes (RFC 5380 §10, status 129). An MMA
    /// binds the home address to a care-of address of its own ([`Self::mma_register`]).
    fn register(
        &mut self,
        mut v: Verdict,
        header: &MobilityHeader<&[u8]>,
        bu: &BindingUpdate<'_>,
        index: usize,
        a: &Addresses,
        now: SystemTime,
    ) -> Verdict {
        let on_prefix = self
            .config
            .home_prefixes
            .iter()
            .any(|p| p.contains(IpAddr::V6(a.home)));
        match self.config.role {
            Role6::HomeAgent if !on_prefix => return v.deny(Reason::NotHomeSubnet),
            Role6::MobilityAnchorPoint if !on_prefix => return v.deny(Reason::NotMapPrefix),
            Role6::MulticastAgent(_) => return self.mma_register(v, header, bu, index, a, now),
            _ => {}
        }
        if !is_unicast_routable(a.care_of) || self.config.addresses.contains(&a.care_of) {
            return v.deny(Reason::UnusableCareOf);
        }
        let lifetime = bu.lifetime.min(self.config.max_lifetime_units());
        let registration = HomeRegistration {
            home: a.home,
            care_of: a.care_of,
            home_agent: a.destination,
            lifetime: u32::from(lifetime) * 4,
            sequence: bu.sequence,
            link_local_compatibility: bu.link_local_compatibility,
            spi: self.associations.get(index).map_or(0, |s| s.sa.spi),
        };
        match self.bindings.register(&registration, now) {
            Ok(update) => {
                v.updates.push(update);
                v.lifetime = lifetime;
                v.reason = Reason::Registered;
                v
            }
            Err(Refusal6::Full) => v.deny(Reason::InsufficientResources),
            Err(Refusal6::Invalid) => v.deny(Reason::UnusableCareOf),
        }
    }

    /// An MMA registration: the group from the vendor-specific option, a care-of address
    /// from the MMA's prefixes (the one the home address has, else a free one), the
    /// binding cache entry (home → assigned care-of address, for sequence numbers and
    /// lifetime), and the multicast map: home and care-of address → the group.
    fn mma_register(
        &mut self,
        mut v: Verdict,
        header: &MobilityHeader<&[u8]>,
        bu: &BindingUpdate<'_>,
        index: usize,
        a: &Addresses,
        now: SystemTime,
    ) -> Verdict {
        let Some(group) = mma::multicast_group(header) else {
            return v.deny(Reason::MissingMulticastGroup);
        };
        let Some(entry) = mma::usable_group(group)
            .then(|| MulticastEntry::to_group(IpAddr::V6(group), Encap::IpInIp))
            .flatten()
        else {
            return v.deny(Reason::UnusableMulticastGroup);
        };
        let Some(care_of) = self.free_care_of(a.home) else {
            return v.deny(Reason::NoCareOfAddress);
        };
        let lifetime = bu.lifetime.min(self.config.max_lifetime_units());
        let registration = HomeRegistration {
            home: a.home,
            care_of,
            home_agent: a.destination,
            lifetime: u32::from(lifetime) * 4,
            sequence: bu.sequence,
            link_local_compatibility: bu.link_local_compatibility,
            spi: self.associations.get(index).map_or(0, |s| s.sa.spi),
        };
        let previous = self.bindings.get(a.home).map(|b| b.care_of);
        match self.bindings.register(&registration, now) {
            Ok(_) => {}
            Err(Refusal6::Full) => return v.deny(Reason::InsufficientResources),
            Err(Refusal6::Invalid) => return v.deny(Reason::NoCareOfAddress),
        }
        self.forwarding.remove(&a.home);
        self.forwarded_to.remove(&a.home);
        self.groups.insert(a.home, group);
        self.mma_changed.push(a.home);
        self.care_of_in_use.insert(care_of, a.home);
        if let Some(old) = previous.filter(|old| *old != care_of) {
            self.care_of_in_use.remove(&old);
            v.updates.push(Update::RemoveMulticast {
                key: IpAddr::V6(old),
            });
        }
        for key in [a.home, care_of] {
            v.updates.push(Update::Multicast {
                key: IpAddr::V6(key),
                entry,
            });
        }
        v.lifetime = lifetime;
        v.assigned = Some(care_of);
        v.reason = Reason::Registered;
        v
    }

    /// The care-of address for `home` at an MMA: the one it has (bound, or kept while
    /// forwarding), else the first free candidate ([`mma::care_of_candidate`]) of the
    /// MMA's prefixes, none of its own addresses.
    fn free_care_of(&self, home: Ipv6Addr) -> Option<Ipv6Addr> {
        if let Some(b) = self.bindings.get(home) {
            return Some(b.care_of);
        }
        if let Some((_, care_of)) = self.forwarding.get(&home) {
            return Some(*care_of);
        }
        /// Candidates tried per prefix: a bounded search, never a scan of the prefix.
        const PROBES: u32 = 64;
        self.config.home_prefixes.iter().find_map(|p| {
            (0..PROBES)
                .filter_map(|probe| mma::care_of_candidate(*p, home, probe))
                .find(|c| {
                    !self.care_of_in_use.contains_key(c) && !self.config.addresses.contains(c)
                })
        })
    }

    /// The association for (home address, SPI).
    fn association(&self, home: Ipv6Addr, spi: u32) -> Option<usize> {
        self.by_home.get(&(home, spi)).copied()
    }

    /// RFC 4285 §5.1: the authenticator over `care-of address | home address | MH Data`.
    /// The care-of address is the one RFC 6275 §9.5.1 determines for the binding (the
    /// Alternate Care-of Address option's, else the source); RFC 4285 does not say which
    /// when the two differ.
    fn authentic(&self, index: usize, header: &MobilityHeader<&[u8]>, a: &Addresses) -> bool {
        let (Some(assoc), Some(layout)) = (
            self.associations.get(index),
            header.message_authentication_layout(),
        ) else {
            return false;
        };
        let bytes: &[u8] = header.clone().into_inner();
        security::verify(&assoc.sa.key.0, a.care_of, a.home, bytes, &layout)
    }

    /// RFC 4285 §6: the timestamp must be present, within the tolerance of the home
    /// agent's clock, and (this home agent keeps the last one per association) newer
    /// than the last accepted. A 144 carries the home agent's time so that the mobile
    /// node can resynchronise (as RFC 5944 §5.7.1 has it for Mobile IPv4).
    fn check_timestamp(
        &mut self,
        index: usize,
        v: &mut Verdict,
        now: SystemTime,
    ) -> Result<(), Reason> {
        let Some(assoc) = self.associations.get_mut(index) else {
            return Err(Reason::UnknownSecurityAssociation);
        };
        let Some(timestamp) = v.timestamp else {
            return Err(Reason::MissingReplayProtection);
        };
        let clock = ntp_timestamp(now);
        let skew = ntp_difference(timestamp, clock).unsigned_abs();
        let tolerance = ntp_duration(assoc.sa.timestamp_tolerance).unsigned_abs();
        let fresh = assoc
            .last_timestamp
            .is_none_or(|last| ntp_difference(timestamp, last) > 0);
        if skew > tolerance || !fresh {
            v.timestamp = Some(clock);
            return Err(if fresh {
                Reason::TimestampMismatch
            } else {
                Reason::Replayed
            });
        }
        // Consumed once authentic and fresh, whatever comes of the update, so it can
        // never be replayed into an acceptance later.
        assoc.last_timestamp = Some(timestamp);
        Ok(())
    }

    /// The Binding Acknowledgement: to the Binding Update's source, from its destination,
    /// with a type 2 routing header carrying the home address unless the source is the
    /// home address (RFC 6275 §9.5.4, §6.4); K clear (no IKE, RFC 6275 §6.1.8); the
    /// replay protection timestamp (RFC 4285 §6) and, last, the MN-HA authentication
    /// option under the association the update named, when it named one (RFC 4285 §5.1).
    /// The home agent answers whatever the A bit: §10.3.1 and §10.3.2 say it MUST, and
    /// §11.7.1 has the mobile node set A on every home registration.
    fn acknowledgement(&self, v: &Verdict, spi: u32, a: &Addresses) -> Option<Vec<u8>> {
        let Answer::Acknowledgement(status) = v.reason.answer() else {
            return None;
        };
        let association = v.association.and_then(|i| self.associations.get(i));
        let placeholder = [0u8; AUTHENTICATOR_LEN];
        let assigned = v.assigned.map(|c| c.octets());
        let ba = MhRepr::BindingAcknowledgement(BindingAcknowledgement {
            status,
            key_management_mobility_capability: false,
            sequence: v.sequence,
            lifetime: v.lifetime,
            options: MobilityOptionsRepr {
                // An MMA's assigned care-of address (docs/mma-registration.md).
                vendor_specific: assigned
                    .as_ref()
                    .map(|c| mma::option(mma::subtype::ASSIGNED_CARE_OF, c)),
                replay_protection: v.timestamp,
                message_authentication: association.map(|_| MessageAuthentication {
                    subtype: authentication_subtype::MN_HA,
                    spi,
                    authentication_data: &placeholder,
                }),
                ..Default::default()
            },
        });
        // The checksum covers the final destination, the home address (RFC 8200 §8.1).
        let mut mh = packet::mobility_header(&ba, a.destination, a.home)?;
        if let Some(assoc) = association {
            let layout = MobilityHeader::new_unchecked(&mh[..]).message_authentication_layout()?;
            let tag = security::authenticator(&assoc.sa.key.0, a.care_of, a.home, &mh, &layout);
            mh.get_mut(layout.authenticator)?.copy_from_slice(&tag);
            MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&a.destination, &a.home);
        }
        let routing = (a.source != a.home).then_some(a.home);
        packet::with_mobility_header(a.destination, a.source, routing, &mh)
    }

    /// RFC 6275 §9.2: an unrecognised MH Type is answered with a Binding Error, status
    /// 2, to the packet's source, naming the Home Address option's address if there was
    /// one (§6.1.9), without a type 2 routing header (§6.1).
    fn binding_error(
        &self,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        home: Option<Ipv6Addr>,
    ) -> Outcome {
        let be = MhRepr::BindingError {
            status: binding_error_status::UNRECOGNIZED_MH_TYPE,
            home_address: home.unwrap_or(Ipv6Addr::UNSPECIFIED),
            options: MobilityOptionsRepr::default(),
        };
        let reply = packet::mobility_header(&be, destination, source)
            .and_then(|mh| packet::with_mobility_header(destination, source, None, &mh));
        Outcome {
            reason: Reason::UnknownMessageType,
            reply,
            updates: Vec::new(),
        }
    }
}

/// Whether `a` is greater than `b` modulo 2^16: `b` and the 32768 values before it are
/// "less than or equal", the 32767 after it greater. RFC 6275 §9.5.1.
pub fn sequence_greater(a: u16, b: u16) -> bool {
    let ahead = a.wrapping_sub(b);
    ahead != 0 && ahead < 0x8000
}

/// The updates that take an MMA's multicast-map entries for `home` and `care_of` off
/// every worker.
fn multicast_removal(home: Ipv6Addr, care_of: Ipv6Addr) -> [Update; 2] {
    [
        Update::RemoveMulticast {
            key: IpAddr::V6(home),
        },
        Update::RemoveMulticast {
            key: IpAddr::V6(care_of),
        },
    ]
}

/// Unicast and routable: not unspecified, loopback, multicast or link-local. RFC 6275
/// §9.5.1 ("a unicast routable home address").
fn is_unicast_routable(a: Ipv6Addr) -> bool {
    !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !a.is_unicast_link_local()
}

/// The MN-HA Mobility Message Authentication option, if it is the last option but
/// padding: RFC 4285 §5.1 ("MUST be the last option"), since nothing after its SPI is
/// covered. An MN-AAA option (subtype 2) needs an AAA server and does not count.
fn last_mn_ha_authentication<'a>(
    header: &'a MobilityHeader<&[u8]>,
) -> Option<MessageAuthentication<'a>> {
    let mut found = None;
    for option in header.iter_options() {
        match option.ok()? {
            MobilityOption::Pad1 | MobilityOption::PadN(_) => {}
            MobilityOption::MessageAuthentication(auth) if found.is_none() => {
                found = Some(auth);
            }
            _ if found.is_some() => return None,
            _ => {}
        }
    }
    found.filter(|a| a.subtype == authentication_subtype::MN_HA)
}

#[cfg(test)]
pub(crate) mod tests;
