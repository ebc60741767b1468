//! Multicast mobility management agent (MMA) signalling that is not the binding logic
//! itself (that is [`super::mip6::HomeAgent6`] in the role
//! [`Role6::MulticastAgent`](super::mip6::Role6::MulticastAgent)): the vendor-specific
//! mobility options (RFC 5094) the MMA registration carries, the `[mma]` configuration
//! section, and the binding update a new MMA sends to a correspondent whose packets reach
//! it forwarded by a peer MMA. The byte layouts are in docs/mma-registration.md.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use mipdp_dataplane::tables::Prefix;
use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr, HEADER_LEN};
use mipdp_dataplane::wire::ipv6ext::{Ipv6OptionsHeader, Ipv6OptionsRepr};
use mipdp_dataplane::wire::mh::{BindingUpdate, MhRepr, MobilityHeader};
use mipdp_dataplane::wire::mh_options::{
    authentication_subtype, MessageAuthentication, MobilityOption, MobilityOptionsRepr,
    VendorSpecific,
};
use serde::Deserialize;

use crate::node::Bad;
use crate::signalling::mip4::config::{bad, key_of, spi_of};
use crate::signalling::mip4::security::ntp_timestamp;
use crate::signalling::mip6::config::{
    CorrespondentKey, HomeAgent6Config, HomeAgent6Section, MmaSettings, Role6,
    SecurityAssociation6Section,
};
use crate::signalling::mip6::security::{self, AUTHENTICATOR_LEN};

/// The vendor id of mipdp's vendor-specific mobility options: 32473, the IANA Private
/// Enterprise Number reserved for documentation (RFC 5612). A placeholder: a deployment
/// that needs its own registers a PEN and changes this one constant.
pub const VENDOR_ID: u32 = 32473;

/// Sub-types of mipdp's vendor-specific mobility options (RFC 5094 §3: vendor-defined).
pub mod subtype {
    /// In a Binding Update to an MMA: the mobile's multicast group (16 bytes).
    pub const MULTICAST_GROUP: u8 = 1;
    /// In the MMA's Binding Acknowledgement: the care-of address it assigned (16 bytes).
    pub const ASSIGNED_CARE_OF: u8 = 2;
    /// In a de-registration to the old MMA: the new MMA's address (16 bytes) and the
    /// seconds to forward to it (4 bytes, network order).
    pub const NEW_MMA: u8 = 3;
}

/// A de-registration's request to forward to the new MMA for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewMma {
    /// The new MMA's address.
    pub address: Ipv6Addr,
    /// How long the mobile asks the old MMA to forward, seconds.
    pub seconds: u32,
}

/// The data of the first of mipdp's vendor-specific options of sub-type `subtype` among
/// `options` (the Mobility Header's options, malformed ones end the search).
fn vendor_data<'a>(
    mut options: impl Iterator<Item = Result<MobilityOption<'a>, mipdp_dataplane::wire::Error>>,
    subtype: u8,
) -> Option<&'a [u8]> {
    options.find_map(|o| match o {
        Ok(MobilityOption::VendorSpecific(v))
            if v.vendor_id == VENDOR_ID && v.subtype == subtype =>
        {
            Some(v.data)
        }
        _ => None,
    })
}

fn address(data: &[u8]) -> Option<Ipv6Addr> {
    let bytes: [u8; 16] = data.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(bytes))
}

/// The multicast group a Binding Update to an MMA names; None without the option or
/// with data of another length than 16.
pub fn multicast_group(header: &MobilityHeader<&[u8]>) -> Option<Ipv6Addr> {
    let data = vendor_data(header.iter_options(), subtype::MULTICAST_GROUP)?;
    (data.len() == 16).then(|| address(data)).flatten()
}

/// The new MMA a de-registration names; None without the option or with data of
/// another length than 20.
pub fn new_mma(header: &MobilityHeader<&[u8]>) -> Option<NewMma> {
    let data = vendor_data(header.iter_options(), subtype::NEW_MMA)?;
    if data.len() != 20 {
        return None;
    }
    let seconds = u32::from_be_bytes(data.get(16..20)?.try_into().ok()?);
    Some(NewMma {
        address: address(data)?,
        seconds,
    })
}

