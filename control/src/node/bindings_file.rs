//! `node.bindings_file`: static bindings in bulk, one per line, for more of them than a
//! TOML file is good for (a `[[binding]]` section costs its parse tree; ten million of
//! them do not fit in memory). The file is read as a stream: once when the configuration
//! is checked, once more when the workers' tables are loaded, never held whole.
//!
//! ```text
//! # home          care-of[,care-of...]   [ipip|minimal|gre] [source=ADDR] [tos=N]
//! 10.0.0.1        100.64.0.1
//! 10.0.0.2        100.64.0.2,100.64.9.2  gre tos=0xb8
//! 2001:db8:100::1 2001:db8:200::1
//! ```
//!
//! The fields are those of `[[binding]]` (`home`, `care_of`, `encap`, `source`, `tos`)
//! with the same defaults and checks; `#` starts a comment.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use mipdp_dataplane::tables::{Binding, Encap};

use super::{bad, encap_of, read_lines, static_binding, Bad};

/// The configuration key, in messages.
const KEY: &str = "node.bindings_file";

/// A checked bindings file, for the start-up to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingsFile {
    /// The file (a relative name in the configuration is resolved against its directory).
    pub path: PathBuf,
    /// The bindings in it when it was checked.
    pub count: usize,
    /// The profile number of its first binding (its bindings follow the `[[binding]]`
    /// sections', numbered from 0).
    pub first_number: u32,
}

/// Reads the bindings file at `path` and calls `each` with every binding in order; the
/// outer source defaults to the first of `addrs4` / `addrs6` of the care-of address's
/// family. Returns how many there were, or the first line that cannot be used (with
/// its number) or why the file cannot be read.
pub fn read(
    path: &Path,
    addrs4: &[Ipv4Addr],
    addrs6: &[Ipv6Addr],
    mut each: impl FnMut(IpAddr, Binding),
) -> Result<usize, Bad> {
    read_lines(
        path,
        KEY,
        "static bindings",
        |text| parse_line(text, addrs4, addrs6),
        |_, (home, binding)| each(home, binding),
    )
}

