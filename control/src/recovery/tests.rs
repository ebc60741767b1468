use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::order::{care_of_prefix, work_order};
use crate::state::bindings::Expiry;

type Restored = RestoredBinding;
use super::*;

const LENGTHS: PrefixLengths = PrefixLengths { v4: 24, v6: 64 };

fn settings(rate: u32, burst: u32, timeout_ms: u64, retries: u32) -> RecoverySettings {
    RecoverySection {
        rate,
        burst,
        timeout_ms,
        retries,
        ..RecoverySection::default()
    }
    .check()
    .unwrap()
}

/// Home address `2001:db8:1::<i>`, care-of in the /64 number `net` of 2001:db8:100::/48.
fn mip6(i: u16, net: u16) -> Restored {
    RestoredBinding {
        role: Role::HomeAgent,
        home: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, i)),
        care_of: Some(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0x100, net, 0, 0, 0, i,
        ))),
        expires: Expiry::Never,
    }
}

fn key(r: &Restored) -> Key {
    (r.role, r.home)
}

fn net_of(care_of: IpAddr) -> IpAddr {
    care_of_prefix(care_of, LENGTHS)
}

fn requests(actions: &[Action]) -> Vec<Key> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Request { key, .. } => Some(*key),
            Action::Remove(_) => None,
        })
        .collect()
}

#[test]
fn care_of_prefix_masks_to_the_configured_length_per_family() {
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 3, 4, 5, 6));
    assert_eq!(
        care_of_prefix(v4, LENGTHS),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0))
    );
    assert_eq!(
        care_of_prefix(v6, LENGTHS),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0))
    );
    let all = PrefixLengths { v4: 32, v6: 128 };
    assert_eq!(care_of_prefix(v4, all), v4);
    assert_eq!(care_of_prefix(v6, all), v6);
    let none = PrefixLengths { v4: 0, v6: 0 };
    assert_eq!(care_of_prefix(v4, none), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(care_of_prefix(v6, none), IpAddr::V6(Ipv6Addr::UNSPECIFIED));
}

#[test]
fn consecutive_requests_alternate_between_care_of_prefixes() {
    // Three access networks of 20 mobiles, listed network by network (the worst order).
    let restored: Vec<Restored> = (0..60).map(|i| mip6(i, i / 20)).collect();
    let mut r = Recovery::new(&restored, settings(1000, 1000, 1000, 0), 7);
    let mut actions = Vec::new();
    r.poll(Instant::now(), &mut actions);
    let asked = requests(&actions);
    assert_eq!(asked.len(), 60);
    let net = |k: &Key| {
        let r = restored.iter().find(|r| key(r) == *k).unwrap();
        net_of(r.care_of.unwrap())
    };
    for pair in asked.windows(2) {
        assert_ne!(net(&pair[0]), net(&pair[1]), "{pair:?}");
    }
    // Round robin: every three requests cover the three networks.
    for chunk in asked.chunks(3) {
        let mut nets: Vec<IpAddr> = chunk.iter().map(net).collect();
        nets.sort();
        nets.dedup();
        assert_eq!(nets.len(), 3);
    }
    let mut sorted = asked.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 60, "each binding asked once");
}

#[test]
fn the_order_inside_a_group_depends_on_the_seed() {
    let care_of: Vec<Option<IpAddr>> = (0..50).map(|i| mip6(i, 0).care_of).collect();
    let a = work_order(&care_of, LENGTHS, 1);
    let b = work_order(&care_of, LENGTHS, 2);
    assert_ne!(a, b);
    assert_ne!(a, (0..50).collect::<Vec<_>>(), "shuffled, not as listed");
    assert_eq!(
        a,
        work_order(&care_of, LENGTHS, 1),
        "the same seed, the same order"
    );
}

/// Requests sent over `seconds` simulated seconds with a tick every `tick`.
fn count_over(rate: u32, burst: u32, tick: Duration, seconds: u64) -> usize {
    let restored: Vec<Restored> = (0..20_000u32)
        .map(|i| mip6(i as u16, (i % 7) as u16))
        .collect();
    // A long timeout: no retry within the window.
    let mut r = Recovery::new(&restored, settings(rate, burst, 3_600_000, 0), 1);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut actions = Vec::new();
    let mut now = start;
    while now < end {
        r.poll(now, &mut actions);
        now += tick;
    }
    requests(&actions).len()
}

#[test]
fn the_pacer_sends_the_configured_rate_over_ten_seconds() {
    for (rate, burst) in [(100, 10), (50, 1), (1000, 20)] {
        let n = count_over(rate, burst, Duration::from_millis(1), 10) as f64;
        let expected = f64::from(rate) * 10.0;
        assert!(
            (n - expected).abs() <= expected * 0.05,
            "rate {rate} burst {burst}: {n} requests in 10 s, expected {expected} ± 5 %"
        );
    }
}

