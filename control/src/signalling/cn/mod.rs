//! The Mobile IPv6 correspondent node (RFC 6275 §5.2, §9.4, §9.5): return routability
//! (Home Test Init → Home Test, Care-of Test Init → Care-of Test, with keygen tokens from
//! the node key Kcn and periodically renewed nonces), and correspondent registrations —
//! Binding Updates authorised by the Binding Authorization Data option under Kbm
//! (§5.2.5, §6.2.7) — that fill the binding cache the workers route by: packets for a
//! cached home address go to its care-of address with a type 2 routing header (§9.3.2).
//! A received IPv6 packet in, the whole IPv6 packet to answer with and the cache changes
//! for the workers out. No sockets and no DPDK.
//!
//! Using it from the control thread (as [`crate::registration::cn`] does):
//!
//! ```text
//! let mut cn = Correspondent::new(section.check()?, Secrets::from_os()?);
//! // for each punted IPv6 packet carrying a Mobility Header that `wants` says is ours:
//! let outcome = cn.handle(packet, SystemTime::now(), &|home| ha_has_home_registration(home));
//! counters[outcome.reason as usize] += 1;
//! for u in outcome.updates { sender.send(u); }           // then wait until visible
//! if let Some(reply) = outcome.reply { rate_limited_transmit(reply); }
//! // on a timer, at cn.next_expiry():
//! for u in cn.expire(SystemTime::now()) { sender.send(u); }
//! ```
//!
//! Where the project's brief paraphrases the RFC differently, the code follows the RFC and
//! says so beside the rule.

pub mod config;
pub mod tokens;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use mipdp_dataplane::tables::CacheEntry;
use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet};
use mipdp_dataplane::wire::ipv6ext::walk_chain;
use mipdp_dataplane::wire::mh::{
    binding_ack_status, binding_error_status, message_type, AuthenticatorLayout,
    BindingAcknowledgement, BindingUpdate, MhRepr, MobilityHeader,
};
use mipdp_dataplane::wire::mh_options::{MobilityOption, MobilityOptionsRepr};

use crate::signalling::mh_receive::{receive, Received, Refused};
use crate::signalling::mip6::packet;
use crate::signalling::mip6::sequence_greater;
pub use config::{CorrespondentConfig, CorrespondentSection};
pub use tokens::Secrets;
use tokens::{Token, AUTHENTICATOR_LEN, KBM_LEN, NONCE_LEN};

/// Why a packet ended as it did: one counter each. RFC 6275 §9.2, §9.4, §9.5.1, §9.5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A Home Test Init answered with a Home Test. RFC 6275 §9.4.1, §9.4.3.
    HomeTest,
    /// A Care-of Test Init answered with a Care-of Test. RFC 6275 §9.4.2, §9.4.4.
    CareOfTest,
    /// A binding cache entry created or updated (status 0). RFC 6275 §9.5.2.
    Registered,
    /// A binding cache entry deleted, or there was none to delete (status 0). RFC 6275
    /// §9.5.3.
    Deregistered,
    /// Not an IPv6 packet (too short, another version, payload beyond the buffer).
    NotIpv6,
    /// The source cannot be answered (unspecified, multicast or loopback).
    UnusableSource,
    /// Sent to an address that is not one of the correspondent node's.
    NotForThisCorrespondent,
    /// The extension headers are malformed, fragmented, carry a type 2 routing header or
    /// an unrecognised option that asks for the packet to be discarded.
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
    /// A known Mobility Header message a correspondent node does not take (Binding
    /// Acknowledgement, Home Test, Binding Refresh Request, ...): dropped.
    NotForCorrespondent,
    /// A Home Test Init or Care-of Test Init with a Home Address option: silently
    /// ignored. RFC 6275 §9.4.1, §9.4.2.
    HomeAddressOptionInTestInit,
    /// A home registration (H set) to a node that is no home agent for it: status 131.
    /// RFC 6275 §9.5.1 (via §10.3.1).
    HomeRegistration,
    /// The home address is not unicast routable: silently discarded. RFC 6275 §9.5.1.
    UnroutableHomeAddress,
    /// No Nonce Indices option, or no Binding Authorization Data option last: silently
    /// discarded. RFC 6275 §9.5.1.
    MissingAuthorization,
    /// The home nonce index is no longer (or never was) valid: status 136. RFC 6275
    /// §9.5.1.
    ExpiredHomeNonceIndex,
    /// The care-of nonce index is not valid: status 137. RFC 6275 §9.5.1.
    ExpiredCareOfNonceIndex,
    /// Neither nonce index is valid: status 138. RFC 6275 §9.5.1.
    ExpiredNonces,
    /// The authenticator does not verify under Kbm: silently discarded. RFC 6275 §9.5.1.
    FailedAuthorization,
    /// The home address has a home registration at this node: status 139, nothing
    /// changed. RFC 6275 §9.5.1.
    RegistrationTypeChange,
    /// The Sequence Number is not greater, modulo 2^16, than the cached one: status 135
    /// with the cached one. RFC 6275 §9.5.1.
    SequenceOutOfWindow,
    /// The care-of address cannot be sent to (not unicast routable, or the node's own):
    /// status 128.
    UnusableCareOf,
    /// The binding cache is full: status 130. RFC 6275 §9.5.2.
    InsufficientResources,
}

