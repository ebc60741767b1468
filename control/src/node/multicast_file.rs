//! `node.multicast_file`: an MMA's static multicast-map entries in bulk, one per line, for
//! more of them than a TOML file is good for (as `node.bindings_file` does for bindings).
//! The file is read as a stream: once when the configuration is checked, once more when
//! the workers' tables are loaded, never held whole.
//!
//! ```text
//! # mobile        group, or new_mma=ADDR     [ipip|minimal|gre] [forward_for_s=N]
//! 2001:db8:100::1 ff0e::1:1
//! 2001:db8:100::2 new_mma=2001:db8:ff::2     forward_for_s=30
//! ```
//!
//! The fields are those of `[[multicast]]` (`mobile`, `group` or `new_mma`, `encap`,
//! `forward_for_s`) with the same defaults and checks; `#` starts a comment.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mipdp_dataplane::tables::{Encap, MulticastEntry};

use super::{bad, encap_of, read_lines, static_multicast, Bad};

/// The configuration key, in messages.
const KEY: &str = "node.multicast_file";

/// A checked multicast file, for the start-up to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MulticastFile {
    /// The file (a relative name in the configuration is resolved against its directory).
    pub path: PathBuf,
    /// The entries in it when it was checked.
    pub count: usize,
}

/// One entry of the file: the mobile's address, its entry, and with `forward_for_s` how
/// long after start it is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The mobile's home or care-of address (the key).
    pub mobile: IpAddr,
    /// Where its packets go.
    pub entry: MulticastEntry,
    /// `forward_for_s`: removed this long after start.
    pub remove_after: Option<Duration>,
}

/// Reads the multicast file at `path` and calls `each` with every entry in order, and its
/// line number. Returns
/// how many there were, or the first line that cannot be used (with its number) or why
/// the file cannot be read.
pub fn read(path: &Path, each: impl FnMut(usize, Line)) -> Result<usize, Bad> {
    read_lines(path, KEY, "multicast-map entries", parse_line, each)
}

