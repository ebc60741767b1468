//! The Mobile IPv4 home agent's registration logic (RFC 5944 §3.8): a received
//! Registration Request in, the Registration Reply to send and the binding changes for
//! the workers out. No sockets and no DPDK: the control thread hands it the UDP payload,
//! the addresses and port it came from and the time, then sends the reply from UDP port
//! 434 and the updates down the update queues.
//!
//! Using it from the control thread:
//!
//! ```text
//! let mut ha = HomeAgent::new(section.check()?);
//! // for each punted UDP datagram to port 434 of one of the home agent's addresses:
//! let outcome = ha.handle_request(payload, from, to, SystemTime::now());
//! counters[outcome.reason as usize] += 1;
//! for u in outcome.updates { sender.send(u); }           // then wait_visible(...)
//! if let Some(reply) = outcome.reply { transmit(reply.source, reply.destination, &reply.bytes); }
//! // on a timer, at ha.next_expiry():
//! for u in ha.expire(SystemTime::now()) { sender.send(u); }
//! ```
//!
//! Where the project's issue paraphrases the RFC differently, the code follows the RFC
//! and says so beside the rule.

pub mod config;
pub mod security;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::SystemTime;

use mipdp_dataplane::tables::Encap;
use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::mip4::{
    unknown_extension_action, MessageType, RegistrationExtension, RegistrationExtensionType,
    RegistrationExtensions, RegistrationFlags, RegistrationReplyPacket, RegistrationRequestPacket,
    ReplyCode, UnknownExtensionAction, AUTHENTICATION_COVERED_LEN, PORT, REPLY_LEN, REQUEST_LEN,
};

use crate::state::{BindingStore, CareOfMode, Deregistration, Refusal, Registration};
pub use config::{
    AgentAssociation, Algorithm, ForeignAgentAssociation, HomeAgentConfig, HomeAgentSection, Key,
    MobileNodeId, ReplayProtection, ReplyLimit, SecurityAssociation,
};
use security::{ntp_difference, ntp_duration, ntp_timestamp, NonceSource};

/// Why a request ended as it did: one counter each. RFC 5944 §3.4, §3.8.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Registration accepted (code 0).
    Registered,
    /// Accepted, but the S bit asked for simultaneous bindings the home agent does not
    /// support (code 1).
    RegisteredWithoutSimultaneousBindings,
    /// Deregistration accepted (code 0).
    Deregistered,
    /// Not a Registration Request (too short, or another Type): dropped, no reply.
    NotARequest,
    /// The source cannot be replied to (unspecified, broadcast or multicast address, or
    /// port 0): dropped.
    UnusableSource,
    /// Malformed extensions, an unrecognised extension of type 0–127, or fields that
    /// contradict each other (code 134). RFC 5944 §1.9.
    PoorlyFormed,
    /// No Mobile-Home Authentication Extension, or more than one (code 131). RFC 5944
    /// §3.8.2.1.
    MissingAuthentication,
    /// No mobility security association for the mobile node and SPI (code 131).
    UnknownSecurityAssociation,
    /// The authenticator does not verify (code 131). RFC 5944 §3.8.2.1.
    FailedAuthentication,
    /// The Identification is outside the timestamp tolerance, or does not echo the
    /// home agent's nonce (code 133). RFC 5944 §5.7.
    IdentificationMismatch,
    /// The timestamp is not newer than the last one accepted (code 133). RFC 5944
    /// §5.7.1.
    Replayed,
    /// A foreign agent the home agent shares a security association with did not
    /// authenticate the request (code 132). RFC 5944 §3.8.2.1.
    ForeignAgentFailedAuthentication,
    /// Sent to a broadcast address, or naming a home agent address that is not this
    /// one's (code 136). RFC 5944 §3.8.2.1.
    UnknownHomeAgent,
    /// The home address is not on a home network this home agent serves, or belongs to
    /// another mobile node's security association (code 129).
    AdministrativelyProhibited,
    /// The binding list is full (code 130).
    InsufficientResources,
    /// The home address already has the most care-of addresses allowed (code 135).
    TooManyBindings,
    /// Denied for a reason no other code names (code 128).
    Unspecified,
}