/// The vendor-specific option carrying `data` under `subtype`.
pub fn option(subtype: u8, data: &[u8]) -> VendorSpecific<'_> {
    VendorSpecific {
        vendor_id: VENDOR_ID,
        subtype,
        data,
    }
}

/// Whether a group can be a mobile's: multicast with a scope wider than link-local, so
/// that it is routed (RFC 4291 §2.7).
pub fn usable_group(group: Ipv6Addr) -> bool {
    group.is_multicast() && (group.octets()[1] & 0x0f) > 2
}

/// The care-of address the MMA offers `home` first in `prefix`: the prefix with the home
/// address's host bits (stable across re-registrations and predictable for the mobile);
/// `probe` moves on by that many addresses when it is taken. None when the prefix has no
/// room (a /127 or longer) or is not IPv6.
pub fn care_of_candidate(prefix: Prefix, home: Ipv6Addr, probe: u32) -> Option<Ipv6Addr> {
    let IpAddr::V6(base) = prefix.addr() else {
        return None;
    };
    let host_bits = 128u32.checked_sub(u32::from(prefix.prefix_len()))?;
    if host_bits < 2 {
        return None;
    }
    let host_mask = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let net = base.to_bits() & !host_mask;
    let host = home.to_bits().wrapping_add(u128::from(probe)) & host_mask;
    // The subnet-router anycast address (all host bits zero, RFC 4291 §2.6.1) is no
    // mobile's.
    let host = if host == 0 { 1 } else { host };
    Some(Ipv6Addr::from_bits(net | host))
}

/// `[mma]`: the multicast mobility management agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmaSection {
    /// The MMA's own IPv6 addresses (binding updates go to them).
    pub addresses: Vec<IpAddr>,
    /// The prefixes it assigns care-of addresses from.
    pub care_of_prefixes: Vec<String>,
    /// The longest lifetime granted, seconds.
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u32,
    /// Mobiles registered at most.
    #[serde(default = "default_max_bindings")]
    pub max_bindings: usize,
    /// `[[mma.security_association]]`: each mobile's key, by home address and SPI.
    #[serde(rename = "security_association", default)]
    pub security_associations: Vec<SecurityAssociation6Section>,
    /// Error acknowledgements per second at most (0: none).
    #[serde(default = "default_error_rate")]
    pub error_replies_per_second: u32,
    /// And in a burst at most.
    #[serde(default = "default_error_burst")]
    pub error_reply_burst: u32,
    /// Milliseconds an acknowledgement waits for every worker to apply the change.
    #[serde(default = "default_reply_wait")]
    pub reply_wait_ms: u64,
    /// The longest time a de-registration naming a new MMA makes this one forward to it,
    /// seconds.
    #[serde(default = "default_max_forward")]
    pub max_forward_s: u32,
    /// The site's other MMAs.
    #[serde(default)]
    pub peers: Vec<IpAddr>,
    /// Seconds between two binding updates to one correspondent for one home address.
    #[serde(default = "default_correspondent_interval")]
    pub correspondent_update_interval_s: u32,
    /// The lifetime those binding updates ask for, seconds.
    #[serde(default = "default_correspondent_lifetime")]
    pub correspondent_lifetime_s: u32,
    /// `[[mma.correspondent]]`: MMA–correspondent keys.
    #[serde(rename = "correspondent", default)]
    pub correspondents: Vec<CorrespondentSection>,
}

/// `[[mma.correspondent]]`: the key this MMA shares with a correspondent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrespondentSection {
    /// The correspondent's address.
    pub address: IpAddr,
    /// The SPI of the authentication option, 256 or more.
    pub spi: u32,
    /// The key in hexadecimal.
    pub key: String,
}

fn default_max_lifetime() -> u32 {
    1800
}
fn default_max_bindings() -> usize {
    4_096
}
fn default_error_rate() -> u32 {
    crate::signalling::mip4::config::ReplyLimit::default().per_second
}
fn default_error_burst() -> u32 {
    crate::signalling::mip4::config::ReplyLimit::default().burst
}
fn default_reply_wait() -> u64 {
    1000
}
fn default_max_forward() -> u32 {
    300
}
fn default_correspondent_interval() -> u32 {
    10
}
fn default_correspondent_lifetime() -> u32 {
    300
}

