//! Nothing on the mobility per-packet path allocates: every workload's frames written in
//! place (HMAC-MD5 and HMAC-SHA1 included), classified on receipt and counted, watched by
//! a counting global allocator. The counter is process-wide, so this file runs without the
//! test harness (`harness = false`): no other thread can allocate while it counts.

use mipdp_dpdk::alloc_count::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

fn main() {
    use mipdp_pktgen::mobility::{
        AddressPlan, Expectation, Family, Keys, MobilityCounts, Sizes, Tunnel, Workload,
        WorkloadKind,
    };
    let kinds = [
        (WorkloadKind::CnToHome, Family::V4),
        (WorkloadKind::CnToHome, Family::V6),
        (WorkloadKind::Encapsulated, Family::V6),
        (WorkloadKind::Mip4Storm, Family::V4),
        (WorkloadKind::Mip6Storm, Family::V4),
        (WorkloadKind::Handover, Family::V4),
        (WorkloadKind::Malformed, Family::V4),
    ];
    let mut workloads: Vec<(Workload, Expectation)> = kinds
        .iter()
        .map(|(kind, family)| {
            let mut w = Workload::new(*kind, AddressPlan::new(10_000_000), Keys::Seed(3));
            w.family = *family;
            w.sizes = Sizes::Imix;
            w.send_tunnel = Tunnel::Gre;
            w.handover_every = 7;
            w.malformed_per_mille = 300;
            w.check().unwrap();
            let e = Expectation::for_workload(&w);
            (w, e)
        })
        .collect();
    let mut counts = MobilityCounts::default();
    let mut frame = vec![0u8; 2048];
    let before = GLOBAL.allocations();
    for (w, e) in workloads.iter_mut() {
        for s in 0..20_000u64 {
            let len = w.frame_len(s);
            let kind = w.write(&mut frame[..len], s, s * 10).unwrap();
            counts.sent(kind);
            let r = e.classify(&frame[..len]);
            counts.received(&r);
        }
    }
    let during = GLOBAL.allocations() - before;
    assert!(counts.data > 0 && counts.requests > 0);
    assert!(counts.malformed.iter().all(|n| *n > 0));
    assert_eq!(during, 0, "allocations on the mobility per-packet path");
}