impl Reason {
    /// Every reason, in counter order (`reason as usize` indexes it).
    pub const ALL: [Reason; 17] = [
        Reason::Registered,
        Reason::RegisteredWithoutSimultaneousBindings,
        Reason::Deregistered,
        Reason::NotARequest,
        Reason::UnusableSource,
        Reason::PoorlyFormed,
        Reason::MissingAuthentication,
        Reason::UnknownSecurityAssociation,
        Reason::FailedAuthentication,
        Reason::IdentificationMismatch,
        Reason::Replayed,
        Reason::ForeignAgentFailedAuthentication,
        Reason::UnknownHomeAgent,
        Reason::AdministrativelyProhibited,
        Reason::InsufficientResources,
        Reason::TooManyBindings,
        Reason::Unspecified,
    ];

    /// Name for counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Registered => "registered",
            Reason::RegisteredWithoutSimultaneousBindings => {
                "registered_without_simultaneous_bindings"
            }
            Reason::Deregistered => "deregistered",
            Reason::NotARequest => "not_a_request",
            Reason::UnusableSource => "unusable_source",
            Reason::PoorlyFormed => "poorly_formed",
            Reason::MissingAuthentication => "missing_authentication",
            Reason::UnknownSecurityAssociation => "unknown_security_association",
            Reason::FailedAuthentication => "failed_authentication",
            Reason::IdentificationMismatch => "identification_mismatch",
            Reason::Replayed => "replayed",
            Reason::ForeignAgentFailedAuthentication => "foreign_agent_failed_authentication",
            Reason::UnknownHomeAgent => "unknown_home_agent",
            Reason::AdministrativelyProhibited => "administratively_prohibited",
            Reason::InsufficientResources => "insufficient_resources",
            Reason::TooManyBindings => "too_many_bindings",
            Reason::Unspecified => "unspecified",
        }
    }

    /// The reply code, or None where the request is dropped without a reply.
    /// RFC 5944 §3.4.
    pub fn code(self) -> Option<ReplyCode> {
        Some(match self {
            Reason::Registered | Reason::Deregistered => ReplyCode::ACCEPTED,
            Reason::RegisteredWithoutSimultaneousBindings => {
                ReplyCode::ACCEPTED_NO_SIMULTANEOUS_BINDINGS
            }
            Reason::NotARequest | Reason::UnusableSource => return None,
            Reason::PoorlyFormed => ReplyCode::HA_POORLY_FORMED_REQUEST,
            Reason::MissingAuthentication
            | Reason::UnknownSecurityAssociation
            | Reason::FailedAuthentication => ReplyCode::HA_MOBILE_NODE_FAILED_AUTHENTICATION,
            Reason::IdentificationMismatch | Reason::Replayed => {
                ReplyCode::HA_IDENTIFICATION_MISMATCH
            }
            Reason::ForeignAgentFailedAuthentication => {
                ReplyCode::HA_FOREIGN_AGENT_FAILED_AUTHENTICATION
            }
            Reason::UnknownHomeAgent => ReplyCode::HA_UNKNOWN_HOME_AGENT_ADDRESS,
            Reason::AdministrativelyProhibited => ReplyCode::HA_ADMINISTRATIVELY_PROHIBITED,
            Reason::InsufficientResources => ReplyCode::HA_INSUFFICIENT_RESOURCES,
            Reason::TooManyBindings => ReplyCode::HA_TOO_MANY_BINDINGS,
            Reason::Unspecified => ReplyCode::HA_REASON_UNSPECIFIED,
        })
    }
}

/// A Registration Reply to transmit. RFC 5944 §3.8.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The UDP payload.
    pub bytes: Vec<u8>,
    /// IP source and UDP source port: the request's destination (port 434), or the home
    /// agent's unicast address where the request went to a broadcast address. RFC 5944
    /// §3.8.3.1.
    pub source: SocketAddrV4,
    /// IP destination and UDP destination port: the request's source address and port
    /// (the foreign agent, where one relayed it). RFC 5944 §3.8.3.1.
    pub destination: SocketAddrV4,
}

