//! The Mobile IPv4 foreign agent (RFC 5944 §2, §3.7) as pure decision logic: agent
//! advertisements, the checks on a mobile node's Registration Request, the pending list
//! of relayed requests, matching the home agent's Registration Reply, and the visitor
//! list with its lifetimes. Bytes and addresses in, messages and table updates out; the
//! time is passed in. The control thread frames and sends what comes out
//! ([`crate::registration::fa`]).
//!
//! Authentication: everything up to and including the Mobile-Home Authentication
//! Extension is relayed unchanged (RFC 5944 §3.7.2.2), so the MN-NAI extension (RFC
//! 2794), which precedes it, passes through untouched; the extensions after it are the
//! foreign agent's own and are removed. With a home agent it shares a mobility security
//! association with (`[[foreign_agent.home_agent]]`), the foreign agent appends the
//! Foreign-Home Authentication Extension to what it relays (§3.5.4), and a reply from
//! that home agent must carry exactly one valid one: otherwise the reply is discarded and
//! the mobile node gets code 68 (§3.7.3.1). The extensions after the Mobile-Home
//! Authentication Extension of a reply are the foreign agent's and are removed before
//! the reply goes on to the mobile node (§3.7.3.2). No MN-FA keys: the MN-FA extension
//! is accepted unchecked.

pub mod config;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use mipdp_dataplane::tables::Visitor;
use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::icmpv4::{
    Icmpv4Packet, Icmpv4Repr, RouterAddresses, RouterAdvertisementCode, ROUTER_ENTRY_WORDS,
};
use mipdp_dataplane::wire::mip4::{
    unknown_extension_action, AgentAdvertisementFlags, AgentAdvertisementPacket,
    AgentAdvertisementRepr, AgentExtension, CareOfAddresses, MessageType, RegistrationExtension,
    RegistrationExtensionType, RegistrationExtensions, RegistrationFlags, RegistrationReplyPacket,
    RegistrationReplyRepr, RegistrationRequestPacket, RegistrationRequestRepr, ReplyCode,
    UnknownExtensionAction, PORT, REPLY_LEN, REQUEST_LEN,
};

pub use config::{
    AdvertisementDestination, ForeignAgentConfig, ForeignAgentSection, HomeAgentAssociation,
    Registration, VisitedLink,
};

use crate::signalling::mip4::{append_authentication, foreign_home_authenticated};

/// Reply codes of a foreign agent that RFC 5944 §3.4 defines and [`ReplyCode`] does not
/// name.
pub mod code {
    use mipdp_dataplane::wire::mip4::ReplyCode;
    /// 66: insufficient resources.
    pub const INSUFFICIENT_RESOURCES: ReplyCode = ReplyCode(66);
    /// 68: home agent failed authentication.
    pub const HOME_AGENT_FAILED_AUTHENTICATION: ReplyCode = ReplyCode(68);
    /// 71: poorly formed Reply.
    pub const POORLY_FORMED_REPLY: ReplyCode = ReplyCode(71);
    /// 72: requested encapsulation unavailable.
    pub const ENCAPSULATION_UNAVAILABLE: ReplyCode = ReplyCode(72);
    /// 74: requested reverse tunnel unavailable (RFC 3024 §3.3).
    pub const REVERSE_TUNNEL_UNAVAILABLE: ReplyCode = ReplyCode(74);
    /// 77: invalid care-of address.
    pub const INVALID_CARE_OF_ADDRESS: ReplyCode = ReplyCode(77);
    /// 78: registration timeout.
    pub const REGISTRATION_TIMEOUT: ReplyCode = ReplyCode(78);
}

