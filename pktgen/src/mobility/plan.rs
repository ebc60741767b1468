//! The address plan of the mobility workloads: every address of mobile `i` is computed
//! from its index, so that 10,000,000 mobiles cost no table at all.
//!
//! - home address `i` = `home + i` (IPv4 or IPv6, as an integer add);
//! - care-of address `i` (which = 0) = `care_of + i`; the second care-of address a
//!   handover moves a mobile to (which = 1) = `care_of + N + i`. IPv6 care-of addresses
//!   are one /64 each: `care_of + ((i + which × N) << 64)`, so that a MAP or an MMA sees
//!   distinct links;
//! - the correspondent, the agent (home agent, FA, MAP or MMA: the destination of the
//!   encapsulated workload and the source the tunnels it makes are expected to come from)
//!   and the tunnel entry point (the source of the encapsulated workload) are single
//!   addresses.
//!
//! Packet `s` of a data workload goes to mobile `s × M mod N` for a multiplier `M`
//! coprime with `N`: each mobile once per `N` packets, in an order without locality (the
//! same permutation as perf/src/scenario.rs).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The most mobiles a run may address.
pub const MAX_MOBILES: u32 = 16_777_216;
/// Home addresses after the N mobiles' that the plan also keeps free: the `malformed`
/// workload's registrations come from mobiles N..N + this (with security associations and
/// no static binding, which mipdp does not allow together).
pub const EXTRA_MOBILES: u32 = 64;

/// Which IP version the mobiles' data (the inner packets) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 home addresses (Mobile IPv4, RFC 5944).
    V4,
    /// IPv6 home addresses (Mobile IPv6, RFC 6275; HMIPv6 RCoAs, RFC 5380).
    V6,
}

/// Why a plan cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The number of mobiles is outside 1..=[`MAX_MOBILES`].
    #[error("--mobiles {0} is outside 1..={MAX_MOBILES}")]
    Mobiles(u64),
    /// The last address of a range does not fit the address space.
    #[error("--{key} {base} + {count} addresses runs past the end of the address space: choose a lower base")]
    Overflow {
        /// The command-line key.
        key: &'static str,
        /// The base address.
        base: IpAddr,
        /// Addresses needed from it.
        count: u64,
    },
}

/// The addresses of one run; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPlan {
    /// N, the number of mobiles.
    pub mobiles: u32,
    /// Home address of mobile 0 (IPv4).
    pub home4: Ipv4Addr,
    /// Care-of address of mobile 0 (IPv4).
    pub care_of4: Ipv4Addr,
    /// The correspondent node (IPv4).
    pub correspondent4: Ipv4Addr,
    /// The agent under test (IPv4).
    pub agent4: Ipv4Addr,
    /// The tunnel entry point of the encapsulated workload (IPv4).
    pub entry4: Ipv4Addr,
    /// Home address (or RCoA) of mobile 0 (IPv6).
    pub home6: Ipv6Addr,
    /// Care-of address (or LCoA) of mobile 0 (IPv6); each mobile has its own /64.
    pub care_of6: Ipv6Addr,
    /// The correspondent node (IPv6).
    pub correspondent6: Ipv6Addr,
    /// The agent under test (IPv6).
    pub agent6: Ipv6Addr,
    /// The tunnel entry point of the encapsulated workload (IPv6).
    pub entry6: Ipv6Addr,
    /// The permutation's multiplier, coprime with `mobiles`.
    multiplier: u64,
}