/// What handling one request came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Why: the counter to increment.
    pub reason: Reason,
    /// The reply, or None where the request is dropped silently.
    pub reply: Option<Reply>,
    /// Updates every worker must apply (before the reply goes out, so that "accepted"
    /// means forwarding has started).
    pub updates: Vec<Update>,
}

/// A mobility security association with its replay state. RFC 5944 §5.7.
#[derive(Debug, Clone)]
struct Association {
    sa: SecurityAssociation,
    /// Timestamps: the last Identification accepted. Kept across deregistration, so a
    /// registration captured before it cannot be replayed after it.
    last_identification: Option<u64>,
    /// Nonces: the nonce the next request must carry in its high-order 32 bits.
    nonce: Option<u32>,
}

/// The fixed fields of a request. RFC 5944 §3.3.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    flags: RegistrationFlags,
    lifetime: u16,
    home: Ipv4Addr,
    home_agent: Ipv4Addr,
    care_of: Ipv4Addr,
    identification: u64,
}

/// The decision on a request, before the reply is written.
#[derive(Debug)]
struct Verdict {
    reason: Reason,
    lifetime: u16,
    home_agent: Ipv4Addr,
    identification: u64,
    /// The association whose key authenticates the reply (once the request named one).
    association: Option<usize>,
    updates: Vec<Update>,
}

/// The Mobile-Home Authentication Extension of a request.
#[derive(Debug, Clone, Copy)]
struct MobileHomeAuthentication<'a> {
    offset: usize,
    spi: u32,
    authenticator: &'a [u8],
}

/// A Mobile IPv4 home agent: configuration, security associations with their replay
/// state, and the authoritative binding list. RFC 5944 §3.8.
#[derive(Debug)]
pub struct HomeAgent {
    config: HomeAgentConfig,
    associations: Vec<Association>,
    by_home: HashMap<(Ipv4Addr, u32), usize>,
    by_nai: HashMap<Box<[u8]>, HashMap<u32, usize>>,
    /// Home addresses that have an association of their own.
    claimed: HashSet<Ipv4Addr>,
    bindings: BindingStore,
    nonces: NonceSource,
}

impl HomeAgent {
    /// A home agent with no bindings, its nonces keyed from the operating system's
    /// randomness.
    pub fn new(config: HomeAgentConfig) -> HomeAgent {
        HomeAgent::with_nonces(config, NonceSource::from_os())
    }

    /// A home agent drawing nonces from `nonces` (tests and vectors fix its key).
    pub fn with_nonces(config: HomeAgentConfig, nonces: NonceSource) -> HomeAgent {
        let mut by_home = HashMap::new();
        let mut by_nai: HashMap<Box<[u8]>, HashMap<u32, usize>> = HashMap::new();
        for (i, sa) in config.security_associations.iter().enumerate() {
            match &sa.mobile_node {
                MobileNodeId::HomeAddress(a) => {
                    by_home.insert((*a, sa.spi), i);
                }
                MobileNodeId::Nai(n) => {
                    by_nai.entry(n.clone()).or_default().insert(sa.spi, i);
                }
            }
        }
        let associations = config
            .security_associations
            .iter()
            .map(|sa| Association {
                sa: sa.clone(),
                last_identification: None,
                nonce: None,
            })
            .collect();
        HomeAgent {
            bindings: BindingStore::new(config.max_bindings, config.max_care_of),
            claimed: by_home.keys().map(|(home, _)| *home).collect(),
            config,
            associations,
            by_home,
            by_nai,
            nonces,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HomeAgentConfig {
        &self.config
    }

    /// Makes room for `n` more bindings at once (a restore from the backup).
    pub fn reserve(&mut self, n: usize) {
        self.bindings.reserve(n);
    }

    /// The binding list.
    pub fn bindings(&self) -> &BindingStore {
        &self.bindings
    }

    /// Removes the care-of addresses whose lifetime lapsed at `now`; the updates take
    /// them off every worker. RFC 5944 §3.8.1.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Update> {
        self.bindings.expire(now)
    }

    /// Puts back a binding restored from the backup after a restart (issue 6), and the
    /// replay state of the association that authenticated it: with timestamps the last
    /// Identification accepted moves up to the binding's, so a registration captured
    /// before the restart is still refused after it (RFC 5944 §5.7). Nonces are not
    /// kept: the mobile node's next request is answered with a fresh one (133), as
    /// after any loss of synchronisation.
    pub fn restore(
        &mut self,
        home: Ipv4Addr,
        binding: crate::state::bindings::MobilityBinding,
    ) -> Result<Update, Refusal> {
        let id = binding.identification;
        if let Some(i) = self.association(home, binding.nai.as_deref(), binding.spi) {
            if let Some(a) = self.associations.get_mut(i) {
                if matches!(a.sa.replay, ReplayProtection::Timestamps { .. }) {
                    let newer = a
                        .last_identification
                        .is_none_or(|last| ntp_difference(id, last) > 0);
                    if newer {
                        a.last_identification = Some(id);
                    }
                }
            }
        }
        self.bindings.restore(home, binding)
    }

    /// When [`expire`](Self::expire) has work next.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.bindings.next_expiry()
    }