/// One line: None when it holds only a comment or nothing. An error's key is the
/// field's (e.g. ` care_of`), to follow the line number.
fn parse_line(
    line: &str,
    addrs4: &[Ipv4Addr],
    addrs6: &[Ipv6Addr],
) -> Result<Option<(IpAddr, Binding)>, Bad> {
    let text = line.split('#').next().unwrap_or("").trim();
    let mut fields = text.split_whitespace();
    let Some(home) = fields.next() else {
        return Ok(None);
    };
    let home: IpAddr = home
        .parse()
        .map_err(|_| bad(" home", format!("{home:?}"), "an IPv4 or IPv6 address"))?;
    let care_of_text = fields.next().ok_or_else(|| {
        bad(
            " care_of",
            "(missing)",
            "the care-of addresses after the home address, separated by commas",
        )
    })?;
    let mut care_of = Vec::with_capacity(1);
    for a in care_of_text.split(',') {
        care_of.push(a.parse::<IpAddr>().map_err(|_| {
            bad(
                " care_of",
                format!("{care_of_text:?}"),
                "IP addresses separated by commas (no spaces)",
            )
        })?);
    }
    let (mut encap, mut source, mut tos) = (Encap::IpInIp, None, None);
    for field in fields {
        if let Some(v) = field.strip_prefix("source=") {
            source = Some(
                v.parse::<IpAddr>()
                    .map_err(|_| bad(" source", format!("{v:?}"), "an IPv4 or IPv6 address"))?,
            );
        } else if let Some(v) = field.strip_prefix("tos=") {
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u8::from_str_radix(hex, 16),
                None => v.parse::<u8>(),
            };
            tos = Some(parsed.map_err(|_| bad(" tos", format!("{v:?}"), "0-255 (or 0x00-0xff)"))?);
        } else {
            encap = encap_of(" encap", field).map_err(|b| Bad {
                expected: format!("{}, source=ADDR or tos=N", b.expected),
                ..b
            })?;
        }
    }
    let binding = static_binding(&care_of, encap, source, tos, addrs4, addrs6)
        .map_err(|(field, value, expected)| bad(format!(" {field}"), value, expected))?;
    Ok(Some((home, binding)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipdp_dataplane::tables::CareOfList;

    const A4: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 1)];
    const A6: [Ipv6Addr; 1] = [Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1)];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bindings.txt");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn all(text: &str) -> Result<Vec<(IpAddr, Binding)>, Bad> {
        let (_dir, path) = file(text);
        let mut out = Vec::new();
        let n = read(&path, &A4, &A6, |h, b| out.push((h, b)))?;
        assert_eq!(n, out.len());
        Ok(out)
    }

    #[test]
    fn lines_make_the_bindings_a_binding_section_would() {
        let got = all("# home care-of\n\n10.0.0.1 100.64.0.1\n\
             10.0.0.2\t100.64.0.2,100.64.9.2  gre tos=0xb8 # two\n\
             10.0.0.3 100.64.0.3 minimal source=192.0.2.9 tos=32\n\
             2001:db8:100::1 2001:db8:200::1\n")
        .unwrap();
        let want = [
            (
                ip("10.0.0.1"),
                Binding {
                    care_of: CareOfList::one(ip("100.64.0.1")),
                    encap: Encap::IpInIp,
                    source: ip("192.0.2.1"),
                    tos: None,
                },
            ),
            (
                ip("10.0.0.2"),
                Binding {
                    care_of: CareOfList::from_slice(&[ip("100.64.0.2"), ip("100.64.9.2")]).unwrap(),
                    encap: Encap::Gre,
                    source: ip("192.0.2.1"),
                    tos: Some(0xb8),
                },
            ),
            (
                ip("10.0.0.3"),
                Binding {
                    care_of: CareOfList::one(ip("100.64.0.3")),
                    encap: Encap::Minimal,
                    source: ip("192.0.2.9"),
                    tos: Some(32),
                },
            ),
            (
                ip("2001:db8:100::1"),
                Binding {
                    care_of: CareOfList::one(ip("2001:db8:200::1")),
                    encap: Encap::IpInIp,
                    source: ip("2001:db8:ffff::1"),
                    tos: None,
                },
            ),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number_field_and_reason() {
        let cases = [
            ("10.0.0.1 100.64.0.1\nten 100.64.0.1\n", "line 2 home"),
            ("10.0.0.1\n", "line 1 care_of"),
            ("10.0.0.1 100.64.0.1;100.64.0.2\n", "line 1 care_of"),
            ("10.0.0.1 100.64.0.1 vxlan\n", "line 1 encap"),
            ("10.0.0.1 100.64.0.1 tos=300\n", "line 1 tos"),
            ("10.0.0.1 100.64.0.1 source=x\n", "line 1 source"),
            // The checks of [[binding]]: family, method, count, unicast.
            ("10.0.0.1 100.64.0.1 source=2001:db8::1\n", "line 1 care_of"),
            ("2001:db8::1 2001:db8::7 gre\n", "line 1 care_of"),
            (
                "10.0.0.1 100.64.0.1,100.64.0.2,100.64.0.3,100.64.0.4,100.64.0.5\n",
                "line 1 care_of",
            ),
            ("10.0.0.1 224.0.0.9\n", "line 1 care_of"),
        ];
        for (text, key) in cases {
            let e = all(text).unwrap_err();
            assert_eq!(
                e.key,
                format!("node.bindings_file {key}"),
                "{text:?}: {e:?}"
            );
            assert!(!e.expected.is_empty());
        }
        let e = read(Path::new("/nonexistent/bindings.txt"), &A4, &A6, |_, _| {}).unwrap_err();
        assert_eq!(e.key, "node.bindings_file");
        assert!(e.expected.contains("No such file"), "{e:?}");
    }

    #[test]
    fn an_outer_source_is_needed_for_the_care_of_family() {
        let (_dir, path) = file("2001:db8::1 2001:db8::7\n");
        let e = read(&path, &A4, &[], |_, _| {}).unwrap_err();
        assert_eq!(e.key, "node.bindings_file line 1 source");
    }

    proptest::proptest! {
        /// Any line, however mangled, gives a binding, nothing, or an error: no panic.
        #[test]
        fn any_line_parses_or_is_refused(text in "[ -~\t]{0,100}") {
            let _ = parse_line(&text, &A4, &A6);
        }
    }
}
