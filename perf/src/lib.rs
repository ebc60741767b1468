//! mipdp-perf: criterion benches of the hot functions (`benches/`) and the side-by-side
//! comparison harness (`forwarder.sh`, later the full harness), whose results go to
//! RESULTS.md. Benchmarks live here and never as timed assertions in tests.