impl From<Refused> for Reason {
    /// The counter of a message that failed the §9.2 checks (an unknown type is answered
    /// with a Binding Error instead, and counted there).
    fn from(r: Refused) -> Reason {
        match r {
            Refused::NotIpv6 => Reason::NotIpv6,
            Refused::UnusableSource => Reason::UnusableSource,
            Refused::NotOurs => Reason::NotForThisCorrespondent,
            Refused::BadExtensionHeaders => Reason::BadExtensionHeaders,
            Refused::NotMobilityHeader => Reason::NotMobilityHeader,
            Refused::BadChecksum => Reason::BadChecksum,
            Refused::BadMobilityHeader | Refused::UnknownType { .. } => Reason::BadMobilityHeader,
        }
    }
}

impl Reason {
    /// Every reason, in counter order (`reason as usize` indexes it).
    pub const ALL: [Reason; 25] = [
        Reason::HomeTest,
        Reason::CareOfTest,
        Reason::Registered,
        Reason::Deregistered,
        Reason::NotIpv6,
        Reason::UnusableSource,
        Reason::NotForThisCorrespondent,
        Reason::BadExtensionHeaders,
        Reason::NotMobilityHeader,
        Reason::BadMobilityHeader,
        Reason::BadChecksum,
        Reason::UnknownMessageType,
        Reason::NotForCorrespondent,
        Reason::HomeAddressOptionInTestInit,
        Reason::HomeRegistration,
        Reason::UnroutableHomeAddress,
        Reason::MissingAuthorization,
        Reason::ExpiredHomeNonceIndex,
        Reason::ExpiredCareOfNonceIndex,
        Reason::ExpiredNonces,
        Reason::FailedAuthorization,
        Reason::RegistrationTypeChange,
        Reason::SequenceOutOfWindow,
        Reason::UnusableCareOf,
        Reason::InsufficientResources,
    ];