    /// Handles one Registration Request: `bytes` is the UDP payload, `from` the IP
    /// source and UDP source port, `to` the IP destination, `now` the time of receipt.
    /// Never panics, whatever the bytes. RFC 5944 §3.8.2, §3.8.3.
    pub fn handle_request(
        &mut self,
        bytes: &[u8],
        from: SocketAddrV4,
        to: Ipv4Addr,
        now: SystemTime,
    ) -> Outcome {
        if !is_unicast(*from.ip()) || from.port() == 0 {
            return Outcome::dropped(Reason::UnusableSource);
        }
        let Ok(packet) = RegistrationRequestPacket::new_checked(bytes) else {
            return Outcome::dropped(Reason::NotARequest);
        };
        let fixed = Fixed {
            flags: packet.flags().without_ignored(),
            lifetime: packet.lifetime(),
            home: packet.home_address(),
            home_agent: packet.home_agent(),
            care_of: packet.care_of_address(),
            identification: packet.identification(),
        };
        let extensions = RegistrationExtensions::new(packet.extensions_bytes(), REQUEST_LEN).ok();
        let verdict = self.decide(&packet, &fixed, extensions.as_ref(), from, to, now);
        let nai = extensions.as_ref().and_then(reply_nai);
        let reply = self.reply(&fixed, &verdict, nai, from, to);
        Outcome {
            reason: verdict.reason,
            reply: Some(reply),
            updates: verdict.updates,
        }
    }

    /// The checks of RFC 5944 §3.8.2.1 in the RFC's order (authentication,
    /// identification, foreign agent), then the ones that need an authentic request,
    /// then the binding change of §3.8.2.2.
    fn decide(
        &mut self,
        packet: &RegistrationRequestPacket<&[u8]>,
        fixed: &Fixed,
        extensions: Option<&RegistrationExtensions<'_>>,
        from: SocketAddrV4,
        to: Ipv4Addr,
        now: SystemTime,
    ) -> Verdict {
        let mut v = Verdict {
            reason: Reason::PoorlyFormed,
            lifetime: 0,
            home_agent: fixed.home_agent,
            identification: fixed.identification,
            association: None,
            updates: Vec::new(),
        };
        // A malformed extension list (RFC 5944 §1.9): 134, unauthenticated, since no
        // authenticator can be trusted to cover what it should.
        let Some(extensions) = extensions else {
            return v;
        };
        let auth = match mobile_home_authentication(extensions) {
            Ok(auth) => auth,
            Err(reason) => return v.deny(reason),
        };
        // Only an NAI the authenticator covers may select the association or be kept.
        let nai = nai_before(extensions, auth.offset);
        let Some(index) = self.association(fixed.home, nai, auth.spi) else {
            return v.deny(Reason::UnknownSecurityAssociation);
        };
        v.association = Some(index);
        let Some(sa) = self.associations.get(index).map(|a| &a.sa) else {
            return v.deny(Reason::UnknownSecurityAssociation);
        };
        // Until the request is known to be authentic its reply echoes the Identification
        // whole and no replay state moves: a forged request must not spend a timestamp
        // or change the nonce the mobile node is to echo next.
        let covered = packet.authenticated_bytes(auth.offset).unwrap_or(&[]);
        if auth.authenticator.len() != sa.algorithm.authenticator_len()
            || !security::verify(sa.algorithm, &sa.key.0, covered, auth.authenticator)
        {
            return v.deny(Reason::FailedAuthentication);
        }
        // Authentic from here on; the identification check also sets the reply's
        // Identification for every later answer.
        if let Err(reason) = self.check_identification(index, &mut v, fixed, now) {
            return v.deny(reason);
        }
        if !self.foreign_agent_authenticated(packet, extensions, from) {
            return v.deny(Reason::ForeignAgentFailedAuthentication);
        }
        if has_unrecognised_extension(extensions) {
            return v.deny(Reason::PoorlyFormed);
        }
        // RFC 5944 §3.8.2.1: a request to a broadcast address is denied with 136 and the
        // reply names the home agent's unicast address. A Home Agent field that is not
        // one of this home agent's addresses is likewise "unknown home agent address".
        // Checked after authentication so the address in the reply is authenticated.
        if !self.is_own(to) || !self.is_own(fixed.home_agent) {
            v.home_agent = self.unicast_address_for(fixed.home);
            return v.deny(Reason::UnknownHomeAgent);
        }
        if !self.may_register(index, fixed.home, nai) {
            return v.deny(Reason::AdministrativelyProhibited);
        }
        self.change_binding(v, fixed, index, nai, now)
    }

