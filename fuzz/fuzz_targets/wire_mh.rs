#![no_main]
//! The IPv6 Mobility Header (RFC 6275 §6.1) on arbitrary bytes: the view with the getters
//! of its message type and the two authenticator layouts, every MH message through
//! `MhRepr::parse` (as it is with `Verify` and `Ignore`, and with the checksum filled in),
//! the mobility option iterator and `MobilityOptionsRepr` on raw bytes. Every parsed
//! message, option and option set must emit and parse back to itself.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::mh::{message_type, options_offset, MhRepr, MobilityHeader};
use mipdp_dataplane::wire::mh_options::{MobilityOptionsIter, MobilityOptionsRepr};
use mipdp_dataplane::wire::Error;
use std::net::Ipv6Addr;

const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);

fuzz_target!(|data: &[u8]| {
    header(data);
    options(data);
    if let Some((&start, rest)) = data.split_first() {
        option_set(rest, usize::from(start % 32));
    }
});

fn header(data: &[u8]) {
    let Ok(header) = MobilityHeader::new_checked(data) else {
        return;
    };
    getters(&header);
    let len = header.header_len();
    assert!(len <= data.len());
    assert!(
        header.iter_options().all(|o| o.is_ok()),
        "check_len checked them"
    );
    for layout in [
        header.binding_authorization_layout(),
        header.message_authentication_layout(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(layout.covered.end <= len);
        assert!(layout.authenticator.start <= layout.authenticator.end);
        assert!(layout.authenticator.end <= len);
        assert!(layout.after.start <= layout.after.end && layout.after.end <= len);
    }

    let ignored = MhRepr::parse(&SRC, &DST, &header, ChecksumMode::Ignore);
    let verified = MhRepr::parse(&SRC, &DST, &header, ChecksumMode::Verify);
    if verified.is_ok() {
        assert_eq!(verified, ignored);
    }
    if ignored.is_err() {
        assert!(verified.is_err());
    }

    let mut fixed = data.to_vec();
    MobilityHeader::new_unchecked(&mut fixed[..]).fill_checksum(&SRC, &DST);
    let fixed_header = MobilityHeader::new_checked(&fixed[..]).expect("same bytes still check");
    assert!(fixed_header.verify_checksum(&SRC, &DST));
    let fixed_repr = MhRepr::parse(&SRC, &DST, &fixed_header, ChecksumMode::Verify);
    assert_eq!(fixed_repr.err(), ignored.err(), "only the checksum changed");

    let Ok(repr) = ignored else {
        return;
    };
    assert_eq!(repr.mh_type(), header.mh_type());
    let mut buf = vec![0u8; repr.header_len()];
    match repr.emit(&SRC, &DST, &mut MobilityHeader::new_unchecked(&mut buf[..])) {
        Ok(()) => {}
        // Emission re-aligns the options; options packed with no padding can then
        // outgrow the 2048 bytes Header Len can say (documented).
        Err(Error::Oversized) => {
            assert!(repr.header_len() > 2048);
            return;
        }
        Err(e) => panic!("a parsed message failed to emit: {e:?}"),
    }
    let again = MobilityHeader::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(
        MhRepr::parse(&SRC, &DST, &again, ChecksumMode::Verify),
        Ok(repr)
    );
}

/// Every getter that applies to the header's MH Type.
fn getters(header: &MobilityHeader<&[u8]>) {
    use message_type::*;
    let _ = (
        header.payload_proto(),
        header.reserved(),
        header.checksum(),
        header.message_data(),
        header.options(),
    );
    match header.mh_type() {
        HOME_TEST_INIT | CARE_OF_TEST_INIT => {
            let _ = header.init_cookie();
        }
        HOME_TEST | CARE_OF_TEST => {
            let _ = (
                header.nonce_index(),
                header.test_cookie(),
                header.keygen_token(),
            );
        }
        BINDING_UPDATE => {
            let _ = (
                header.bu_sequence(),
                header.bu_flags(),
                header.bu_lifetime(),
            );
        }
        BINDING_ACKNOWLEDGEMENT => {
            let _ = (
                header.ba_status(),
                header.ba_key_management_mobility_capability(),
                header.ba_sequence(),
                header.ba_lifetime(),
            );
        }
        BINDING_ERROR => {
            let _ = (header.be_status(), header.be_home_address());
        }
        t => {
            if options_offset(t).is_none() {
                assert!(header.options().is_empty());
            }
        }
    }
}

/// Each option alone: emit it and read it back.
fn options(data: &[u8]) {
    let mut iter = MobilityOptionsIter::new(data);
    loop {
        let at = iter.offset();
        let Some(item) = iter.next() else {
            break;
        };
        let Ok(option) = item else {
            break;
        };
        assert!(at + option.buffer_len() <= data.len());
        assert_eq!(iter.offset(), at + option.buffer_len());
        let _ = option.alignment();
        let mut buf = vec![0u8; option.buffer_len()];
        assert_eq!(option.emit(&mut buf), Ok(buf.len()));
        assert_eq!(MobilityOptionsIter::new(&buf).next(), Some(Ok(option)));
    }
}

/// An option area: parse, emit at `start` with alignment and padding, parse again.
fn option_set(data: &[u8], start: usize) {
    let Ok(repr) = MobilityOptionsRepr::parse(data) else {
        return;
    };
    let end = repr.end(start);
    assert!(end >= start && end % 8 == 0);
    let mut buf = vec![0u8; end];
    assert_eq!(repr.emit(&mut buf, start), Ok(end));
    let area = &buf[start..end];
    assert!(MobilityOptionsIter::new(area).all(|o| o.is_ok()));
    assert_eq!(MobilityOptionsRepr::parse(area), Ok(repr));
}