    /// Name for counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            Reason::HomeTest => "home_test",
            Reason::CareOfTest => "care_of_test",
            Reason::Registered => "registered",
            Reason::Deregistered => "deregistered",
            Reason::NotIpv6 => "not_ipv6",
            Reason::UnusableSource => "unusable_source",
            Reason::NotForThisCorrespondent => "not_for_this_correspondent",
            Reason::BadExtensionHeaders => "bad_extension_headers",
            Reason::NotMobilityHeader => "not_mobility_header",
            Reason::BadMobilityHeader => "bad_mobility_header",
            Reason::BadChecksum => "bad_checksum",
            Reason::UnknownMessageType => "unknown_message_type",
            Reason::NotForCorrespondent => "not_for_correspondent",
            Reason::HomeAddressOptionInTestInit => "home_address_option_in_test_init",
            Reason::HomeRegistration => "home_registration",
            Reason::UnroutableHomeAddress => "unroutable_home_address",
            Reason::MissingAuthorization => "missing_authorization",
            Reason::ExpiredHomeNonceIndex => "expired_home_nonce_index",
            Reason::ExpiredCareOfNonceIndex => "expired_care_of_nonce_index",
            Reason::ExpiredNonces => "expired_nonces",
            Reason::FailedAuthorization => "failed_authorization",
            Reason::RegistrationTypeChange => "registration_type_change",
            Reason::SequenceOutOfWindow => "sequence_out_of_window",
            Reason::UnusableCareOf => "unusable_care_of",
            Reason::InsufficientResources => "insufficient_resources",
        }
    }

    /// The Binding Acknowledgement Status of a Binding Update that ended so, None for the
    /// reasons that are not about a Binding Update or that end in a silent discard. RFC
    /// 6275 §6.1.8, §9.5.1.
    pub fn status(self) -> Option<u8> {
        use binding_ack_status::*;
        match self {
            Reason::Registered | Reason::Deregistered => Some(ACCEPTED),
            Reason::HomeRegistration => Some(HOME_REGISTRATION_NOT_SUPPORTED),
            Reason::ExpiredHomeNonceIndex => Some(EXPIRED_HOME_NONCE_INDEX),
            Reason::ExpiredCareOfNonceIndex => Some(EXPIRED_CARE_OF_NONCE_INDEX),
            Reason::ExpiredNonces => Some(EXPIRED_NONCES),
            Reason::RegistrationTypeChange => Some(REGISTRATION_TYPE_CHANGE_DISALLOWED),
            Reason::SequenceOutOfWindow => Some(SEQUENCE_NUMBER_OUT_OF_WINDOW),
            Reason::UnusableCareOf => Some(REASON_UNSPECIFIED),
            Reason::InsufficientResources => Some(INSUFFICIENT_RESOURCES),
            _ => None,
        }
    }

    /// Whether the answer to a packet that ended so is an error (Binding
    /// Acknowledgement status 128 and above, Binding Error): those are rate-limited.
    pub fn is_error(self) -> bool {
        self == Reason::UnknownMessageType || self.status().is_some_and(|s| s >= 128)
    }
}

/// What handling one packet came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Why: the counter to increment.
    pub reason: Reason,
    /// The whole IPv6 packet to send (Home Test, Care-of Test, Binding Acknowledgement
    /// or Binding Error), or None.
    pub reply: Option<Vec<u8>>,
    /// Updates every worker must apply (before an acknowledgement goes out).
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

/// One binding cache entry of a correspondent registration. RFC 6275 §9.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedBinding {
    /// The care-of address packets for the home address go to.
    pub care_of: Ipv6Addr,
    /// The correspondent address the Binding Update was sent to.
    pub correspondent: Ipv6Addr,
    /// The Sequence Number of the last accepted Binding Update.
    pub sequence: u16,
    /// The lifetime granted, seconds.
    pub lifetime: u32,
    /// When it lapses.
    pub expires: SystemTime,
}

/// A nonce and when it was made. RFC 6275 §5.2.3, §5.2.7.
#[derive(Debug, Clone, Copy)]
struct Nonce {
    index: u16,
    value: [u8; NONCE_LEN],
    made: SystemTime,
}