    /// RFC 5944 §5.7: timestamps must lie within the tolerance and exceed the last one
    /// accepted (otherwise 133 with the home agent's time in the high-order 32 bits);
    /// nonces must echo the last one sent (every reply to an authentic request carries
    /// a new one). The low-order 32 bits are always the request's.
    fn check_identification(
        &mut self,
        index: usize,
        v: &mut Verdict,
        fixed: &Fixed,
        now: SystemTime,
    ) -> Result<(), Reason> {
        let id = fixed.identification;
        let low = id & 0xffff_ffff;
        let Some(assoc) = self.associations.get_mut(index) else {
            return Err(Reason::UnknownSecurityAssociation);
        };
        match assoc.sa.replay {
            ReplayProtection::Timestamps { tolerance } => {
                let clock = ntp_timestamp(now);
                let skew = ntp_difference(id, clock).unsigned_abs();
                let fresh = assoc
                    .last_identification
                    .is_none_or(|last| ntp_difference(id, last) > 0);
                if skew > ntp_duration(tolerance).unsigned_abs() || !fresh {
                    v.identification = (clock & !0xffff_ffff) | low;
                    return Err(if fresh {
                        Reason::IdentificationMismatch
                    } else {
                        Reason::Replayed
                    });
                }
                // Consumed once authentic and fresh, whatever comes of the request, so
                // it can never be replayed into an acceptance later.
                assoc.last_identification = Some(id);
                Ok(())
            }
            ReplayProtection::Nonces => {
                let expected = assoc.nonce;
                let next = self.nonces.next_nonce();
                assoc.nonce = Some(next);
                v.identification = u64::from(next) << 32 | low;
                if expected == Some((id >> 32) as u32) {
                    Ok(())
                } else {
                    Err(Reason::IdentificationMismatch)
                }
            }
        }
    }

    /// RFC 5944 §3.8.2.1: where the home agent shares a security association with the
    /// foreign agent that relayed the request, exactly one Foreign-Home Authentication
    /// Extension with that association's SPI must verify.
    fn foreign_agent_authenticated(
        &self,
        packet: &RegistrationRequestPacket<&[u8]>,
        extensions: &RegistrationExtensions<'_>,
        from: SocketAddrV4,
    ) -> bool {
        let Some(fa) = self.foreign_agent(*from.ip()) else {
            return true;
        };
        foreign_home_authenticated(extensions, |o| packet.authenticated_bytes(o), fa)
    }