impl MmaSection {
    /// Checks the section into the configuration of the binding logic in the MMA role.
    pub fn check(&self) -> Result<HomeAgent6Config, Bad> {
        if self.max_forward_s == 0 || self.max_forward_s > 86_400 {
            return Err(bad(
                "mma.max_forward_s",
                self.max_forward_s,
                "1 to 86400 seconds",
            ));
        }
        if self.correspondent_update_interval_s == 0 {
            return Err(bad(
                "mma.correspondent_update_interval_s",
                0,
                "1 or more seconds (binding updates to a correspondent are rate-limited)",
            ));
        }
        if !(4..=crate::signalling::mip6::config::MAX_LIFETIME_SECONDS)
            .contains(&self.correspondent_lifetime_s)
        {
            return Err(bad(
                "mma.correspondent_lifetime_s",
                self.correspondent_lifetime_s,
                "4 to 262140 seconds (sent in 4-second units)",
            ));
        }
        let peers = self
            .peers
            .iter()
            .enumerate()
            .map(|(i, a)| unicast(&format!("mma.peers[{i}]"), *a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut correspondents = Vec::new();
        for (i, c) in self.correspondents.iter().enumerate() {
            let key = |k: &str| format!("mma.correspondent[{i}].{k}");
            let address = unicast(&key("address"), c.address)?;
            if correspondents
                .iter()
                .any(|k: &CorrespondentKey| k.address == address)
            {
                return Err(bad(
                    key("address"),
                    address,
                    "a correspondent not listed before (one key each)",
                ));
            }
            correspondents.push(CorrespondentKey {
                address,
                spi: spi_of(&key("spi"), c.spi)?,
                key: key_of(&key("key"), &c.key)?,
            });
        }
        let settings = MmaSettings {
            max_forward: Duration::from_secs(u64::from(self.max_forward_s)),
            peers,
            correspondents,
            correspondent_interval: Duration::from_secs(u64::from(
                self.correspondent_update_interval_s,
            )),
            correspondent_lifetime: self.correspondent_lifetime_s,
        };
        let common = HomeAgent6Section {
            addresses: self.addresses.clone(),
            home_prefixes: self.care_of_prefixes.clone(),
            max_lifetime: self.max_lifetime,
            max_bindings: self.max_bindings,
            security_associations: self.security_associations.clone(),
            error_replies_per_second: self.error_replies_per_second,
            error_reply_burst: self.error_reply_burst,
            neighbour_advertisements: crate::signalling::mip6::config::MAX_NEIGHBOR_ADVERTISEMENT,
            neighbour_advertisement_interval_ms: 1000,
            reply_wait_ms: self.reply_wait_ms,
            binding_refresh_before_s: 0,
        };
        let config = common.check_as(Role6::MulticastAgent(settings), "care_of_prefixes")?;
        for (i, p) in config.home_prefixes.iter().enumerate() {
            if p.prefix_len() > 126 {
                return Err(bad(
                    format!("mma.care_of_prefixes[{i}]"),
                    p,
                    "a prefix of /126 or shorter (room for care-of addresses)",
                ));
            }
        }
        Ok(config)
    }
}

fn unicast(key: &str, a: IpAddr) -> Result<Ipv6Addr, Bad> {
    match a {
        IpAddr::V6(v) if !v.is_unspecified() && !v.is_multicast() && !v.is_loopback() => Ok(v),
        _ => Err(bad(key, a, "a unicast IPv6 address")),
    }
}

/// Why a packet forwarded by a peer MMA did or did not make the new MMA tell the
/// correspondent: one counter each (`mma_correspondent_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// A binding update went to the correspondent.
    Told,
    /// Not an IPv6-in-IPv6 packet to this MMA.
    NotTunnelled,
    /// The outer source is not one of `mma.peers`.
    NotFromPeer,
    /// The inner destination is no mobile registered here.
    NotRegistered,
    /// No `[[mma.correspondent]]` key for the inner source.
    NoCorrespondentKey,
    /// One was sent for this correspondent and home address within the interval.
    RateLimited,
    /// The binding update could not be built.
    Unbuilt,
}

impl Forwarded {
    /// Every outcome, in counter order.
    pub const ALL: [Forwarded; 7] = [
        Forwarded::Told,
        Forwarded::NotTunnelled,
        Forwarded::NotFromPeer,
        Forwarded::NotRegistered,
        Forwarded::NoCorrespondentKey,
        Forwarded::RateLimited,
        Forwarded::Unbuilt,
    ];

