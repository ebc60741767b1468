//! What the tshark decode test needs besides mipdp itself: a pcap writer, the one tshark
//! run per capture, and the comparison of what tshark decoded with what each frame says it
//! carries. Kept free of mipdp code so that nothing here can share a mistake with it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A frame to decode and the fields tshark must report for it.
pub struct Frame {
    /// What the frame is, for failure messages.
    pub name: String,
    /// The whole Ethernet frame.
    pub bytes: Vec<u8>,
    /// Field name and every value tshark must give it, in tree order (all occurrences).
    pub fields: Vec<(&'static str, Vec<String>)>,
}

impl Frame {
    /// A frame called `name` holding `bytes` (an Ethernet frame), with no expectation yet.
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Frame {
        Frame {
            name: name.into(),
            bytes,
            fields: Vec::new(),
        }
    }

    /// Expects `field` to occur exactly with `values`, in order.
    pub fn field<I, V>(mut self, field: &'static str, values: I) -> Frame
    where
        I: IntoIterator<Item = V>,
        V: ToString,
    {
        self.fields
            .push((field, values.into_iter().map(|v| v.to_string()).collect()));
        self
    }

    /// Expects the protocol stack tshark reports (`frame.protocols`).
    pub fn protocols(self, stack: &str) -> Frame {
        self.field("frame.protocols", [stack])
    }
}

/// The checksum status tshark gives a checksum it verified and found right
/// (`PROTO_CHECKSUM_E_GOOD`).
pub const GOOD: &str = "1";

/// Expert info severities (epan/proto.h): warnings and errors fail the test.
const PI_WARN: u64 = 0x0060_0000;
const PI_SEVERITY_MASK: u64 = 0x00f0_0000;
/// Expert info groups that fail the test whatever their severity.
const PI_CHECKSUM: u64 = 0x0100_0000;
const PI_MALFORMED: u64 = 0x0700_0000;
const PI_GROUP_MASK: u64 = 0xff00_0000;

/// Fields asked for every frame: the expert infos and the checksum verdicts.
const ALWAYS: [&str; 10] = [
    "frame.protocols",
    "_ws.expert.severity",
    "_ws.expert.group",
    "_ws.expert.message",
    "_ws.malformed",
    "ip.checksum.status",
    "udp.checksum.status",
    "icmp.checksum.status",
    "icmpv6.checksum.status",
    "gre.checksum.status",
];

/// Checksum validation on for every protocol whose dissector makes it optional (the
/// others, ICMP, ICMPv6 and GRE, always verify). `tshark -G defaultprefs | grep checksum`
/// lists them; the Mobility Header and Mobile IPv4 dissectors have none and do not verify.
const PREFERENCES: [&str; 3] = [
    "ip.check_checksum:TRUE",
    "udp.check_checksum:TRUE",
    "tcp.check_checksum:TRUE",
];

/// Writes `frames` as a pcap file (microsecond timestamps, Ethernet link type), one second
/// apart: a 24-byte global header, then a 16-byte record header before each frame.
pub fn write_pcap(path: &Path, frames: &[Frame]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, frame) in frames.iter().enumerate() {
        let len = u32::try_from(frame.bytes.len()).unwrap();
        out.extend_from_slice(&u32::try_from(i).unwrap().to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&frame.bytes);
    }
    std::fs::write(path, out).unwrap();
}

/// Runs tshark once over `pcap`, asking for every field the frames name plus [`ALWAYS`],
/// and returns, per frame, each field's values in tree order. Panics when tshark is not
/// installed or fails: the check is part of the test suite, not an optional extra.
fn decode(pcap: &Path, fields: &BTreeSet<&'static str>) -> Vec<serde_json::Map<String, Value>> {
    let mut command = Command::new("tshark");
    command.arg("-n").arg("-r").arg(pcap);
    for preference in PREFERENCES {
        command.arg("-o").arg(preference);
    }
    command.args(["-T", "json"]);
    for field in fields {
        command.arg("-e").arg(field);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "cannot run tshark ({e}): it is a test dependency; install it with \
             scripts/install-deps.sh (Debian package tshark)"
        )
    });
    // tshark warns on stderr when run as root; only the exit status says it failed.
    assert!(
        output.status.success(),
        "tshark failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let packets: Vec<Value> = serde_json::from_slice(&output.stdout).expect("tshark JSON");
    packets
        .into_iter()
        .map(|p| match p["_source"]["layers"].clone() {
            Value::Object(layers) => layers,
            other => panic!("tshark JSON without layers: {other}"),
        })
        .collect()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        Some(other) => vec![other.to_string()],
    }
}

/// Writes `frames` to a pcap in a temporary directory, decodes it with tshark, and checks
/// every frame: no expert info of warning or error severity, none of the checksum or
/// malformed groups, no checksum tshark found bad, and every expected field exactly as
/// built. All problems are collected and reported together.
pub fn check(frames: &[Frame]) {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("frames.pcap");
    write_pcap(&pcap, frames);
    let mut fields: BTreeSet<&'static str> = ALWAYS.into_iter().collect();
    for frame in frames {
        fields.extend(frame.fields.iter().map(|(f, _)| *f));
    }
    let decoded = decode(&pcap, &fields);
    assert_eq!(decoded.len(), frames.len(), "tshark read every frame");

    let mut problems = String::new();
    for (i, (frame, layers)) in frames.iter().zip(&decoded).enumerate() {
        let mut report = |what: String| {
            let _ = writeln!(problems, "frame {} ({}): {what}", i + 1, frame.name);
        };
        let severities = strings(layers.get("_ws.expert.severity"));
        let groups = strings(layers.get("_ws.expert.group"));
        let messages = strings(layers.get("_ws.expert.message"));
        for (j, (severity, group)) in severities.iter().zip(&groups).enumerate() {
            let severity: u64 = severity.parse().unwrap();
            let group: u64 = group.parse().unwrap();
            let group = group & PI_GROUP_MASK;
            if severity & PI_SEVERITY_MASK >= PI_WARN
                || group == PI_CHECKSUM
                || group == PI_MALFORMED
            {
                report(format!(
                    "expert info severity {severity:#x} group {group:#x}: {}",
                    messages.get(j).map_or("", String::as_str)
                ));
            }
        }
        if layers.contains_key("_ws.malformed") {
            report("malformed".into());
        }
        for status in ALWAYS.iter().filter(|f| f.ends_with(".checksum.status")) {
            for value in strings(layers.get(*status)) {
                if value == "0" {
                    report(format!("{status} is bad"));
                }
            }
        }
        for (field, want) in &frame.fields {
            let got = strings(layers.get(*field));
            if &got != want {
                report(format!("{field}: tshark {got:?}, built {want:?}"));
            }
        }
    }
    if !problems.is_empty() {
        // Keep the capture for a look with tshark -V.
        let kept = dir.keep().join("frames.pcap");
        panic!("tshark disagrees ({}):\n{problems}", kept.display());
    }
}

/// The Internet checksum (RFC 1071) of the concatenated `parts`, computed here rather than
/// by mipdp, for the checksums tshark shows but does not verify.
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Lower-case hex of `bytes`, as tshark prints a byte field.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