    /// RFC 5944 §3.8.2.2: lifetime zero deregisters (the one care-of address named, or
    /// all when it is the home address); otherwise the care-of address is added (S bit
    /// set and supported) or replaces the others, for the lifetime granted.
    fn change_binding(
        &mut self,
        mut v: Verdict,
        fixed: &Fixed,
        index: usize,
        nai: Option<&[u8]>,
        now: SystemTime,
    ) -> Verdict {
        let home = fixed.home;
        // RFC 5944 §3.8.2.2 deregisters on Lifetime zero only, by the Care-of Address
        // field (the home address: all; another: that one), whatever the S bit. The
        // issue also counts "care-of = home address" with a nonzero lifetime as a
        // deregistration; the RFC gives no rule for it, and tunnelling to the home
        // address would loop, so it deregisters everything too.
        if fixed.lifetime == 0 || fixed.care_of == home {
            let which = if fixed.care_of == home {
                Deregistration::All
            } else {
                Deregistration::CareOf(fixed.care_of)
            };
            v.updates.extend(self.bindings.deregister(home, which));
            v.reason = Reason::Deregistered;
            return v;
        }
        let flags = fixed.flags;
        let encap = match (
            flags.contains(RegistrationFlags::MINIMAL_ENCAPSULATION),
            flags.contains(RegistrationFlags::GRE_ENCAPSULATION),
        ) {
            (false, false) => Encap::IpInIp,
            (true, false) => Encap::Minimal,
            (false, true) => Encap::Gre,
            // One binding, one method: asking for two at once is contradictory.
            (true, true) => return v.deny(Reason::PoorlyFormed),
        };
        if !is_unicast(fixed.care_of) || fixed.care_of.is_loopback() || self.is_own(fixed.care_of) {
            return v.deny(Reason::PoorlyFormed);
        }
        let simultaneous = flags.contains(RegistrationFlags::SIMULTANEOUS_BINDINGS);
        let supported = self.bindings.max_care_of() > 1;
        let lifetime = fixed.lifetime.min(self.config.max_lifetime);
        let spi = self.associations.get(index).map_or(0, |a| a.sa.spi);
        let registration = Registration {
            home,
            care_of: fixed.care_of,
            lifetime,
            encap,
            home_agent: fixed.home_agent,
            flags,
            identification: fixed.identification,
            nai,
            spi,
            mode: if simultaneous && supported {
                CareOfMode::Add
            } else {
                CareOfMode::Replace
            },
        };
        match self.bindings.register(&registration, now) {
            Ok(update) => {
                v.updates.push(update);
                v.lifetime = lifetime;
                v.reason = if simultaneous && !supported {
                    Reason::RegisteredWithoutSimultaneousBindings
                } else {
                    Reason::Registered
                };
                v
            }
            Err(Refusal::TooManyCareOf) => v.deny(Reason::TooManyBindings),
            Err(Refusal::Full) => v.deny(Reason::InsufficientResources),
            Err(Refusal::Invalid) => v.deny(Reason::Unspecified),
        }
    }

    /// The association for (home address, SPI), else for (NAI, SPI).
    fn association(&self, home: Ipv4Addr, nai: Option<&[u8]>, spi: u32) -> Option<usize> {
        self.by_home
            .get(&(home, spi))
            .or_else(|| self.by_nai.get(nai?)?.get(&spi))
            .copied()
    }

    /// Whether the association may bind `home`: the home address is on a served home
    /// network, and an association keyed by NAI does not take over a home address that
    /// another association owns or that is bound for another mobile node.
    fn may_register(&self, index: usize, home: Ipv4Addr, nai: Option<&[u8]>) -> bool {
        let served = self
            .config
            .home_prefixes
            .iter()
            .any(|p| p.contains(IpAddr::V4(home)));
        let Some(assoc) = self.associations.get(index) else {
            return false;
        };
        let owner_ok = match &assoc.sa.mobile_node {
            MobileNodeId::HomeAddress(a) => *a == home,
            MobileNodeId::Nai(_) => {
                let claimed = self.claimed.contains(&home);
                let bound_to_other = self
                    .bindings
                    .get(home)
                    .is_some_and(|b| b.nai.as_deref() != nai);
                !claimed && !bound_to_other
            }
        };
        served && owner_ok && is_unicast(home)
    }

    fn foreign_agent(&self, addr: Ipv4Addr) -> Option<&ForeignAgentAssociation> {
        self.config
            .foreign_agents
            .iter()
            .find(|f| f.address == addr)
    }