#[test]
fn a_burst_leaves_at_once_then_the_rate_holds() {
    let restored: Vec<Restored> = (0..100).map(|i| mip6(i, i % 4)).collect();
    let mut r = Recovery::new(&restored, settings(10, 5, 3_600_000, 0), 1);
    let t0 = Instant::now();
    let mut actions = Vec::new();
    r.poll(t0, &mut actions);
    assert_eq!(actions.len(), 5, "the burst");
    actions.clear();
    r.poll(t0 + Duration::from_millis(50), &mut actions);
    assert!(actions.is_empty(), "no token after 50 ms at 10/s");
    r.poll(t0 + Duration::from_millis(100), &mut actions);
    assert_eq!(actions.len(), 1);
}

#[test]
fn an_unanswered_request_is_retried_then_the_binding_is_removed() {
    let b = mip6(1, 0);
    let mut r = Recovery::new(std::slice::from_ref(&b), settings(100, 10, 1000, 2), 1);
    let t0 = Instant::now();
    let mut actions = Vec::new();
    let mut at = |ms: u64, r: &mut Recovery| {
        actions.clear();
        r.poll(t0 + Duration::from_millis(ms), &mut actions);
        actions.clone()
    };
    let k = key(&b);
    assert_eq!(at(0, &mut r), [Action::Request { key: k, attempt: 1 }]);
    assert_eq!(at(999, &mut r), []);
    assert_eq!(at(1000, &mut r), [Action::Request { key: k, attempt: 2 }]);
    assert_eq!(at(2000, &mut r), [Action::Request { key: k, attempt: 3 }]);
    assert!(r.is_pending(k));
    assert_eq!(r.progress(t0).pending, 1);
    assert_eq!(at(3000, &mut r), [Action::Remove(k)]);
    assert_eq!(at(9000, &mut r), []);
    let p = r.progress(t0 + Duration::from_secs(9));
    assert_eq!((p.removed, p.pending, p.verified, p.requests), (1, 0, 0, 3));
    assert!(r.done());
    assert!(
        !r.confirm(k),
        "a late answer does not make a removed binding verified"
    );
}

#[test]
fn a_finished_recovery_releases_its_table_and_keeps_its_counts() {
    let list: Vec<Restored> = (0..3).map(|i| mip6(i, i)).collect();
    let mut r = Recovery::new(&list, settings(100, 10, 1000, 0), 1);
    r.release();
    assert!(r.is_pending(key(&list[0])), "not before it is done");
    for b in &list {
        r.confirm(key(b));
    }
    r.release();
    let t = Instant::now();
    assert_eq!((r.progress(t).verified, r.progress(t).pending), (3, 0));
    assert!(!r.confirm(key(&list[0])));
    let mut actions = Vec::new();
    r.poll(t, &mut actions);
    assert!(actions.is_empty());
}

#[test]
fn with_no_retries_the_first_timeout_removes() {
    let b = mip6(1, 0);
    let mut r = Recovery::new(std::slice::from_ref(&b), settings(100, 10, 500, 0), 1);
    let t0 = Instant::now();
    let mut actions = Vec::new();
    r.poll(t0, &mut actions);
    r.poll(t0 + Duration::from_millis(500), &mut actions);
    assert_eq!(
        actions,
        [
            Action::Request {
                key: key(&b),
                attempt: 1
            },
            Action::Remove(key(&b))
        ]
    );
}

#[test]
fn a_binding_update_confirms_and_stops_the_retries() {
    let (a, b) = (mip6(1, 0), mip6(2, 1));
    let mut r = Recovery::new(&[a.clone(), b.clone()], settings(100, 10, 1000, 1), 1);
    let t0 = Instant::now();
    let mut actions = Vec::new();
    r.poll(t0, &mut actions);
    assert_eq!(requests(&actions).len(), 2);
    assert!(r.confirm(key(&a)));
    assert!(!r.confirm(key(&a)), "counted once");
    actions.clear();
    for s in 1..10 {
        r.poll(t0 + Duration::from_secs(s), &mut actions);
    }
    // Only the silent one is retried, then removed.
    assert_eq!(
        actions,
        [
            Action::Request {
                key: key(&b),
                attempt: 2
            },
            Action::Remove(key(&b))
        ]
    );
    let p = r.progress(t0 + Duration::from_secs(10));
    assert_eq!((p.total, p.verified, p.removed, p.pending), (2, 1, 1, 0));
}