/// The addresses a Binding Update names. RFC 6275 §9.5.1.
#[derive(Debug, Clone, Copy)]
struct Addresses {
    /// The IPv6 Source Address: where the acknowledgement goes.
    source: Ipv6Addr,
    /// The IPv6 Destination Address: this correspondent node.
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
    /// The Sequence Number to acknowledge (the cached one for status 135).
    sequence: u16,
    /// The lifetime granted, 4-second units.
    lifetime: u16,
    /// Kbm, once the Binding Update is authorised: the acknowledgement carries a Binding
    /// Authorization Data option under it.
    kbm: Option<[u8; KBM_LEN]>,
    /// The address the authenticators cover first: the care-of address, or the home
    /// address for a deletion (RFC 6275 §6.2.7).
    covered: Ipv6Addr,
    updates: Vec<Update>,
}

/// A correspondent node: its configuration and secrets, the nonces still accepted, and
/// the binding cache of correspondent registrations. RFC 6275 §9.
#[derive(Debug)]
pub struct Correspondent {
    config: CorrespondentConfig,
    secrets: Secrets,
    /// Nonces made and still accepted, oldest first.
    nonces: VecDeque<Nonce>,
    /// How many nonces were made: the next one's number (its index is the low 16 bits).
    made: u64,
    cache: HashMap<Ipv6Addr, CachedBinding>,
}

