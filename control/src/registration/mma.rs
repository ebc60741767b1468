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