/// How a registration message ended at the foreign agent: one counter each (`fa_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A request relayed to the home agent.
    Relayed,
    /// A request denied with 69: lifetime longer than advertised.
    LifetimeTooLong,
    /// A request denied with 70: malformed, or an unusable home agent or home address.
    PoorlyFormedRequest,
    /// A request denied with 72: an encapsulation the agent does not decapsulate.
    EncapsulationUnavailable,
    /// A request denied with 74: reverse tunnelling asked for (not offered).
    ReverseTunnelUnavailable,
    /// A request denied with 77: the care-of address is not one this agent offers.
    InvalidCareOfAddress,
    /// A request denied with 66: the pending or visitor list is full.
    InsufficientResources,
    /// A request silently discarded: an unrecognised extension of type 0-127 meant for
    /// the foreign agent (RFC 5944 §1.9), or too short to answer.
    Discarded,
    /// A reply with code 0 or 1 relayed and the visitor listed.
    Accepted,
    /// An accepted reply with lifetime 0 relayed and the visitor removed.
    Deregistered,
    /// A denial by the home agent relayed unchanged.
    DeniedByHomeAgent,
    /// A malformed reply for a pending request: the mobile gets 71.
    PoorlyFormedReply,
    /// A reply from a home agent the foreign agent shares a key with, without exactly one
    /// valid Foreign-Home Authentication Extension: discarded, the mobile gets 68.
    /// RFC 5944 §3.7.3.1.
    HomeAgentFailedAuthentication,
    /// A reply that matches no pending request: silently discarded (RFC 5944 §3.7.3.1).
    Unmatched,
    /// A pending request the home agent never answered: the mobile gets 78.
    Timeout,
}

impl Reason {
    /// Every reason, in counter order.
    pub const ALL: [Reason; 15] = [
        Reason::Relayed,
        Reason::LifetimeTooLong,
        Reason::PoorlyFormedRequest,
        Reason::EncapsulationUnavailable,
        Reason::ReverseTunnelUnavailable,
        Reason::InvalidCareOfAddress,
        Reason::InsufficientResources,
        Reason::Discarded,
        Reason::Accepted,
        Reason::Deregistered,
        Reason::DeniedByHomeAgent,
        Reason::PoorlyFormedReply,
        Reason::HomeAgentFailedAuthentication,
        Reason::Unmatched,
        Reason::Timeout,
    ];

    /// Name for counters.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Relayed => "relayed",
            Reason::LifetimeTooLong => "lifetime_too_long",
            Reason::PoorlyFormedRequest => "poorly_formed_request",
            Reason::EncapsulationUnavailable => "encapsulation_unavailable",
            Reason::ReverseTunnelUnavailable => "reverse_tunnel_unavailable",
            Reason::InvalidCareOfAddress => "invalid_care_of_address",
            Reason::InsufficientResources => "insufficient_resources",
            Reason::Discarded => "discarded",
            Reason::Accepted => "accepted",
            Reason::Deregistered => "deregistered",
            Reason::DeniedByHomeAgent => "denied_by_home_agent",
            Reason::PoorlyFormedReply => "poorly_formed_reply",
            Reason::HomeAgentFailedAuthentication => "home_agent_failed_authentication",
            Reason::Unmatched => "unmatched",
            Reason::Timeout => "timeout",
        }
    }
}

/// Where a registration message came from on the visited link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// The sender's link-layer address.
    pub mac: [u8; 6],
    /// The port index it arrived on.
    pub port: u16,
    /// IP source and UDP source port.
    pub from: SocketAddrV4,
    /// IP destination (the agent's address or 255.255.255.255).
    pub to: Ipv4Addr,
}

/// A message for the mobile node on the visited link: link-layer unicast to `mac`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToMobile {
    /// The mobile's link-layer address.
    pub mac: [u8; 6],
    /// The port of its link.
    pub port: u16,
    /// IP source and UDP port 434.
    pub from: SocketAddrV4,
    /// IP destination and UDP port.
    pub to: SocketAddrV4,
    /// The Registration Reply.
    pub bytes: Vec<u8>,
    /// Whether the foreign agent itself denies (rate-limited) rather than relays.
    pub denial: bool,
}

/// A request relayed to the home agent. RFC 5944 §3.7.2.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToHomeAgent {
    /// The care-of address, port 434.
    pub from: SocketAddrV4,
    /// The home agent, port 434.
    pub to: SocketAddrV4,
    /// The Registration Request.
    pub bytes: Vec<u8>,
}

/// What handling one message produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// How it ended (None: nothing to count, e.g. not a registration message).
    pub reason: Option<Reason>,
    /// The request to relay.
    pub relay: Option<ToHomeAgent>,
    /// The reply for the mobile.
    pub reply: Option<ToMobile>,
    /// Visitor list changes for every worker; the reply waits until they are applied.
    pub updates: Vec<Update>,
}

