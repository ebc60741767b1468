//! The diagnostic forwarder: every packet goes out of its paired port with the Ethernet
//! destination set to the peer's MAC and the source to the egress port's own MAC, as
//! `dpdk-testpmd --forward-mode=mac` does. It is mipdp's floor in the perf harness.

use crate::counters::DropReason;
use crate::port::PacketBuf;
use crate::worker::{Action, Processor};

/// Length of the two MAC addresses at the front of an Ethernet frame.
const MAC_PAIR: usize = 12;
/// Length of an Ethernet header (two MACs and the EtherType).
const ETHERNET_HEADER: usize = 14;

/// One port as the forwarder sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwarderPort {
    /// This port's own MAC (source of frames it sends).
    pub mac: [u8; 6],
    /// The MAC of the host behind this port (destination of frames it sends).
    pub peer_mac: [u8; 6],
    /// Index of the port that frames received here go out of.
    pub forward_to: u16,
}

/// Port-to-port forwarding with MAC rewrite.
#[derive(Debug, Clone)]
pub struct Forwarder {
    // Per ingress port: egress index and the 12 bytes (dst, src) to write.
    routes: Vec<(u16, [u8; MAC_PAIR])>,
}

impl Forwarder {
    /// A forwarder over `ports`, indexed as the worker's queues are.
    pub fn new(ports: &[ForwarderPort]) -> Forwarder {
        let routes = ports
            .iter()
            .map(|p| {
                let mut header = [0u8; MAC_PAIR];
                if let Some(out) = ports.get(p.forward_to as usize) {
                    header[..6].copy_from_slice(&out.peer_mac);
                    header[6..].copy_from_slice(&out.mac);
                }
                (p.forward_to, header)
            })
            .collect();
        Forwarder { routes }
    }

    /// testpmd's default pairing: 0↔1, 2↔3, ...; an odd last port forwards to itself.
    pub fn paired(index: usize, ports: usize) -> u16 {
        let peer = index ^ 1;
        if peer < ports {
            peer as u16
        } else {
            index as u16
        }
    }
}

impl Processor for Forwarder {
    #[inline]
    fn process<P: PacketBuf>(&mut self, in_port: usize, packet: &mut P) -> Action {
        let Some((out, header)) = self.routes.get(in_port) else {
            return Action::Drop(DropReason::NoEgress);
        };
        let frame = packet.data_mut();
        if frame.len() < ETHERNET_HEADER {
            return Action::Drop(DropReason::Runt);
        }
        match frame.get_mut(..MAC_PAIR) {
            Some(macs) => {
                macs.copy_from_slice(header);
                Action::Forward(*out)
            }
            _ => Action::Drop(DropReason::Runt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::memory::{MemPacket, MemPool};

    fn ports() -> Vec<ForwarderPort> {
        vec![
            ForwarderPort {
                mac: [2, 0, 0, 0, 0, 0xa0],
                peer_mac: [2, 0, 0, 0, 0, 0xb0],
                forward_to: 1,
            },
            ForwarderPort {
                mac: [2, 0, 0, 0, 0, 0xa1],
                peer_mac: [2, 0, 0, 0, 0, 0xb1],
                forward_to: 0,
            },
        ]
    }

    fn packet(pool: &MemPool, bytes: &[u8]) -> MemPacket {
        pool.packet(bytes).unwrap()
    }

    #[test]
    fn frame_from_port_0_leaves_port_1_with_peer_and_own_mac() {
        let pool = MemPool::new(4);
        let mut f = Forwarder::new(&ports());
        let mut frame = vec![0xffu8; 12];
        frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 20]);
        let mut p = packet(&pool, &frame);
        assert_eq!(f.process(0, &mut p), Action::Forward(1));
        assert_eq!(&p.data()[..6], &[2, 0, 0, 0, 0, 0xb1]);
        assert_eq!(&p.data()[6..12], &[2, 0, 0, 0, 0, 0xa1]);
        assert_eq!(&p.data()[12..], &frame[12..], "payload untouched");
    }

    #[test]
    fn runt_is_dropped_and_unknown_port_has_no_egress() {
        let pool = MemPool::new(4);
        let mut f = Forwarder::new(&ports());
        let mut p = packet(&pool, &[1, 2, 3]);
        assert_eq!(f.process(0, &mut p), Action::Drop(DropReason::Runt));
        let mut p = packet(&pool, &[0; 64]);
        assert_eq!(f.process(7, &mut p), Action::Drop(DropReason::NoEgress));
    }

    #[test]
    fn pairing_is_testpmds() {
        assert_eq!(Forwarder::paired(0, 2), 1);
        assert_eq!(Forwarder::paired(1, 2), 0);
        assert_eq!(Forwarder::paired(2, 3), 2);
    }
}