#[test]
fn a_binding_confirmed_before_its_turn_is_not_asked_and_takes_no_token() {
    let list: Vec<Restored> = (0..3).map(|i| mip6(i, i)).collect();
    let mut r = Recovery::new(&list, settings(1, 1, 1000, 0), 1);
    for b in &list[1..] {
        assert!(r.confirm(key(b)));
    }
    let t0 = Instant::now();
    let mut actions = Vec::new();
    r.poll(t0, &mut actions);
    assert_eq!(
        actions,
        [Action::Request {
            key: key(&list[0]),
            attempt: 1
        }]
    );
    assert_eq!(r.progress(t0).verified, 2);
}

#[test]
fn mobile_ipv4_bindings_are_sent_nothing_and_counted_unverified() {
    let v4 = |role, last| RestoredBinding {
        role,
        home: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
        care_of: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))),
        expires: Expiry::Never,
    };
    let list = [
        v4(Role::HomeAgent, 1),
        v4(Role::ForeignAgent, 2),
        mip6(3, 0),
    ];
    let mut r = Recovery::new(&list, RecoverySettings::default(), 1);
    let t0 = Instant::now();
    let mut actions = Vec::new();
    r.poll(t0, &mut actions);
    assert_eq!(requests(&actions), [key(&list[2])]);
    let p = r.progress(t0);
    assert_eq!((p.total, p.unverified, p.pending), (3, 2, 1));
    assert!(!r.is_pending(key(&list[0])));
    assert!(!r.confirm(key(&list[0])));
    assert!(r.confirm(key(&list[2])));
    assert!(r.done());
}

#[test]
fn every_verified_role_gets_a_refresh_request() {
    let home = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1));
    for role in [
        Role::HomeAgent,
        Role::MobilityAnchorPoint,
        Role::MulticastAgent,
        Role::Correspondent,
    ] {
        assert_eq!(verification(role, home), Verification::RefreshRequest);
    }
    assert_eq!(
        verification(Role::ForeignAgent, home),
        Verification::Unverifiable
    );
}

#[test]
fn an_ended_binding_is_no_longer_asked() {
    let list: Vec<Restored> = (0..2).map(|i| mip6(i, i)).collect();
    let mut r = Recovery::new(&list, settings(100, 10, 1000, 0), 1);
    assert!(r.end(key(&list[0])));
    let mut actions = Vec::new();
    r.poll(Instant::now(), &mut actions);
    assert_eq!(requests(&actions), [key(&list[1])]);
    assert_eq!(r.progress(Instant::now()).ended, 1);
}

#[test]
fn a_duplicate_restored_binding_is_counted_once() {
    let list = [mip6(1, 0), mip6(1, 0)];
    let r = Recovery::new(&list, RecoverySettings::default(), 1);
    assert_eq!(r.progress(Instant::now()).total, 1);
}

#[test]
fn the_rate_shown_is_the_last_second_of_requests() {
    let list: Vec<Restored> = (0..1000).map(|i| mip6(i, i % 5)).collect();
    let mut r = Recovery::new(&list, settings(200, 1, 3_600_000, 0), 1);
    let t0 = Instant::now();
    let mut actions = Vec::new();
    for ms in 0..3000 {
        r.poll(t0 + Duration::from_millis(ms), &mut actions);
    }
    let rate = r.progress(t0 + Duration::from_millis(2999)).rate;
    assert!((190.0..=210.0).contains(&rate), "{rate}");
    assert_eq!(r.progress(t0 + Duration::from_secs(10)).rate, 0.0);
}

#[test]
fn progress_text_and_bar_show_the_counts() {
    let p = Progress {
        total: 10,
        verified: 4,
        pending: 5,
        removed: 1,
        rate: 99.96,
        requests: 12,
        ..Progress::default()
    };
    assert_eq!(
        p.to_string(),
        "recovery total=10 verified=4 pending=5 removed=1 unverified=0 ended=0 requests=12 rate=100.0/s"
    );
    assert_eq!(
        progress_bar(&p, 10),
        "[#####-----]  50% verified=4 pending=5 removed=1 unverified=0 100/s"
    );
    let done = Progress {
        pending: 0,
        verified: 9,
        ..p
    };
    assert!(done.to_string().ends_with(" done"));
    assert!(progress_bar(&Progress::default(), 4).starts_with("[####] 100%"));
}