/// A relayed request waiting for its reply. RFC 5944 §3.7.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Where the mobile is.
    pub arrival: Arrival,
    /// The agent's address the reply comes from.
    pub local: Ipv4Addr,
    /// Home Address of the request.
    pub home_address: Ipv4Addr,
    /// Home Agent of the request.
    pub home_agent: Ipv4Addr,
    /// Care-of Address of the request.
    pub care_of: Ipv4Addr,
    /// Identification of the request.
    pub identification: u64,
    /// Lifetime requested.
    pub lifetime: u16,
    /// The MN-NAI, when the request carried one (RFC 2794): matches a reply whose home
    /// address the home agent assigned.
    pub nai: Option<Vec<u8>>,
    /// When it is given up with 78.
    pub deadline: Instant,
}

/// An entry of the visitor list. RFC 5944 §3.7.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorEntry {
    /// Where the mobile is.
    pub visitor: Visitor,
    /// Its home agent.
    pub home_agent: Ipv4Addr,
    /// The care-of address it registered (one of the agent's).
    pub care_of: Ipv4Addr,
    /// The MN-NAI it registered with, kept with the entry.
    pub nai: Option<Vec<u8>>,
    /// The Identification of the accepted request (the backup keeps it with the entry).
    pub identification: u64,
    /// The lifetime granted, seconds (0xffff: infinite).
    pub lifetime: u16,
    /// When it expires (None: the home agent granted an infinite lifetime).
    pub expires: Option<Instant>,
}

/// The foreign agent.
#[derive(Debug)]
pub struct ForeignAgent {
    config: ForeignAgentConfig,
    pending: Vec<Pending>,
    visitors: HashMap<Ipv4Addr, VisitorEntry>,
    sequence: Option<u16>,
}

/// RFC 5944 §2.3.1: after 0xffff the sequence number goes on from 256, so that 0-255
/// only ever mean a restarted agent.
fn next_sequence(s: Option<u16>) -> u16 {
    match s {
        None => 0,
        Some(0xffff) => 256,
        Some(n) => n + 1,
    }
}