    fn is_own(&self, addr: Ipv4Addr) -> bool {
        self.config.addresses.contains(&addr)
    }

    /// The home agent's address on the home network of `home`, else its first.
    fn unicast_address_for(&self, home: Ipv4Addr) -> Ipv4Addr {
        let on_home_network = self.config.addresses.iter().find(|a| {
            self.config
                .home_prefixes
                .iter()
                .any(|p| p.contains(IpAddr::V4(**a)) && p.contains(IpAddr::V4(home)))
        });
        on_home_network
            .or(self.config.addresses.first())
            .copied()
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// Writes the Registration Reply: the fixed part (RFC 5944 §3.4, §3.8.3.2), the NAI
    /// when the request carried one (RFC 2794 §2), the Mobile-Home Authentication
    /// Extension under the request's association, and the Foreign-Home Authentication
    /// Extension for a foreign agent the home agent shares an association with
    /// (§3.5.4).
    fn reply(
        &self,
        fixed: &Fixed,
        v: &Verdict,
        nai: Option<&[u8]>,
        from: SocketAddrV4,
        to: Ipv4Addr,
    ) -> Reply {
        let code = v.reason.code().unwrap_or(ReplyCode::HA_REASON_UNSPECIFIED);
        let mut bytes = vec![0u8; REPLY_LEN];
        {
            let mut p = RegistrationReplyPacket::new_unchecked(&mut bytes[..]);
            p.set_msg_type(MessageType::REGISTRATION_REPLY);
            p.set_code(code);
            // The Lifetime of a denial is unspecified and ignored (RFC 5944 §3.4): zero.
            p.set_lifetime(if code.is_accepted() { v.lifetime } else { 0 });
            p.set_home_address(fixed.home);
            p.set_home_agent(v.home_agent);
            p.set_identification(v.identification);
        }
        if let Some(nai) = nai.filter(|n| n.len() <= 255) {
            append(&mut bytes, &RegistrationExtension::Nai(nai));
        }
        let mn = v
            .association
            .and_then(|i| self.associations.get(i))
            .map(|a| {
                (
                    RegistrationExtensionType::MN_HA_AUTHENTICATION,
                    a.sa.spi,
                    a.sa.algorithm,
                    &a.sa.key,
                )
            });
        let fa = self.foreign_agent(*from.ip()).map(|f| {
            (
                RegistrationExtensionType::FA_HA_AUTHENTICATION,
                f.spi,
                f.algorithm,
                &f.key,
            )
        });
        for (ext_type, spi, algorithm, key) in mn.into_iter().chain(fa) {
            append_authentication(&mut bytes, ext_type, spi, algorithm, &key.0);
        }
        let source = if self.is_own(to) {
            to
        } else {
            self.unicast_address_for(fixed.home)
        };
        Reply {
            bytes,
            source: SocketAddrV4::new(source, PORT),
            destination: from,
        }
    }
}

impl Verdict {
    fn deny(mut self, reason: Reason) -> Verdict {
        self.reason = reason;
        self.lifetime = 0;
        self.updates.clear();
        self
    }
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

/// Whether a reply can be sent to `a` / `a` can be a care-of address.
fn is_unicast(a: Ipv4Addr) -> bool {
    !a.is_unspecified() && !a.is_broadcast() && !a.is_multicast()
}

/// The one Mobile-Home Authentication Extension; none or several is 131. RFC 5944
/// §3.8.2.1 ("Exactly one authorization-enabling extension MUST be present").
fn mobile_home_authentication<'a>(
    extensions: &RegistrationExtensions<'a>,
) -> Result<MobileHomeAuthentication<'a>, Reason> {
    let mut found = extensions.iter().filter_map(|e| match e {
        Ok((
            offset,
            RegistrationExtension::Authentication {
                ext_type: RegistrationExtensionType::MN_HA_AUTHENTICATION,
                spi,
                authenticator,
            },
        )) => Some(MobileHomeAuthentication {
            offset,
            spi,
            authenticator,
        }),
        _ => None,
    });
    match (found.next(), found.next()) {
        (Some(auth), None) => Ok(auth),
        _ => Err(Reason::MissingAuthentication),
    }
}