impl Correspondent {
    /// A correspondent node with an empty binding cache and no nonce made yet.
    pub fn new(config: CorrespondentConfig, secrets: Secrets) -> Correspondent {
        Correspondent {
            config,
            secrets,
            nonces: VecDeque::new(),
            made: 0,
            cache: HashMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CorrespondentConfig {
        &self.config
    }

    /// The cached binding of `home`, if any.
    pub fn binding(&self, home: Ipv6Addr) -> Option<&CachedBinding> {
        self.cache.get(&home)
    }

    /// Every cached binding, in no particular order.
    pub fn bindings(&self) -> impl Iterator<Item = (&Ipv6Addr, &CachedBinding)> {
        self.cache.iter()
    }

    /// Cached bindings.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether the binding cache is empty.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// Removes the bindings whose lifetime lapsed at `now`; the updates take them off
    /// every worker. RFC 6275 §9.5.2 (the entry is deleted when its lifetime expires).
    pub fn expire(&mut self, now: SystemTime) -> Vec<Update> {
        let mut gone: Vec<Ipv6Addr> = self
            .cache
            .iter()
            .filter(|(_, b)| b.expires <= now)
            .map(|(h, _)| *h)
            .collect();
        gone.sort();
        gone.into_iter()
            .filter_map(|h| self.cache.remove(&h).map(|_| remove_entry(h)))
            .collect()
    }

    /// When [`expire`](Self::expire) has work next.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.cache.values().map(|b| b.expires).min()
    }

    /// Removes the cached binding of `home` (its mobile node did not answer the
    /// verification after a restart, issue 6); the update takes it off every worker.
    /// None when nothing was cached.
    pub fn remove(&mut self, home: Ipv6Addr) -> Option<Update> {
        self.cache.remove(&home).map(|_| remove_entry(home))
    }

    /// The Binding Refresh Request that asks the mobile node of the cached binding of
    /// `home` for a fresh binding; None when nothing is cached. RFC 6275 §6.1.2, §9.5.5.
    /// It goes from the correspondent address the binding was made with to the home
    /// address, without a type 2 routing header (RFC 6275 §6.1 allows one on a Binding
    /// Acknowledgement only): like any packet to a home address it reaches the mobile
    /// node through its home agent's tunnel, and the mobile node answers with the return
    /// routability procedure and a Binding Update (§11.7.4).
    pub fn binding_refresh_request(&self, home: Ipv6Addr) -> Option<Vec<u8>> {
        let b = self.cache.get(&home)?;
        let brr = MhRepr::BindingRefreshRequest {
            options: MobilityOptionsRepr::default(),
        };
        let mh = packet::mobility_header(&brr, b.correspondent, home)?;
        packet::with_mobility_header(b.correspondent, home, None, &mh)
    }

    /// Puts back a cache entry restored from the backup after a restart (issue 6) and
    /// returns the update that installs it on every worker. Its sequence number keeps
    /// refusing older Binding Updates (RFC 6275 §9.5.1); the nonces are new, so a
    /// Binding Update needs a fresh return routability procedure.
    pub fn restore(&mut self, home: Ipv6Addr, binding: CachedBinding) -> Update {
        self.cache.insert(home, binding);
        Update::CacheEntry {
            dst: IpAddr::V6(home),
            entry: CacheEntry {
                care_of: IpAddr::V6(binding.care_of),
                encap: None,
            },
        }
    }

    /// Handles one received IPv6 packet carrying a Mobility Header for this
    /// correspondent node (the whole packet from the IPv6 header), at time `now`.
    /// `home_registered` says whether this node holds a home registration for a home
    /// address (as its home agent; 139 then). Never panics, whatever the bytes. RFC 6275
    /// §9.2, §9.4, §9.5.
    pub fn handle(
        &mut self,
        packet: &[u8],
        now: SystemTime,
        home_registered: &dyn Fn(Ipv6Addr) -> bool,
    ) -> Outcome {
        let Received {
            source,
            destination,
            home_option,
            home,
            header,
        } = match receive(packet, &self.config.addresses) {
            Ok(r) => r,
            Err(Refused::UnknownType {
                source,
                destination,
                home_option,
            }) => return binding_error(source, destination, home_option),
            Err(e) => return Outcome::dropped(Reason::from(e)),
        };
        let Ok(repr) = MhRepr::parse(&home, &destination, &header, ChecksumMode::Ignore) else {
            return Outcome::dropped(Reason::BadMobilityHeader);
        };
        let with_home_option = home_option.is_some();
        match repr {
            MhRepr::HomeTestInit { .. } | MhRepr::CareOfTestInit { .. } if with_home_option => {
                Outcome::dropped(Reason::HomeAddressOptionInTestInit)
            }
            MhRepr::HomeTestInit { cookie, .. } => {
                self.test(Token::Home, cookie, source, destination, now)
            }
            MhRepr::CareOfTestInit { cookie, .. } => {
                self.test(Token::CareOf, cookie, source, destination, now)
            }
            MhRepr::BindingUpdate(bu) => {
                let a = Addresses {
                    source,
                    destination,
                    home,
                    care_of: bu.options.alternate_care_of_address.unwrap_or(source),
                };
                self.binding_update(&header, &bu, &a, now, home_registered)
            }
            _ => Outcome::dropped(Reason::NotForCorrespondent),
        }
    }

    /// RFC 6275 §9.4.1–§9.4.4: a Home Test (Care-of Test) to the source of the Home Test
    /// Init (Care-of Test Init), from the address it was sent to, with its cookie, the
    /// current nonce's index and the keygen token of the source address under it. The
    /// node keeps no state per mobile node (§5.2.2).
    fn test(
        &mut self,
        which: Token,
        cookie: [u8; 8],
        source: Ipv6Addr,
        destination: Ipv6Addr,
        now: SystemTime,
    ) -> Outcome {
        let nonce = self.current_nonce(now);
        let keygen_token = self.secrets.keygen_token(source, &nonce.value, which);
        let options = MobilityOptionsRepr::default();
        let (repr, reason) = match which {
            Token::Home => (
                MhRepr::HomeTest {
                    nonce_index: nonce.index,
                    cookie,
                    keygen_token,
                    options,
                },
                Reason::HomeTest,
            ),
            Token::CareOf => (
                MhRepr::CareOfTest {
                    nonce_index: nonce.index,
                    cookie,
                    keygen_token,
                    options,
                },
                Reason::CareOfTest,
            ),
        };
        let reply = packet::mobility_header(&repr, destination, source)
            .and_then(|mh| packet::with_mobility_header(destination, source, None, &mh));
        Outcome {
            reason,
            reply,
            updates: Vec::new(),
        }
    }

    /// The nonce to hand out at `now`: the newest, or a new one when the newest is
    /// `nonce_interval` old (or from the future: the clock went back). RFC 6275 §5.2.7.
    fn current_nonce(&mut self, now: SystemTime) -> Nonce {
        self.forget_nonces(now);
        if let Some(n) = self.nonces.back() {
            if age(n, now) < self.config.nonce_interval {
                return *n;
            }
        }
        let n = Nonce {
            index: self.made as u16,
            value: self.secrets.nonce(self.made),
            made: now,
        };
        self.made = self.made.wrapping_add(1);
        self.nonces.push_back(n);
        n
    }

    /// Forgets the nonces older than `nonce_lifetime`: RFC 6275 §5.2.7, "MUST NOT accept
    /// nonces beyond MAX_NONCE_LIFETIME seconds after the first use". Counting from when
    /// a nonce was made is stricter than from its first use, which comes later.
    fn forget_nonces(&mut self, now: SystemTime) {
        let lifetime = self.config.nonce_lifetime;
        self.nonces.retain(|n| age(n, now) <= lifetime);
    }

    /// The nonce of `index` if it is still accepted at `now`.
    fn nonce(&mut self, index: u16, now: SystemTime) -> Option<[u8; NONCE_LEN]> {
        self.forget_nonces(now);
        self.nonces
            .iter()
            .find(|n| n.index == index)
            .map(|n| n.value)
    }

    /// RFC 6275 §9.5.1 for a correspondent registration, in its order: the tests that
    /// end in a silent discard (home address, the options, the authenticator under Kbm)
    /// except the expired nonce indices (136–138), which are answered since the mobile
    /// node cannot tell otherwise; then the registration type (139) and the sequence
    /// number (135); then §9.5.2 / §9.5.3.
    fn binding_update(
        &mut self,
        header: &MobilityHeader<&[u8]>,
        bu: &BindingUpdate<'_>,
        a: &Addresses,
        now: SystemTime,
        home_registered: &dyn Fn(Ipv6Addr) -> bool,
    ) -> Outcome {
        let deletion = bu.lifetime == 0 || a.care_of == a.home;
        let mut v = Verdict {
            reason: Reason::HomeRegistration,
            sequence: bu.sequence,
            lifetime: 0,
            kbm: None,
            // RFC 6275 §6.2.7: "the home address of the mobile node if this option is
            // used in de-registration".
            covered: if deletion { a.home } else { a.care_of },
            updates: Vec::new(),
        };
        if bu.home_registration {
            // Not this node's to accept: a node that is no home agent (or whose home
            // agent did not take the update) rejects it with 131 (RFC 6275 §10.3.1).
            return self.answer(v, bu, a);
        }
        if !is_unicast_routable(a.home) {
            return Outcome::dropped(Reason::UnroutableHomeAddress);
        }
        let (Some(indices), Some(layout)) =
            (bu.options.nonce_indices, last_authorization_layout(header))
        else {
            return Outcome::dropped(Reason::MissingAuthorization);
        };
        let home_nonce = self.nonce(indices.home_nonce_index, now);
        // RFC 6275 §6.2.6: the Care-of Nonce Index is ignored in requests to delete a
        // binding; Kbm is then made from the home keygen token alone (§5.2.5).
        let care_of_nonce = if deletion {
            None
        } else {
            match self.nonce(indices.care_of_nonce_index, now) {
                Some(n) => Some(n),
                None => {
                    v.reason = if home_nonce.is_some() {
                        Reason::ExpiredCareOfNonceIndex
                    } else {
                        Reason::ExpiredNonces
                    };
                    return self.answer(v, bu, a);
                }
            }
        };
        let Some(home_nonce) = home_nonce else {
            v.reason = Reason::ExpiredHomeNonceIndex;
            return self.answer(v, bu, a);
        };
        let home_token = self.secrets.keygen_token(a.home, &home_nonce, Token::Home);
        let care_of_token =
            care_of_nonce.map(|n| self.secrets.keygen_token(a.care_of, &n, Token::CareOf));
        let kbm = tokens::kbm(&home_token, care_of_token.as_ref());
        let bytes: &[u8] = header.clone().into_inner();
        if !tokens::verify(&kbm, v.covered, a.destination, bytes, &layout) {
            return Outcome::dropped(Reason::FailedAuthorization);
        }
        v.kbm = Some(kbm);
        v = self.decide(v, bu, a, deletion, now, home_registered);
        self.answer(v, bu, a)
    }

    /// After authorisation: RFC 6275 §9.5.1 (139, 135), §9.5.3 (deletion), §9.5.2
    /// (creation or update of the cache entry).
    fn decide(
        &mut self,
        mut v: Verdict,
        bu: &BindingUpdate<'_>,
        a: &Addresses,
        deletion: bool,
        now: SystemTime,
        home_registered: &dyn Fn(Ipv6Addr) -> bool,
    ) -> Verdict {
        if home_registered(a.home) {
            v.reason = Reason::RegistrationTypeChange;
            return v;
        }
        if let Some(b) = self.cache.get(&a.home) {
            if !sequence_greater(bu.sequence, b.sequence) {
                v.reason = Reason::SequenceOutOfWindow;
                v.sequence = b.sequence;
                return v;
            }
        }
        if deletion {
            if self.cache.remove(&a.home).is_some() {
                v.updates.push(remove_entry(a.home));
            }
            v.reason = Reason::Deregistered;
            return v;
        }
        if !is_unicast_routable(a.care_of) || self.config.addresses.contains(&a.care_of) {
            v.reason = Reason::UnusableCareOf;
            return v;
        }
        if !self.cache.contains_key(&a.home) && self.cache.len() >= self.config.max_cache_entries {
            v.reason = Reason::InsufficientResources;
            return v;
        }
        // RFC 6275 §5.2.6 / §9.5.2: no longer than asked, nor than MAX_RR_BINDING_LIFETIME
        // (the configured maximum is at most that).
        let lifetime = bu.lifetime.min(self.config.max_lifetime_units());
        let seconds = u32::from(lifetime) * 4;
        self.cache.insert(
            a.home,
            CachedBinding {
                care_of: a.care_of,
                correspondent: a.destination,
                sequence: bu.sequence,
                lifetime: seconds,
                expires: now + Duration::from_secs(u64::from(seconds)),
            },
        );
        v.updates.push(Update::CacheEntry {
            dst: IpAddr::V6(a.home),
            entry: CacheEntry {
                care_of: IpAddr::V6(a.care_of),
                encap: None,
            },
        });
        v.lifetime = lifetime;
        v.reason = Reason::Registered;
        v
    }

    /// The outcome of a decided Binding Update: a Binding Acknowledgement when the A bit
    /// asked for one or the update is rejected (RFC 6275 §9.5.1: 135–139 "MUST send
    /// back"; §9.5.2: 130), else none.
    fn answer(&self, v: Verdict, bu: &BindingUpdate<'_>, a: &Addresses) -> Outcome {
        let status = v
            .reason
            .status()
            .unwrap_or(binding_ack_status::REASON_UNSPECIFIED);
        let reply = if bu.acknowledge || status >= 128 {
            acknowledgement(&v, status, a)
        } else {
            None
        };
        Outcome {
            reason: v.reason,
            reply,
            updates: v.updates,
        }
    }
}

/// How old a nonce is at `now`; from the future (the clock went back) counts as too old
/// to keep, so a clock step never extends a nonce's life.
fn age(n: &Nonce, now: SystemTime) -> Duration {
    now.duration_since(n.made).unwrap_or(Duration::MAX)
}

fn remove_entry(home: Ipv6Addr) -> Update {
    Update::RemoveCacheEntry {
        dst: IpAddr::V6(home),
    }
}

/// The Binding Acknowledgement: to the Binding Update's source, from the correspondent
/// address, with a type 2 routing header carrying the home address unless the source is
/// the home address (RFC 6275 §9.5.4, §6.4); with the Binding Authorization Data option
/// under Kbm whenever the update was authorised (RFC 6275 §6.1.8: mandatory in a
/// correspondent node's acknowledgements but where §9.5.4 says otherwise — without a
/// valid nonce there is no Kbm), over `covered | correspondent | MH Data` (§6.2.7).
fn acknowledgement(v: &Verdict, status: u8, a: &Addresses) -> Option<Vec<u8>> {
    let ba = MhRepr::BindingAcknowledgement(BindingAcknowledgement {
        status,
        key_management_mobility_capability: false,
        sequence: v.sequence,
        lifetime: v.lifetime,
        options: MobilityOptionsRepr {
            binding_authorization_data: v.kbm.map(|_| [0u8; AUTHENTICATOR_LEN]),
            ..Default::default()
        },
    });
    // The checksum covers the final destination, the home address (RFC 8200 §8.1).
    let mut mh = packet::mobility_header(&ba, a.destination, a.home)?;
    if let Some(kbm) = &v.kbm {
        let layout = MobilityHeader::new_unchecked(&mh[..]).binding_authorization_layout()?;
        let tag = tokens::authenticator(kbm, v.covered, a.destination, &mh, &layout);
        mh.get_mut(layout.authenticator)?.copy_from_slice(&tag);
        MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&a.destination, &a.home);
    }
    let routing = (a.source != a.home).then_some(a.home);
    packet::with_mobility_header(a.destination, a.source, routing, &mh)
}