/// One line: None when it holds only a comment or nothing. An error's key is the
/// field's (e.g. ` group`), to follow the line number.
fn parse_line(text: &str) -> Result<Option<Line>, Bad> {
    let text = text.split('#').next().unwrap_or("").trim();
    let mut fields = text.split_whitespace();
    let Some(mobile) = fields.next() else {
        return Ok(None);
    };
    let mobile: IpAddr = mobile
        .parse()
        .map_err(|_| bad(" mobile", format!("{mobile:?}"), "an IPv4 or IPv6 address"))?;
    let target = fields.next().ok_or_else(|| {
        bad(
            " group",
            "(missing)",
            "the mobile's multicast group, or new_mma=ADDR, after its address",
        )
    })?;
    let (group, new_mma) = match target.strip_prefix("new_mma=") {
        Some(a) => (
            None,
            Some(a.parse::<IpAddr>().map_err(|_| {
                bad(
                    " new_mma",
                    format!("{a:?}"),
                    "the new MMA's IPv4 or IPv6 address",
                )
            })?),
        ),
        None => (
            Some(target.parse::<IpAddr>().map_err(|_| {
                bad(
                    " group",
                    format!("{target:?}"),
                    "a multicast address, or new_mma=ADDR",
                )
            })?),
            None,
        ),
    };
    let (mut encap, mut forward_for_s) = (Encap::IpInIp, None);
    for field in fields {
        if let Some(v) = field.strip_prefix("forward_for_s=") {
            forward_for_s = Some(v.parse::<u64>().map_err(|_| {
                bad(
                    " forward_for_s",
                    format!("{v:?}"),
                    "a whole number of seconds",
                )
            })?);
        } else {
            encap = encap_of(" encap", field).map_err(|b| Bad {
                expected: format!("{} or forward_for_s=N", b.expected),
                ..b
            })?;
        }
    }
    let (entry, remove_after) = static_multicast(group, new_mma, forward_for_s, encap)
        .map_err(|(field, value, expected)| bad(format!(" {field}"), value, expected))?;
    Ok(Some(Line {
        mobile,
        entry,
        remove_after,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn all(text: &str) -> Result<Vec<Line>, Bad> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("multicast.txt");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        let n = read(&path, |_, l| out.push(l))?;
        assert_eq!(n, out.len());
        Ok(out)
    }

    #[test]
    fn lines_make_the_entries_a_multicast_section_would() {
        let got = all("# mobile group\n\n2001:db8:100::1 ff0e::1:1\n\
             2001:db8:100::2\tnew_mma=2001:db8:ff::2  forward_for_s=30 # moved\n\
             10.0.0.3 239.1.2.3 gre\n\
             2001:db8:100::4 new_mma=2001:db8:ff::4\n")
        .unwrap();
        let want = [
            Line {
                mobile: ip("2001:db8:100::1"),
                entry: MulticastEntry::to_group(ip("ff0e::1:1"), Encap::IpInIp).unwrap(),
                remove_after: None,
            },
            Line {
                mobile: ip("2001:db8:100::2"),
                entry: MulticastEntry::to_new_mma(ip("2001:db8:ff::2"), Encap::IpInIp),
                remove_after: Some(Duration::from_secs(30)),
            },
            Line {
                mobile: ip("10.0.0.3"),
                entry: MulticastEntry::to_group(ip("239.1.2.3"), Encap::Gre).unwrap(),
                remove_after: None,
            },
            Line {
                mobile: ip("2001:db8:100::4"),
                entry: MulticastEntry::to_new_mma(ip("2001:db8:ff::4"), Encap::IpInIp),
                remove_after: None,
            },
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number_and_field() {
        for (text, key, value) in [
            (
                "2001:db8::1 ff0e::1\nnowhere ff0e::1\n",
                "line 2 mobile",
                "\"nowhere\"",
            ),
            ("2001:db8::1\n", "line 1 group", "(missing)"),
            ("2001:db8::1 2001:db8::9\n", "line 1 group", "ff"),
            (
                "2001:db8::1 ff0e::1 forward_for_s=30\n",
                "line 1 forward_for_s",
                "30",
            ),
            ("2001:db8::1 new_mma=x\n", "line 1 new_mma", "\"x\""),
            ("2001:db8::1 ff0e::1 udp\n", "line 1 encap", "udp"),
            (
                "2001:db8::1 ff0e::1 forward_for_s=-1\n",
                "line 1 forward_for_s",
                "-1",
            ),
        ] {
            let e = all(text).unwrap_err();
            assert_eq!(e.key, format!("{KEY} {key}"), "{text}: {e:?}");
            if value != "ff" {
                assert!(e.value.contains(value), "{text}: {e:?}");
            } else {
                assert!(e.expected.contains("multicast address"), "{text}: {e:?}");
            }
        }
    }

    proptest::proptest! {
        /// Any line, however mangled, gives an entry, nothing, or an error: no panic. And
        /// a written entry reads back as itself.
        #[test]
        fn any_line_parses_or_is_refused(
            text in "[ -~\t]{0,80}",
            mobile in proptest::prelude::any::<std::net::Ipv6Addr>(),
            group in proptest::prelude::any::<[u8; 14]>(),
            encap in 0usize..3,
        ) {
            let _ = parse_line(&text);
            let mut g = [0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            g[2..].copy_from_slice(&group);
            let group = IpAddr::from(g);
            let encap = Encap::ALL[encap];
            let line = format!("{mobile} {group} {}", encap.name());
            let want = Line {
                mobile: IpAddr::V6(mobile),
                entry: MulticastEntry::to_group(group, encap).unwrap(),
                remove_after: None,
            };
            proptest::prop_assert_eq!(parse_line(&line).unwrap(), Some(want));
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = read(Path::new("/nonexistent/multicast.txt"), |_, _| {}).unwrap_err();
        assert_eq!(e.key, KEY);
        assert!(e.value.contains("/nonexistent/multicast.txt"), "{e:?}");
    }
}