impl ForeignAgent {
    /// A foreign agent with no visitors.
    pub fn new(config: ForeignAgentConfig) -> ForeignAgent {
        ForeignAgent {
            config,
            pending: Vec::new(),
            visitors: HashMap::new(),
            sequence: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ForeignAgentConfig {
        &self.config
    }

    /// The visitor list.
    pub fn visitors(&self) -> &HashMap<Ipv4Addr, VisitorEntry> {
        &self.visitors
    }

    /// The pending list.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    /// The flags advertised: F, M and G (the node decapsulates minimal and GRE tunnels
    /// too), R as configured, B while the visitor list is full. RFC 5944 §2.1.1.
    pub fn flags(&self) -> AgentAdvertisementFlags {
        let mut f = AgentAdvertisementFlags::FOREIGN_AGENT.0
            | AgentAdvertisementFlags::MINIMAL_ENCAPSULATION.0
            | AgentAdvertisementFlags::GRE_ENCAPSULATION.0;
        if self.config.registration == Registration::Required {
            f |= AgentAdvertisementFlags::REGISTRATION_REQUIRED.0;
        }
        if self.visitors.len() >= self.config.max_visitors {
            f |= AgentAdvertisementFlags::BUSY.0;
        }
        AgentAdvertisementFlags(f)
    }

    /// The ICMP message of the next agent advertisement on `link` (RFC 5944 §2.1: a
    /// Router Advertisement, code 0 as the agent also routes, with the agent's address
    /// on the link, the Mobility Agent Advertisement Extension and, if configured, the
    /// Prefix-Lengths Extension). None when it cannot be built.
    pub fn advertisement(&mut self, link: &VisitedLink) -> Option<Vec<u8>> {
        let mut entry = [0u8; 8];
        entry[..4].copy_from_slice(&link.address.octets());
        let addresses = RouterAddresses::new(&entry, ROUTER_ENTRY_WORDS).ok()?;
        let care_of: Vec<u8> = self
            .config
            .care_of_addresses
            .iter()
            .flat_map(|a| a.octets())
            .collect();
        let sequence = next_sequence(self.sequence);
        let maa = AgentAdvertisementRepr {
            sequence_number: sequence,
            registration_lifetime: self.config.registration_lifetime,
            flags: self.flags(),
            care_of_addresses: CareOfAddresses::new(&care_of).ok()?,
        };
        let mut extensions = vec![0u8; maa.buffer_len()];
        maa.emit(&mut AgentAdvertisementPacket::new_unchecked(
            &mut extensions[..],
        ));
        if self.config.prefix_lengths {
            let prefix = [link.prefix_len];
            let ext = AgentExtension::PrefixLengths(&prefix);
            let at = extensions.len();
            extensions.resize(at + ext.buffer_len(), 0);
            ext.emit(extensions.get_mut(at..)?).ok()?;
        }
        let repr = Icmpv4Repr::RouterAdvertisement {
            code: RouterAdvertisementCode::NORMAL,
            lifetime: self.config.advertisement_lifetime,
            addresses,
            extensions: &extensions,
        };
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]));
        self.sequence = Some(sequence);
        Some(bytes)
    }

    /// Handles a Registration Request from a mobile node on a visited link: the validity
    /// checks of RFC 5944 §3.7.2.1 (denials with the foreign agent's codes, §3.7.2.3),
    /// then the request is remembered as pending and relayed (§3.7.2.2).
    pub fn handle_request(&mut self, payload: &[u8], arrival: Arrival, at: Instant) -> Outcome {
        let Some(link) = self
            .config
            .links
            .iter()
            .find(|l| l.port == arrival.port)
            .copied()
        else {
            return Outcome::default();
        };
        // The reply comes from the address the request was sent to, or the agent's own
        // on the link when it was broadcast.
        let local = if arrival.to == link.address || self.offers(arrival.to) {
            arrival.to
        } else {
            link.address
        };
        let packet = match RegistrationRequestPacket::new_checked(payload) {
            Ok(p) if p.msg_type() == MessageType::REGISTRATION_REQUEST => p,
            _ => return reason_only(Reason::Discarded),
        };
        let deny = |this: &Self, reason: Reason, code: ReplyCode, lifetime: u16| Outcome {
            reason: Some(reason),
            reply: this.denial(&packet, code, lifetime, arrival, local),
            ..Outcome::default()
        };
        let Ok(request) = RegistrationRequestRepr::parse(&packet) else {
            return deny(
                self,
                Reason::PoorlyFormedRequest,
                ReplyCode::FA_POORLY_FORMED_REQUEST,
                0,
            );
        };
        let relayed_len = match relayed_length(&request.extensions) {
            Ok(n) => n,
            Err(reason) => return reason_only(reason),
        };
        let nai = request.extensions.nai();
        if !usable_unicast(request.home_agent)
            || (request.home_address.is_unspecified() && nai.is_none())
            || (!request.home_address.is_unspecified() && !usable_unicast(request.home_address))
        {
            return deny(
                self,
                Reason::PoorlyFormedRequest,
                ReplyCode::FA_POORLY_FORMED_REQUEST,
                0,
            );
        }
        if !self.offers(request.care_of_address)
            || request
                .flags
                .contains(RegistrationFlags::DECAPSULATION_BY_MOBILE_NODE)
        {
            return deny(
                self,
                Reason::InvalidCareOfAddress,
                code::INVALID_CARE_OF_ADDRESS,
                0,
            );
        }
        if request.flags.contains(RegistrationFlags::REVERSE_TUNNELING) {
            return deny(
                self,
                Reason::ReverseTunnelUnavailable,
                code::REVERSE_TUNNEL_UNAVAILABLE,
                0,
            );
        }
        if request.lifetime > self.config.registration_lifetime {
            // The Lifetime of this denial tells the mobile the longest one accepted.
            let most = self.config.registration_lifetime;
            return deny(
                self,
                Reason::LifetimeTooLong,
                ReplyCode::FA_LIFETIME_TOO_LONG,
                most,
            );
        }
        let new_visitor =
            request.lifetime > 0 && !self.visitors.contains_key(&request.home_address);
        if self.pending.len() >= self.config.max_pending
            || (new_visitor && self.visitors.len() >= self.config.max_visitors)
        {
            return deny(
                self,
                Reason::InsufficientResources,
                code::INSUFFICIENT_RESOURCES,
                0,
            );
        }
        let Some(bytes) = payload.get(..relayed_len) else {
            return deny(
                self,
                Reason::PoorlyFormedRequest,
                ReplyCode::FA_POORLY_FORMED_REQUEST,
                0,
            );
        };
        // A retransmission replaces what was pending for the same Identification.
        self.pending.retain(|p| {
            !(p.home_address == request.home_address && p.identification == request.identification)
        });
        self.pending.push(Pending {
            arrival,
            local,
            home_address: request.home_address,
            home_agent: request.home_agent,
            care_of: request.care_of_address,
            identification: request.identification,
            lifetime: request.lifetime,
            nai: nai.map(<[u8]>::to_vec),
            deadline: at + self.config.pending_timeout,
        });
        let mut bytes = bytes.to_vec();
        if let Some(ha) = self.home_agent(request.home_agent) {
            append_authentication(
                &mut bytes,
                RegistrationExtensionType::FA_HA_AUTHENTICATION,
                ha.spi,
                ha.algorithm,
                &ha.key.0,
            );
        }
        Outcome {
            reason: Some(Reason::Relayed),
            relay: Some(ToHomeAgent {
                from: SocketAddrV4::new(request.care_of_address, PORT),
                to: SocketAddrV4::new(request.home_agent, PORT),
                bytes,
            }),
            ..Outcome::default()
        }
    }

    /// Handles a Registration Reply from a home agent to one of the care-of addresses:
    /// matched to its pending request by home address (or NAI) and the low-order 32 bits
    /// of the Identification (RFC 5944 §3.7.3.1); on code 0 or 1 the visitor is listed
    /// for the granted lifetime, or removed for lifetime 0; the reply goes on to the
    /// mobile unchanged (§3.7.3.2).
    pub fn handle_reply(&mut self, payload: &[u8], from: Ipv4Addr, at: Instant) -> Outcome {
        let Ok(packet) = RegistrationReplyPacket::new_checked(payload) else {
            return reason_only(Reason::Unmatched);
        };
        let (home, identification) = (packet.home_address(), packet.identification());
        let nai = RegistrationExtensions::new(packet.extensions_bytes(), REPLY_LEN)
            .ok()
            .and_then(|e| e.nai());
        let found = self.pending.iter().position(|p| {
            p.home_agent == from
                && p.identification as u32 == identification as u32
                && (p.home_address == home
                    || (p.home_address.is_unspecified()
                        && nai.is_some()
                        && p.nai.as_deref() == nai))
        });
        let Some(index) = found else {
            return reason_only(Reason::Unmatched);
        };
        let pending = self.pending.swap_remove(index);
        let to_mobile = |bytes: Vec<u8>, denial: bool| ToMobile {
            mac: pending.arrival.mac,
            port: pending.arrival.port,
            from: SocketAddrV4::new(pending.local, PORT),
            to: SocketAddrV4::new(reply_destination(&pending), pending.arrival.from.port()),
            bytes,
            denial,
        };
        if !self.home_agent_authenticated(&packet, from) {
            // RFC 5944 §3.7.3.1: the reply is discarded and the registration rejected.
            log::warn!(
                "security exception: Registration Reply from home agent {from} for {} without \
                 a valid Foreign-Home Authentication Extension: discarded, the mobile node gets 68",
                pending.home_address
            );
            let bytes = reply_bytes(
                code::HOME_AGENT_FAILED_AUTHENTICATION,
                0,
                pending.home_address,
                pending.home_agent,
                pending.identification,
            );
            return Outcome {
                reason: Some(Reason::HomeAgentFailedAuthentication),
                reply: Some(to_mobile(bytes, true)),
                ..Outcome::default()
            };
        }
        let reply = match RegistrationReplyRepr::parse(&packet) {
            Ok(r) if usable_unicast(r.home_address) => r,
            _ => {
                let bytes = reply_bytes(
                    code::POORLY_FORMED_REPLY,
                    0,
                    pending.home_address,
                    pending.home_agent,
                    pending.identification,
                );
                return Outcome {
                    reason: Some(Reason::PoorlyFormedReply),
                    reply: Some(to_mobile(bytes, true)),
                    ..Outcome::default()
                };
            }
        };
        // The extensions after the Mobile-Home Authentication Extension (the FA-HA one)
        // are the foreign agent's: removed before the reply goes on. RFC 5944 §3.7.3.2.
        let end = mobile_part(payload).unwrap_or(payload.len());
        let forward = to_mobile(payload.get(..end).unwrap_or(payload).to_vec(), false);
        if !reply.code.is_accepted() {
            return Outcome {
                reason: Some(Reason::DeniedByHomeAgent),
                reply: Some(forward),
                ..Outcome::default()
            };
        }
        let home = IpAddr::V4(reply.home_address);
        if reply.lifetime == 0 {
            let listed = self.visitors.remove(&reply.home_address).is_some();
            return Outcome {
                reason: Some(Reason::Deregistered),
                reply: Some(forward),
                updates: if listed {
                    vec![Update::RemoveVisitor { home }]
                } else {
                    Vec::new()
                },
                ..Outcome::default()
            };
        }
        // The lifetime is the home agent's, never more than the mobile asked for.
        let lifetime = reply.lifetime.min(pending.lifetime);
        let visitor = Visitor {
            mac: pending.arrival.mac,
            port: pending.arrival.port,
        };
        self.visitors.insert(
            reply.home_address,
            VisitorEntry {
                visitor,
                home_agent: pending.home_agent,
                care_of: pending.care_of,
                nai: pending.nai.clone(),
                identification: pending.identification,
                lifetime,
                expires: (lifetime != u16::MAX)
                    .then(|| at + std::time::Duration::from_secs(u64::from(lifetime))),
            },
        );
        Outcome {
            reason: Some(Reason::Accepted),
            reply: Some(forward),
            updates: vec![Update::Visitor { home, visitor }],
            ..Outcome::default()
        }
    }

    /// Puts back a visitor restored from the backup after a restart (issue 6); the
    /// update puts it on every worker. Refused (None) when the list is full or the
    /// entry is not one a worker takes (a group MAC).
    pub fn restore(&mut self, home: Ipv4Addr, entry: VisitorEntry) -> Option<Update> {
        if entry.visitor.mac[0] & 1 != 0
            || (!self.visitors.contains_key(&home)
                && self.visitors.len() >= self.config.max_visitors)
        {
            return None;
        }
        let visitor = entry.visitor;
        self.visitors.insert(home, entry);
        Some(Update::Visitor {
            home: IpAddr::V4(home),
            visitor,
        })
    }

    /// Visitors whose lifetime ran out are removed (RFC 5944 §3.7.1) and pending requests
    /// the home agent never answered get 78 (§3.7.2.3). Returns the removals and the
    /// replies, and how many of each.
    pub fn expire(&mut self, at: Instant) -> (Vec<Update>, Vec<ToMobile>) {
        let mut updates = Vec::new();
        self.visitors.retain(|home, v| {
            let live = v.expires.is_none_or(|t| t > at);
            if !live {
                updates.push(Update::RemoveVisitor {
                    home: IpAddr::V4(*home),
                });
            }
            live
        });
        let mut replies = Vec::new();
        self.pending.retain(|p| {
            if p.deadline > at {
                return true;
            }
            replies.push(ToMobile {
                mac: p.arrival.mac,
                port: p.arrival.port,
                from: SocketAddrV4::new(p.local, PORT),
                to: SocketAddrV4::new(reply_destination(p), p.arrival.from.port()),
                bytes: reply_bytes(
                    code::REGISTRATION_TIMEOUT,
                    0,
                    p.home_address,
                    p.home_agent,
                    p.identification,
                ),
                denial: true,
            });
            false
        });
        (updates, replies)
    }

    /// When expiry has work next.
    pub fn next_expiry(&self) -> Option<Instant> {
        let visitors = self.visitors.values().filter_map(|v| v.expires);
        let pending = self.pending.iter().map(|p| p.deadline);
        visitors.chain(pending).min()
    }

    /// Whether `a` is one of the care-of addresses offered.
    pub fn offers(&self, a: Ipv4Addr) -> bool {
        self.config.care_of_addresses.contains(&a)
    }

    /// The security association with home agent `addr`, if the foreign agent has one.
    fn home_agent(&self, addr: Ipv4Addr) -> Option<&HomeAgentAssociation> {
        self.config.home_agents.iter().find(|h| h.address == addr)
    }

    /// Whether a reply from `from` passes the Foreign-Home authentication check: always
    /// when the foreign agent shares no key with it; otherwise exactly one FA-HA
    /// Authentication Extension whose SPI and authenticator verify. RFC 5944 §3.7.3.1.
    fn home_agent_authenticated(
        &self,
        packet: &RegistrationReplyPacket<&[u8]>,
        from: Ipv4Addr,
    ) -> bool {
        let Some(ha) = self.home_agent(from) else {
            return true;
        };
        let Ok(extensions) = RegistrationExtensions::new(packet.extensions_bytes(), REPLY_LEN)
        else {
            return false;
        };
        foreign_home_authenticated(&extensions, |o| packet.authenticated_bytes(o), ha)
    }

    /// A denial by the foreign agent for the mobile, copying the request's Home Address,
    /// Home Agent and Identification (RFC 5944 §3.7.2.3).
    fn denial<T: AsRef<[u8]>>(
        &self,
        packet: &RegistrationRequestPacket<T>,
        code: ReplyCode,
        lifetime: u16,
        arrival: Arrival,
        local: Ipv4Addr,
    ) -> Option<ToMobile> {
        let bytes = reply_bytes(
            code,
            lifetime,
            packet.home_address(),
            packet.home_agent(),
            packet.identification(),
        );
        let destination = if arrival.from.ip().is_unspecified() {
            Ipv4Addr::BROADCAST
        } else {
            *arrival.from.ip()
        };
        Some(ToMobile {
            mac: arrival.mac,
            port: arrival.port,
            from: SocketAddrV4::new(local, PORT),
            to: SocketAddrV4::new(destination, arrival.from.port()),
            bytes,
            denial: true,
        })
    }
}