/// RFC 6275 §9.2: an unrecognised MH Type is answered with a Binding Error, status 2,
/// to the packet's source, naming the Home Address option's address if there was one.
fn binding_error(source: Ipv6Addr, destination: Ipv6Addr, home: Option<Ipv6Addr>) -> Outcome {
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

/// Unicast and routable: not unspecified, loopback, multicast or link-local. RFC 6275
/// §9.5.1.
fn is_unicast_routable(a: Ipv6Addr) -> bool {
    !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !a.is_unicast_link_local()
}

/// Where the Binding Authorization Data authenticator is, if that option is the last
/// one (RFC 6275 §6.2.7: "MUST be the last option"; padding after it is covered) and
/// 96 bits long.
fn last_authorization_layout(header: &MobilityHeader<&[u8]>) -> Option<AuthenticatorLayout> {
    let mut seen = false;
    for option in header.iter_options() {
        match option.ok()? {
            MobilityOption::Pad1 | MobilityOption::PadN(_) => {}
            MobilityOption::BindingAuthorizationData(_) if !seen => seen = true,
            _ if seen => return None,
            _ => {}
        }
    }
    if !seen {
        return None;
    }
    let layout = header.binding_authorization_layout()?;
    (layout.authenticator.len() == AUTHENTICATOR_LEN).then_some(layout)
}

/// Whether a packet the workers punted is for the correspondent node rather than a home
/// agent: a Home Test Init, a Care-of Test Init, or a Binding Update with the H bit
/// clear (a correspondent registration). RFC 6275 §9.4, §9.5.1. False for anything that
/// does not parse that far.
pub fn wants(packet: &[u8]) -> bool {
    let Ok(ip) = Ipv6Packet::new_checked(packet) else {
        return false;
    };
    let payload = ip.payload();
    let Ok(chain) = walk_chain(ip.next_header(), payload) else {
        return false;
    };
    if chain.upper_layer != next_header::MOBILITY {
        return false;
    }
    let mh = payload.get(chain.upper_layer_offset..).unwrap_or(&[]);
    match (mh.get(2).copied(), mh.get(8)) {
        (Some(message_type::HOME_TEST_INIT | message_type::CARE_OF_TEST_INIT), _) => true,
        (Some(message_type::BINDING_UPDATE), Some(flags)) => flags & 0x40 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
