#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The mobility engine's per-packet cost (`Engine::process`) on the traffic and tables of
//! `perf/mobility.sh` (see `mipdp_perf::scenario`): the home agent with 1k and 1M bindings,
//! the MAP's decapsulation and re-encapsulation, and the home agent with 10k TOS-marking
//! profiles. The tables come from the same configuration text mipdp would load
//! (`Config::parse` → plan → every update applied), the packets from the same template list
//! (2^20 frames, cycled). The `_search` cases run the home agent's packets with the
//! direct path off, through the profile search.
//!
//! Like the `mipdp` binary, the bench allocates with mimalloc, so the tables sit in memory
//! as they do in mipdp.
//!
//! Each iteration resets one in-memory buffer (headroom back to 128 bytes), copies the next
//! template into it (what the `rx_template_pcap` RX wrapper does) and processes it;
//! `template_copy_only` measures that bookkeeping alone, to subtract. No NIC, no burst:
//! compare the figures with each other, not with the end-to-end Mpps.
//!
//!     cargo bench -p mipdp-perf --bench engine [-- FILTER]

use std::sync::Arc;

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use mipdp_dataplane::engine::Engine;
use mipdp_dataplane::port::memory::{MemPacket, MemPool, HEADROOM};
use mipdp_dataplane::port::template::{overwrite, Templates};
use mipdp_dataplane::{Action, PacketBuf, Processor};
use mipdp_perf::scenario::{Kind, Method, Scenario};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FRAMES: usize = 1 << 20;

fn templates(s: &Scenario) -> Arc<Templates> {
    let frames: Vec<Vec<u8>> = (0..FRAMES).map(|j| s.frame(j)).collect();
    Arc::new(Templates::new(frames.iter().map(Vec::as_slice)).expect("templates"))
}

/// Puts the buffer's data back at the default headroom (the engine moved it).
#[inline]
fn reset(p: &mut MemPacket) {
    let h = p.headroom();
    let r = if h > HEADROOM {
        p.prepend(h - HEADROOM).map(|_| ())
    } else {
        let n = (HEADROOM - h).min(p.data().len());
        p.adj(n)
    };
    debug_assert!(r.is_ok());
}

fn cases() -> Vec<(&'static str, Scenario)> {
    let s = |kind, bindings, profiles| Scenario {
        kind,
        bindings,
        profiles,
        inner_size: 64,
        method: Method::default(),
        storm: None,
    };
    vec![
        ("ha_1k", s(Kind::Ha, 1000, 0)),
        ("ha_1M", s(Kind::Ha, 1_000_000, 0)),
        ("map_1k", s(Kind::Map, 1000, 0)),
        ("tos_10k_profiles", s(Kind::Tos, 1000, 10_000)),
        // The home agent's packets through the profile search, the direct path off
        // (`Tables::set_direct(false)`): what the direct path saves.
        ("ha_1k_search", s(Kind::Ha, 1000, 0)),
        ("ha_1M_search", s(Kind::Ha, 1_000_000, 0)),
    ]
}

/// What one case needs, built on first use: a case with 1M bindings takes seconds to
/// build, and criterion only runs the cases its name filter selects.
struct Case {
    engine: Engine,
    templates: Arc<Templates>,
    packet: MemPacket,
    next: usize,
}

impl Case {
    fn new(name: &str, s: &Scenario, pool: &MemPool) -> Case {
        let templates = templates(s);
        let mut engine = s.engine();
        engine.tables_mut().set_direct(!name.ends_with("_search"));
        let mut packet = pool.packet(templates.frame(0)).expect("a buffer");
        // Every template takes the path measured (checked once, outside the timing).
        for j in 0..templates.len().min(1 << 16) {
            reset(&mut packet);
            overwrite(&mut packet, templates.frame(j));
            let action = engine.process(0, &mut packet);
            assert_eq!(action, Action::Forward(1), "{name} frame {j}");
        }
        Case {
            engine,
            templates,
            packet,
            next: 0,
        }
    }

    /// Resets the buffer and copies the next template into it.
    #[inline]
    fn load_next(&mut self) {
        reset(&mut self.packet);
        overwrite(&mut self.packet, self.templates.frame(self.next));
        self.next += 1;
        if self.next == self.templates.len() {
            self.next = 0;
        }
    }
}

fn engine_process(c: &mut Criterion) {
    let pool = MemPool::new(8);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    for (name, s) in cases() {
        let mut case: Option<Case> = None;
        g.bench_function(BenchmarkId::new("process", name), |b| {
            let case = case.get_or_insert_with(|| Case::new(name, &s, &pool));
            b.iter(|| {
                case.load_next();
                case.engine.process(0, &mut case.packet)
            })
        });
    }
    let mut case: Option<Case> = None;
    g.bench_function("template_copy_only", |b| {
        let case = case.get_or_insert_with(|| Case::new("ha_1k", &cases()[0].1, &pool));
        b.iter(|| {
            case.load_next();
            case.packet.data()[0]
        })
    });
    g.finish();
}

criterion_group!(benches, engine_process);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