    /// Name for counters.
    pub fn name(self) -> &'static str {
        match self {
            Forwarded::Told => "told",
            Forwarded::NotTunnelled => "not_tunnelled",
            Forwarded::NotFromPeer => "not_from_peer",
            Forwarded::NotRegistered => "not_registered",
            Forwarded::NoCorrespondentKey => "no_correspondent_key",
            Forwarded::RateLimited => "rate_limited",
            Forwarded::Unbuilt => "unbuilt",
        }
    }
}

/// The new MMA's side of a handover: a tunnelled packet from a peer MMA carries a
/// correspondent's packet for a mobile that registered here; the correspondent is sent a
/// binding update (home address → the care-of address assigned here) so that it sends
/// to this MMA directly, at most once per interval per correspondent and home address.
#[derive(Debug)]
pub struct CorrespondentUpdates {
    settings: MmaSettings,
    /// When each (correspondent, home address) was last told, and the Sequence Number
    /// used.
    told: HashMap<(Ipv6Addr, Ipv6Addr), (SystemTime, u16)>,
}

/// Pairs remembered at most before the stale ones are forgotten.
const TOLD_LIMIT: usize = 65_536;

impl CorrespondentUpdates {
    /// For the MMA `settings`.
    pub fn new(settings: MmaSettings) -> CorrespondentUpdates {
        CorrespondentUpdates {
            settings,
            told: HashMap::new(),
        }
    }

    /// Handles one received IPv6 packet (from its IPv6 header) at `now`; `care_of_of`
    /// gives the care-of address assigned to a home address registered here. Returns
    /// the outcome and the binding update to send to the correspondent. Never panics.
    pub fn forwarded(
        &mut self,
        packet: &[u8],
        care_of_of: &dyn Fn(Ipv6Addr) -> Option<Ipv6Addr>,
        own: &[Ipv6Addr],
        now: SystemTime,
    ) -> (Forwarded, Option<Vec<u8>>) {
        let Ok(outer) = Ipv6Packet::new_checked(packet) else {
            return (Forwarded::NotTunnelled, None);
        };
        if outer.next_header() != next_header::IPV6 || !own.contains(&outer.dst_addr()) {
            return (Forwarded::NotTunnelled, None);
        }
        let mma = outer.dst_addr();
        if !self.settings.peers.contains(&outer.src_addr()) {
            return (Forwarded::NotFromPeer, None);
        }
        let Ok(inner) = Ipv6Packet::new_checked(outer.payload()) else {
            return (Forwarded::NotTunnelled, None);
        };
        let (correspondent, home) = (inner.src_addr(), inner.dst_addr());
        let Some(care_of) = care_of_of(home) else {
            return (Forwarded::NotRegistered, None);
        };
        let Some(key) = self
            .settings
            .correspondents
            .iter()
            .find(|k| k.address == correspondent)
            .cloned()
        else {
            return (Forwarded::NoCorrespondentKey, None);
        };
        let interval = self.settings.correspondent_interval;
        let last = self.told.get(&(correspondent, home)).copied();
        if let Some((at, _)) = last {
            if now.duration_since(at).map_or(true, |d| d < interval) {
                return (Forwarded::RateLimited, None);
            }
        }
        let sequence = last.map_or(0, |(_, s)| s.wrapping_add(1));
        let update = CorrespondentUpdate {
            mma,
            correspondent,
            home,
            care_of,
            sequence,
            lifetime_units: u16::try_from(self.settings.correspondent_lifetime / 4)
                .unwrap_or(u16::MAX),
            timestamp: ntp_timestamp(now),
        };
        let Some(bytes) = update.build(&key) else {
            return (Forwarded::Unbuilt, None);
        };
        if self.told.len() >= TOLD_LIMIT {
            self.told
                .retain(|_, (at, _)| now.duration_since(*at).is_ok_and(|d| d < interval));
        }
        self.told.insert((correspondent, home), (now, sequence));
        (Forwarded::Told, Some(bytes))
    }