fn reason_only(reason: Reason) -> Outcome {
    Outcome {
        reason: Some(reason),
        ..Outcome::default()
    }
}

/// The reply goes to the request's IP source; a mobile that had no address yet (0.0.0.0)
/// gets it as a broadcast, still link-layer unicast to its MAC. RFC 5944 §3.7.3.2.
fn reply_destination(p: &Pending) -> Ipv4Addr {
    if p.arrival.from.ip().is_unspecified() {
        Ipv4Addr::BROADCAST
    } else {
        *p.arrival.from.ip()
    }
}

fn usable_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
}

/// How many bytes of the request are relayed: everything up to and including the
/// Mobile-Home Authentication Extension (all of it when there is none: the home agent
/// judges). After it come the foreign agent's own extensions: an unrecognised one of
/// type 0-127 discards the request (RFC 5944 §1.9), the MN-FA authentication extension
/// is accepted without a check (no MN-FA security associations), and they are removed.
fn relayed_length(extensions: &RegistrationExtensions<'_>) -> Result<usize, Reason> {
    let mut end = None;
    for ext in extensions.iter() {
        let Ok((offset, ext)) = ext else {
            return Err(Reason::Discarded);
        };
        let t = ext.ext_type();
        if end.is_none() {
            if t == RegistrationExtensionType::MN_HA_AUTHENTICATION {
                end = Some(offset + ext.buffer_len());
            }
            continue;
        }
        let known = matches!(ext, RegistrationExtension::Authentication { .. })
            || t == RegistrationExtensionType::NAI;
        if !known && unknown_extension_action(t.0) == UnknownExtensionAction::Reject {
            return Err(Reason::Discarded);
        }
    }
    Ok(end.unwrap_or(REQUEST_LEN + extensions.as_bytes().len()))
}

