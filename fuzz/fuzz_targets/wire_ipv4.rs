#![no_main]
//! Every IPv4-side parser on arbitrary bytes: none may panic or read past the input.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ipv4::{Ipv4Packet, Ipv4Repr};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Ipv4Packet::new_checked(data) {
        let _ = Ipv4Repr::parse(&p, ChecksumMode::Verify);
        let _ = Ipv4Repr::parse(&p, ChecksumMode::Ignore);
    }
});