    /// The binding update built for `update` (the packet [`Self::forwarded`] returned)
    /// could not be sent (no route or neighbour toward the correspondent yet): the next
    /// forwarded packet may try again at once, with the next Sequence Number, instead of
    /// waiting out the interval.
    pub fn not_sent(&mut self, update: &[u8]) {
        let Ok(ip) = Ipv6Packet::new_checked(update) else {
            return;
        };
        let Ok(chain) = mipdp_dataplane::wire::ipv6ext::walk_chain(ip.next_header(), ip.payload())
        else {
            return;
        };
        let Some(home) = chain.home_address else {
            return;
        };
        if let Some((at, _)) = self.told.get_mut(&(ip.dst_addr(), home)) {
            *at = SystemTime::UNIX_EPOCH;
        }
    }
}

/// The binding update a new MMA sends a correspondent: from the MMA, with the mobile's
/// home address in a Home Address option, its care-of address at this MMA in an
/// Alternate Care-of Address option, A, H and M clear, the replay protection timestamp
/// and, last, the authentication option (subtype 1, the MMA–correspondent SPI, the
/// RFC 4285 §5.1 authenticator over care-of address | home address | MH Data under
/// their key). docs/mma-registration.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrespondentUpdate {
    /// The new MMA's address (the source).
    pub mma: Ipv6Addr,
    /// The correspondent (the destination).
    pub correspondent: Ipv6Addr,
    /// The mobile's home address.
    pub home: Ipv6Addr,
    /// Its care-of address at the new MMA.
    pub care_of: Ipv6Addr,
    /// Sequence Number.
    pub sequence: u16,
    /// Lifetime in 4-second units.
    pub lifetime_units: u16,
    /// The NTP-format timestamp of the replay protection option.
    pub timestamp: u64,
}

impl CorrespondentUpdate {
    /// The whole IPv6 packet, authenticated under `key`.
    pub fn build(&self, key: &CorrespondentKey) -> Option<Vec<u8>> {
        let placeholder = [0u8; AUTHENTICATOR_LEN];
        let bu = MhRepr::BindingUpdate(BindingUpdate {
            sequence: self.sequence,
            acknowledge: false,
            home_registration: false,
            link_local_compatibility: false,
            key_management_mobility_capability: false,
            map_registration: false,
            lifetime: self.lifetime_units,
            options: MobilityOptionsRepr {
                alternate_care_of_address: Some(self.care_of),
                replay_protection: Some(self.timestamp),
                message_authentication: Some(MessageAuthentication {
                    subtype: authentication_subtype::MN_HA,
                    spi: key.spi,
                    authentication_data: &placeholder,
                }),
                ..Default::default()
            },
        });
        // The checksum's pseudo-header source is the home address (RFC 6275 §6.1.1,
        // §6.3: the Home Address option stands for the source).
        let mut mh = vec![0u8; bu.header_len()];
        bu.emit(
            &self.home,
            &self.correspondent,
            &mut MobilityHeader::new_unchecked(&mut mh[..]),
        )
        .ok()?;
        let layout = MobilityHeader::new_unchecked(&mh[..]).message_authentication_layout()?;
        let tag = security::authenticator(&key.key.0, self.care_of, self.home, &mh, &layout);
        mh.get_mut(layout.authenticator)?.copy_from_slice(&tag);
        MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&self.home, &self.correspondent);
        let dest = Ipv6OptionsRepr {
            next_header: next_header::MOBILITY,
            home_address: Some(self.home),
            ..Default::default()
        };
        let ip = Ipv6Repr {
            src_addr: self.mma,
            dst_addr: self.correspondent,
            next_header: next_header::DEST_OPTS,
            payload_len: dest.header_len() + mh.len(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        };
        let mut bytes = vec![0u8; ip.buffer_len()];
        ip.emit(&mut Ipv6Packet::new_unchecked(&mut bytes[..]))
            .ok()?;
        let opts = bytes.get_mut(HEADER_LEN..HEADER_LEN + dest.header_len())?;
        dest.emit(&mut Ipv6OptionsHeader::new_unchecked(opts))
            .ok()?;
        bytes
            .get_mut(HEADER_LEN + dest.header_len()..)?
            .copy_from_slice(&mh);
        Some(bytes)
    }
}

#[cfg(test)]
mod tests;
