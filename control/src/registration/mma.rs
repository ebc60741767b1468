//! The control thread's side of a new MMA telling correspondents where a mobile is now
//! (docs/mma-registration.md, "The new MMA tells the correspondent"): the workers hand it
//! a copy of every tunnel from a peer MMA (the `notify` profiles of
//! [`mipdp_dataplane::roles::mma_peers`], rate-limited per worker), it asks
//! [`CorrespondentUpdates`] whether the correspondent is to be told, with the care-of
//! addresses the MMA's binding logic assigned, and sends the binding update toward the
//! correspondent. Frames leave through the `send` function the control thread passes in,
//! so this module has no DPDK in it.

use std::net::Ipv6Addr;
use std::time::SystemTime;

use crate::registration::mip6::Toward;
use crate::signalling::mip6::{HomeAgent6, HomeAgent6Config, Role6};
use crate::signalling::mma::{CorrespondentUpdates, Forwarded};

const ETHERNET_LEN: usize = 14;
const IPV6: [u8; 2] = [0x86, 0xdd];
/// IPv6 in IPv6 (RFC 2473): the Next Header of a tunnel from a peer MMA.
const IPV6_IN_IPV6: u8 = 41;

/// What the new MMA did with tunnels from its peers, for `mipdp ctl show stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrespondentUpdateStats {
    /// Forwarded packets by outcome, indexed by `Forwarded as usize`.
    pub outcomes: [u64; Forwarded::ALL.len()],
    /// Binding updates built but not sent: no route or neighbour toward the
    /// correspondent, no buffer, or the TX queue full.
    pub unsent: u64,
}

impl CorrespondentUpdateStats {
    /// The counters as `key=value` words, each key starting `mma_correspondent_`.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = Forwarded::ALL
            .iter()
            .map(|f| {
                format!(
                    "mma_correspondent_{}={}",
                    f.name(),
                    self.outcomes[*f as usize]
                )
            })
            .collect();
        parts.push(format!("mma_correspondent_unsent={}", self.unsent));
        parts.join(" ")
    }
}

/// The new MMA's correspondent updates as the control thread runs them.
#[derive(Debug)]
pub struct CorrespondentNotifier {
    updates: CorrespondentUpdates,
    own: Vec<Ipv6Addr>,
    port_macs: Vec<[u8; 6]>,
    /// The counters.
    pub stats: CorrespondentUpdateStats,
}

impl CorrespondentNotifier {
    /// For the MMA configured by `config` (None in another role), on ports with
    /// `port_macs`.
    pub fn new(config: &HomeAgent6Config, port_macs: Vec<[u8; 6]>) -> Option<Self> {
        let Role6::MulticastAgent(settings) = &config.role else {
            return None;
        };
        Some(CorrespondentNotifier {
            updates: CorrespondentUpdates::new(settings.clone()),
            own: config.addresses.clone(),
            port_macs,
            stats: CorrespondentUpdateStats::default(),
        })
    }

    /// Whether a punted frame is an IPv6-in-IPv6 packet (a notifying profile's copy).
    pub fn wants(frame: &[u8]) -> bool {
        frame.get(12..14) == Some(&IPV6[..]) && frame.get(ETHERNET_LEN + 6) == Some(&IPV6_IN_IPV6)
    }