impl AddressPlan {
    /// The default plan (documentation and test addresses, the same home and care-of
    /// bases as perf/mobility.sh) for `mobiles` mobiles.
    pub fn new(mobiles: u32) -> AddressPlan {
        AddressPlan {
            mobiles,
            home4: Ipv4Addr::new(10, 0, 0, 0),
            care_of4: Ipv4Addr::new(100, 64, 0, 0),
            correspondent4: Ipv4Addr::new(198, 51, 100, 9),
            agent4: Ipv4Addr::new(192, 0, 2, 1),
            entry4: Ipv4Addr::new(203, 0, 113, 1),
            home6: Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 1),
            care_of6: Ipv6Addr::new(0x2001, 0xdb8, 0x200, 0, 0, 0, 0, 1),
            correspondent6: Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 9),
            agent6: Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1),
            entry6: Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 1),
            multiplier: multiplier(u64::from(mobiles)),
        }
    }

    /// Sets the number of mobiles (and the permutation that goes with it).
    pub fn with_mobiles(mut self, mobiles: u32) -> AddressPlan {
        self.mobiles = mobiles;
        self.multiplier = multiplier(u64::from(mobiles));
        self
    }

    /// Checks the count and that every computed address fits its address space (no
    /// address wraps round to another mobile's).
    pub fn check(&self) -> Result<(), PlanError> {
        let n = u64::from(self.mobiles);
        if n == 0 || n > u64::from(MAX_MOBILES) {
            return Err(PlanError::Mobiles(n));
        }
        let fits4 = |key, base: Ipv4Addr, count: u64| {
            if u64::from(base.to_bits()) + count - 1 > u64::from(u32::MAX) {
                Err(PlanError::Overflow {
                    key,
                    base: base.into(),
                    count,
                })
            } else {
                Ok(())
            }
        };
        fits4("home-base", self.home4, n + u64::from(EXTRA_MOBILES))?;
        fits4("care-of-base", self.care_of4, 2 * n)?;
        let fits6 = |key, base: Ipv6Addr, last: u128| {
            if base.to_bits().checked_add(last).is_none() {
                Err(PlanError::Overflow {
                    key,
                    base: base.into(),
                    count: n,
                })
            } else {
                Ok(())
            }
        };
        fits6(
            "home6-base",
            self.home6,
            u128::from(n + u64::from(EXTRA_MOBILES)) - 1,
        )?;
        fits6("care-of6-base", self.care_of6, u128::from(2 * n - 1) << 64)
    }

    /// The mobile packet `sequence` of a data workload goes to.
    #[inline]
    pub fn mobile_of(&self, sequence: u64) -> u32 {
        let n = u64::from(self.mobiles);
        ((sequence % n) * self.multiplier % n) as u32
    }

    /// IPv4 home address of mobile `i`.
    #[inline]
    pub fn home4(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.home4.to_bits().wrapping_add(i))
    }

    /// IPv4 care-of address `which` (0 or 1) of mobile `i`.
    #[inline]
    pub fn care_of4(&self, i: u32, which: u32) -> Ipv4Addr {
        let offset = i.wrapping_add(which.wrapping_mul(self.mobiles));
        Ipv4Addr::from_bits(self.care_of4.to_bits().wrapping_add(offset))
    }

    /// IPv6 home address (or RCoA) of mobile `i`.
    #[inline]
    pub fn home6(&self, i: u32) -> Ipv6Addr {
        Ipv6Addr::from_bits(self.home6.to_bits().wrapping_add(u128::from(i)))
    }

    /// IPv6 care-of address (or LCoA) `which` (0 or 1) of mobile `i`.
    #[inline]
    pub fn care_of6(&self, i: u32, which: u32) -> Ipv6Addr {
        let offset = u128::from(i) + u128::from(which) * u128::from(self.mobiles);
        Ipv6Addr::from_bits(self.care_of6.to_bits().wrapping_add(offset << 64))
    }

    /// The mobile whose IPv4 home address `a` is, if any.
    #[inline]
    pub fn mobile_of_home4(&self, a: Ipv4Addr) -> Option<u32> {
        let i = a.to_bits().wrapping_sub(self.home4.to_bits());
        (i < self.mobiles).then_some(i)
    }

    /// The mobile whose IPv6 home address `a` is, if any.
    #[inline]
    pub fn mobile_of_home6(&self, a: Ipv6Addr) -> Option<u32> {
        let i = a.to_bits().wrapping_sub(self.home6.to_bits());
        (i < u128::from(self.mobiles)).then_some(i as u32)
    }

    /// Which care-of address (0 or 1) of mobile `i` the IPv4 address `a` is, if either.
    #[inline]
    pub fn which_care_of4(&self, i: u32, a: Ipv4Addr) -> Option<u32> {
        (0..2).find(|w| self.care_of4(i, *w) == a)
    }

    /// Which care-of address (0 or 1) of mobile `i` the IPv6 address `a` is, if either.
    #[inline]
    pub fn which_care_of6(&self, i: u32, a: Ipv6Addr) -> Option<u32> {
        (0..2).find(|w| self.care_of6(i, *w) == a)
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A multiplier coprime with `n`, far from 1, so that `s × m mod n` is a permutation of
/// `0..n` without locality.
fn multiplier(n: u64) -> u64 {
    let mut m = (2_654_435_761u64 % n.max(1)).max(1);
    while n > 1 && gcd(m, n) != 1 {
        m += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_mobile_is_visited_once_per_n_packets() {
        for n in [1u32, 2, 7, 1000, 4096, 65_537] {
            let plan = AddressPlan::new(n);
            let mut seen = vec![false; n as usize];
            for s in 0..u64::from(n) {
                let i = plan.mobile_of(s + u64::from(n) * 3);
                assert!(!seen[i as usize], "n {n}: mobile {i} twice");
                seen[i as usize] = true;
            }
        }
    }

    #[test]
    fn ten_million_mobiles_fit_the_default_plan() {
        let plan = AddressPlan::new(10_000_000);
        plan.check().unwrap();
        assert_eq!(plan.home4(9_999_999), Ipv4Addr::new(10, 152, 150, 127));
        assert_eq!(plan.care_of4(0, 1), Ipv4Addr::new(100, 216, 150, 128));
        assert_eq!(plan.mobile_of_home4(plan.home4(1234)), Some(1234));
        assert_eq!(plan.mobile_of_home4(plan.home4(10_000_000)), None);
    }

    #[test]
    fn plans_that_run_off_the_address_space_are_refused() {
        let mut plan = AddressPlan::new(16);
        plan.home4 = Ipv4Addr::new(255, 255, 255, 200);
        assert!(matches!(
            plan.check(),
            Err(PlanError::Overflow {
                key: "home-base",
                ..
            })
        ));
        assert_eq!(AddressPlan::new(0).check(), Err(PlanError::Mobiles(0)));
        assert!(AddressPlan::new(MAX_MOBILES + 1).check().is_err());
    }

    proptest! {
        #[test]
        fn addresses_map_back_to_their_mobile(n in 1u32..=MAX_MOBILES, i in any::<u32>()) {
            let plan = AddressPlan::new(n);
            let i = i % n;
            prop_assert_eq!(plan.mobile_of_home4(plan.home4(i)), Some(i));
            prop_assert_eq!(plan.mobile_of_home6(plan.home6(i)), Some(i));
            for w in 0..2 {
                prop_assert_eq!(plan.which_care_of4(i, plan.care_of4(i, w)), Some(w));
                prop_assert_eq!(plan.which_care_of6(i, plan.care_of6(i, w)), Some(w));
            }
        }
    }
}
