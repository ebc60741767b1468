//! mipdp-perf: criterion benches of the hot functions (`benches/`) and the side-by-side
//! comparison harnesses (`forwarder.sh`, `mobility.sh`), whose results go to RESULTS.md.
//! Benchmarks live here and never as timed assertions in tests.
//!
//! [`scenario`] is the traffic and the tables of the mobility benchmarks, shared by the
//! `mobility-gen` program and the engine bench.

pub mod scenario;