    /// Handles one such frame at `now`: `mma` is the MMA's binding logic (the care-of
    /// addresses it assigned), `toward` the port and next hop's MAC toward a
    /// destination, `send` puts a frame out of a port. Never panics, whatever the bytes.
    pub fn forwarded(
        &mut self,
        frame: &[u8],
        mma: &HomeAgent6,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        now: SystemTime,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> Forwarded {
        let packet = frame.get(ETHERNET_LEN..).unwrap_or(&[]);
        let (outcome, update) =
            self.updates
                .forwarded(packet, &|home| mma.assigned_care_of(home), &self.own, now);
        self.stats.outcomes[outcome as usize] += 1;
        if let Some(update) = update {
            let sent = self
                .frame(&update, toward)
                .is_some_and(|(port, f)| send(port, &f));
            if !sent {
                self.stats.unsent += 1;
                self.updates.not_sent(&update);
            }
        }
        outcome
    }

    /// The Ethernet frame carrying the IPv6 `packet` toward its destination.
    fn frame(
        &self,
        packet: &[u8],
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
    ) -> Option<(u16, Vec<u8>)> {
        let dst: [u8; 16] = packet.get(24..40)?.try_into().ok()?;
        let (port, mac) = toward(Ipv6Addr::from(dst))?;
        let eth_src = self.port_macs.get(usize::from(port)).copied()?;
        let mut f = Vec::with_capacity(ETHERNET_LEN + packet.len());
        f.extend_from_slice(&mac);
        f.extend_from_slice(&eth_src);
        f.extend_from_slice(&IPV6);
        f.extend_from_slice(packet);
        Some((port, f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signalling::mma::MmaSection;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn config() -> HomeAgent6Config {
        let s: MmaSection = toml::from_str(
            "addresses = [\"2001:db8:cc::1\"]\ncare_of_prefixes = [\"2001:db8:cc:1::/64\"]\n\
             peers = [\"2001:db8:dd::1\"]\n\
             [[correspondent]]\naddress = \"2001:db8:20::50\"\nspi = 300\nkey = \"0011\"\n",
        )
        .unwrap();
        s.check().unwrap()
    }

    /// A frame carrying `outer_src` → `outer_dst`, IPv6 in IPv6, with the correspondent's
    /// packet for `home` inside.
    fn tunnelled(outer_src: &str, outer_dst: &str, home: &str) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 40 + 40];
        f[12..14].copy_from_slice(&IPV6);
        let (outer, inner) = f[14..].split_at_mut(40);
        outer[0] = 0x60;
        outer[4..6].copy_from_slice(&40u16.to_be_bytes());
        outer[6] = IPV6_IN_IPV6;
        outer[8..24].copy_from_slice(&a(outer_src).octets());
        outer[24..40].copy_from_slice(&a(outer_dst).octets());
        inner[0] = 0x60;
        inner[6] = 59;
        inner[8..24].copy_from_slice(&a("2001:db8:20::50").octets());
        inner[24..40].copy_from_slice(&a(home).octets());
        f
    }

    #[test]
    fn tunnels_from_peers_are_counted_by_outcome_and_nothing_is_sent_for_strangers() {
        let config = config();
        let mma = HomeAgent6::new(config.clone());
        let mut n = CorrespondentNotifier::new(&config, vec![[2, 0, 0, 0, 0, 1]]).unwrap();
        let from_peer = tunnelled("2001:db8:dd::1", "2001:db8:cc::1", "2001:db8:1::100");
        assert!(CorrespondentNotifier::wants(&from_peer));
        let mut sent = 0;
        let mut send = |_: u16, _: &[u8]| {
            sent += 1;
            true
        };
        let toward = |_: Ipv6Addr| Some((0u16, [2, 0, 0, 0, 0, 2]));
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 31);
        // The mobile has not registered here.
        assert_eq!(
            n.forwarded(&from_peer, &mma, &toward, now, &mut send),
            Forwarded::NotRegistered
        );
        let stranger = tunnelled("2001:db8:ee::1", "2001:db8:cc::1", "2001:db8:1::100");
        assert_eq!(
            n.forwarded(&stranger, &mma, &toward, now, &mut send),
            Forwarded::NotFromPeer
        );
        assert_eq!(
            n.forwarded(&from_peer[..30], &mma, &toward, now, &mut send),
            Forwarded::NotTunnelled
        );
        assert_eq!(sent, 0);
        assert_eq!(n.stats.outcomes[Forwarded::NotRegistered as usize], 1);
        assert_eq!(n.stats.outcomes[Forwarded::NotFromPeer as usize], 1);
        assert_eq!(n.stats.outcomes[Forwarded::NotTunnelled as usize], 1);
        assert!(n
            .stats
            .text()
            .contains("mma_correspondent_not_from_peer=1 "));
        // Not IPv6 in IPv6: not the notifier's.
        let mut arp = from_peer.clone();
        arp[12..14].copy_from_slice(&[8, 6]);
        assert!(!CorrespondentNotifier::wants(&arp));
        let mut udp = from_peer;
        udp[20] = 17;
        assert!(!CorrespondentNotifier::wants(&udp));
    }

    #[test]
    fn only_the_mma_role_has_a_notifier() {
        let mut c = config();
        c.role = Role6::MobilityAnchorPoint;
        assert!(CorrespondentNotifier::new(&c, vec![]).is_none());
    }
}