#[test]
fn recovery_settings_errors_name_the_key() {
    let cases: [(RecoverySection, &str); 6] = [
        (
            RecoverySection {
                rate: 0,
                ..Default::default()
            },
            "recovery.rate",
        ),
        (
            RecoverySection {
                burst: 0,
                ..Default::default()
            },
            "recovery.burst",
        ),
        (
            RecoverySection {
                timeout_ms: 0,
                ..Default::default()
            },
            "recovery.timeout_ms",
        ),
        (
            RecoverySection {
                retries: 1000,
                ..Default::default()
            },
            "recovery.retries",
        ),
        (
            RecoverySection {
                prefix_length_v4: 33,
                ..Default::default()
            },
            "recovery.prefix_length_v4",
        ),
        (
            RecoverySection {
                prefix_length_v6: 129,
                ..Default::default()
            },
            "recovery.prefix_length_v6",
        ),
    ];
    for (section, name) in cases {
        assert_eq!(section.check().unwrap_err().key, name);
    }
    assert_eq!(
        RecoverySection::default().check().unwrap(),
        RecoverySettings::default()
    );
}

proptest! {
    /// The order is a permutation, and two consecutive bindings share a care-of prefix
    /// only once every other access network has run out.
    #[test]
    fn the_order_interleaves_the_groups(
        nets in proptest::collection::vec(0u8..6, 0..200),
        seed in any::<u64>(),
    ) {
        let care_of: Vec<Option<IpAddr>> = nets
            .iter()
            .enumerate()
            .map(|(i, n)| Some(IpAddr::V4(Ipv4Addr::new(10, *n, (i / 256) as u8, i as u8))))
            .collect();
        let order = work_order(&care_of, LENGTHS, seed);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..care_of.len()).collect::<Vec<_>>());
        let net = |i: usize| nets[i];
        for (at, pair) in order.windows(2).enumerate() {
            if net(pair[0]) == net(pair[1]) {
                prop_assert!(order[at..].iter().all(|i| net(*i) == net(pair[0])));
            }
        }
    }

    /// Whatever the tick, so long as it is shorter than a burst lasts, 10 s carry the
    /// configured rate ± 5 %.
    #[test]
    fn the_pacer_holds_its_rate_whatever_the_tick(
        rate in 20u32..2000,
        tick_us in 100u64..5000,
    ) {
        // A burst of at least two ticks' worth, so that no token is lost to the cap.
        let burst = ((u64::from(rate) * tick_us * 2) / 1_000_000).max(1) as u32;
        let n = count_over(rate, burst, Duration::from_micros(tick_us), 10) as f64;
        let expected = f64::from(rate) * 10.0;
        prop_assert!((n - expected).abs() <= expected * 0.05, "{} vs {}", n, expected);
    }

    /// Exactly the mobiles that answer (within a request's timeout) end verified and
    /// exactly the silent ones removed; the counts add up.
    #[test]
    fn exactly_the_silent_bindings_are_removed(
        answers in proptest::collection::vec(proptest::option::of(0u64..1000), 1..40),
        retries in 0u32..3,
    ) {
        let list: Vec<Restored> =
            (0..answers.len()).map(|i| mip6(i as u16, (i % 3) as u16)).collect();
        let mut r = Recovery::new(&list, settings(50, 5, 1000, retries), 3);
        let t0 = Instant::now();
        let mut actions = Vec::new();
        // When each mobile answers: `delay` after its first request.
        let mut answer_at: Vec<Option<u64>> = vec![None; list.len()];
        for ms in (0..20_000u64).step_by(10) {
            for (i, at) in answer_at.iter().enumerate() {
                if at.is_some_and(|at| at <= ms) {
                    r.confirm(key(&list[i]));
                }
            }
            let from = actions.len();
            r.poll(t0 + Duration::from_millis(ms), &mut actions);
            for act in &actions[from..] {
                if let Action::Request { key: k, attempt: 1 } = act {
                    let i = list.iter().position(|b| key(b) == *k).unwrap();
                    answer_at[i] = answers[i].map(|d| ms + d);
                }
            }
        }
        let p = r.progress(t0);
        prop_assert!(p.done());
        prop_assert_eq!(p.verified + p.removed, p.total);
        let mut removed: Vec<Key> = actions.iter().filter_map(|a| match a {
            Action::Remove(k) => Some(*k),
            Action::Request { .. } => None,
        }).collect();
        removed.sort();
        let mut silent: Vec<Key> = list
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.is_none())
            .map(|(b, _)| key(b))
            .collect();
        silent.sort();
        prop_assert_eq!(removed, silent);
        // Each silent mobile was asked 1 + retries times.
        let silent_requests = actions.iter().filter(|a| matches!(a,
            Action::Request { key: k, .. } if answers[list.iter().position(|b| key(b) == *k).unwrap()].is_none()
        )).count() as u64;
        prop_assert_eq!(silent_requests, p.removed * u64::from(retries + 1));
    }
}