/// The length of a Registration Reply up to and including its Mobile-Home Authentication
/// Extension (None: no such extension, or the extensions do not parse).
fn mobile_part(payload: &[u8]) -> Option<usize> {
    let extensions = RegistrationExtensions::new(payload.get(REPLY_LEN..)?, REPLY_LEN).ok()?;
    extensions.iter().find_map(|e| match e {
        Ok((offset, ext)) if ext.ext_type() == RegistrationExtensionType::MN_HA_AUTHENTICATION => {
            Some(offset + ext.buffer_len())
        }
        _ => None,
    })
}

/// A Registration Reply with no extensions. RFC 5944 §3.4.
fn reply_bytes(
    code: ReplyCode,
    lifetime: u16,
    home_address: Ipv4Addr,
    home_agent: Ipv4Addr,
    identification: u64,
) -> Vec<u8> {
    let mut bytes = vec![0u8; REPLY_LEN];
    let mut p = RegistrationReplyPacket::new_unchecked(&mut bytes[..]);
    p.set_msg_type(MessageType::REGISTRATION_REPLY);
    p.set_code(code);
    p.set_lifetime(lifetime);
    p.set_home_address(home_address);
    p.set_home_agent(home_agent);
    p.set_identification(identification);
    bytes
}

#[cfg(test)]
pub(crate) mod tests;