/// The NAI placed before the Mobile-Home Authentication Extension (and so covered by
/// it). RFC 2794 §2.
fn nai_before<'a>(extensions: &RegistrationExtensions<'a>, auth_offset: usize) -> Option<&'a [u8]> {
    extensions.iter().find_map(|e| match e {
        Ok((offset, RegistrationExtension::Nai(nai))) if offset < auth_offset => Some(nai),
        _ => None,
    })
}

/// The NAI to echo in the reply: the one before the Mobile-Home Authentication
/// Extension, or where there is none, the first. RFC 2794 §2.
fn reply_nai<'a>(extensions: &RegistrationExtensions<'a>) -> Option<&'a [u8]> {
    let auth = extensions
        .authentication(RegistrationExtensionType::MN_HA_AUTHENTICATION)
        .map_or(usize::MAX, |(offset, _)| offset);
    nai_before(extensions, auth)
}

/// Whether an extension of type 0–127 that the home agent does not process is present:
/// the request is then rejected (134). RFC 5944 §1.9.
fn has_unrecognised_extension(extensions: &RegistrationExtensions<'_>) -> bool {
    extensions.iter().any(|e| match e {
        Ok((_, RegistrationExtension::Authentication { .. }))
        | Ok((_, RegistrationExtension::Nai(_))) => false,
        Ok((_, ext)) => {
            unknown_extension_action(ext.ext_type().0) == UnknownExtensionAction::Reject
        }
        Err(_) => true,
    })
}

fn append(bytes: &mut Vec<u8>, ext: &RegistrationExtension<'_>) {
    let at = bytes.len();
    bytes.resize(at + ext.buffer_len(), 0);
    if let Some(out) = bytes.get_mut(at..) {
        if ext.emit(out).is_err() {
            bytes.truncate(at);
        }
    }
}

/// Whether `extensions` hold exactly one Foreign-Home Authentication Extension with the
/// SPI of `peer` and an authenticator that verifies under its key over `covered(offset)`
/// (the message up to and including that extension's SPI). RFC 5944 §3.5.4; the home
/// agent's check (§3.8.2.1) and the foreign agent's (§3.7.3.1).
pub(crate) fn foreign_home_authenticated<'a>(
    extensions: &RegistrationExtensions<'_>,
    covered: impl Fn(usize) -> Option<&'a [u8]>,
    peer: &AgentAssociation,
) -> bool {
    let mut found = extensions.iter().filter_map(|e| match e {
        Ok((
            offset,
            RegistrationExtension::Authentication {
                ext_type: RegistrationExtensionType::FA_HA_AUTHENTICATION,
                spi,
                authenticator,
            },
        )) => Some((offset, spi, authenticator)),
        _ => None,
    });
    let (Some((offset, spi, authenticator)), None) = (found.next(), found.next()) else {
        return false;
    };
    spi == peer.spi
        && authenticator.len() == peer.algorithm.authenticator_len()
        && security::verify(
            peer.algorithm,
            &peer.key.0,
            covered(offset).unwrap_or(&[]),
            authenticator,
        )
}

/// Appends an authentication extension and fills its authenticator over everything
/// before it plus its Type, Length and SPI. RFC 5944 §3.5.1.
pub(crate) fn append_authentication(
    bytes: &mut Vec<u8>,
    ext_type: RegistrationExtensionType,
    spi: u32,
    algorithm: Algorithm,
    key: &[u8],
) {
    let at = bytes.len();
    let placeholder = [0u8; 16];
    let len = algorithm.authenticator_len();
    append(
        bytes,
        &RegistrationExtension::Authentication {
            ext_type,
            spi,
            authenticator: placeholder.get(..len).unwrap_or(&placeholder),
        },
    );
    let covered_end = at + AUTHENTICATION_COVERED_LEN;
    let tag = security::authenticator(algorithm, key, bytes.get(..covered_end).unwrap_or(&[]));
    if let Some(out) = bytes.get_mut(covered_end..covered_end + len) {
        out.copy_from_slice(tag.get(..len).unwrap_or(&tag));
    }
}

#[cfg(test)]
mod tests;
