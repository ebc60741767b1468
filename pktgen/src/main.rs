//! `mipdp-pktgen`: sends numbered, timestamped Ethernet/IPv4/UDP probes, or one of the
//! mobility workloads, through DPDK ports and reports loss, reordering, duplicates,
//! latency and what the device under test did to the traffic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use mipdp_pktgen::frame::{MAX_FLOWS, MAX_FRAME_LEN, MIN_FRAME_LEN};
use mipdp_pktgen::generator::{self, FrameOptions, Limit, MobilityRun, RunConfig, RxPolling};
use mipdp_pktgen::mobility::keys::write_mipdp_sections;
use mipdp_pktgen::mobility::{
    AddressPlan, Encapsulation, Expectation, Family, Keys, Sizes, Tunnel, Workload, WorkloadKind,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mipdp-pktgen: a DPDK traffic generator measuring loss, reordering and latency.
///
/// Sends Ethernet/IPv4/UDP probes, each carrying a magic number, a sequence number and a
/// transmit timestamp, on the TX port, and receives them on the RX port (which may be the
/// same device). At the end it waits up to --drain-ms for stragglers, then prints a
/// summary on stdout (and as JSON with --json). Progress goes to stderr once a second.
/// SIGINT or SIGTERM stops sending and goes to the summary; a second one exits at once.
///
/// Sending runs on DPDK's main lcore (choose its core with the EAL's -l or --main-lcore);
/// receiving runs on a thread of its own that is not pinned. --rate paces with a token
/// bucket holding 10 ms of packets, so that losing the core for a scheduler slice does not
/// cost rate (what was owed then leaves in bursts).
///
/// Everything after `--` goes to DPDK's EAL unchanged. Without hugepages or a NIC, a
/// net_ring port loops TX back to RX:
///
///   mipdp-pktgen --tx-port net_ring0 --rx-port net_ring0 --count 100000 -- --no-huge -m 512 --no-pci --file-prefix pktgen --vdev net_ring0
///
/// MOBILITY WORKLOADS (--workload): every address is computed from the mobile's index
/// (home address i = --home-base + i, care-of address i = --care-of-base + i, the second
/// one a handover moves to = --care-of-base + N + i; IPv6 likewise with a /64 per care-of
/// address), so --mobiles goes up to 16,777,216 without a table. Data packet s goes to
/// mobile s × M mod N (M coprime with N): every mobile once per N packets.
///
///   cn-to-home    correspondent → home address UDP probes; expected back tunnelled to
///                 each mobile's care-of address by the home agent (--expect).
///   encapsulated  the same probes in a tunnel (--encapsulation ipip|gre|ip6ip6) from
///                 --tunnel-entry to --agent (a foreign agent, MAP or MMA), to be
///                 decapsulated (and re-encapsulated by a MAP).
///   mip4-storm    Registration Requests (RFC 5944) with HMAC-MD5 MN-HA authenticators,
///                 live NTP timestamps as Identification, mobile s mod N, alternating
///                 between its two care-of addresses; replies counted by code.
///   mip6-storm    Binding Updates (RFC 6275) with the RFC 4285 MN-HA option (HMAC-SHA1-96)
///                 and Replay Protection (live NTP), increasing sequence numbers; acks
///                 counted by status.
///   handover      one registration per mobile, then cn-to-home data with one frame in K
///                 a re-registration moving a mobile to its other care-of address
///                 (--handovers per second under --rate, or --handover-every K).
///   malformed     cn-to-home data with --malformed-per-mille frames malformed, in turn:
///                 truncated packet, bad IPv4 checksum, bad UDP checksum, bad UDP length,
///                 unknown IPv4 option, registration with a bad authenticator, registration
///                 with an unknown extension (from mobiles N..N+64, which have security
///                 associations and no static binding).
///
/// --expect minimal rebuilds the original header from the outer one and the minimal
/// forwarding header (RFC 2004 §3, its checksum verified) and checks it as the inner
/// packet of a tunnel; its one TTL is checked by --expect-inner-ttl.
///
/// Keys: --key-seed S derives mobile m's 16-byte key as splitmix64(S+2m) ‖
/// splitmix64(S+2m+1); --key-file reads one hex key per line. --write-mipdp-config FILE
/// writes the matching [home_agent] / [home_agent6] security associations (and the data
/// workloads' static [[binding]]s, tunnelled by --binding-encap, a MAP's RCoA → LCoA
/// ones for encapsulated ip6ip6) for mipdp's configuration, and exits.
///
/// --size imix is the simple IMIX 7:4:1 of 64, 576 and 1514-byte frames (without FCS).
/// The JSON result's `mobility` object has every counter of both sides.
#[derive(Parser, Debug)]
#[command(name = "mipdp-pktgen", version, verbatim_doc_comment)]
struct Cli {
    /// DPDK device to send on (e.g. net_ring0, net_tap0, 0000:01:00.0).
    #[arg(
        long,
        value_name = "DEV",
        required_unless_present = "write_mipdp_config"
    )]
    tx_port: Option<String>,
    /// DPDK device to receive on; may be the TX device.
    #[arg(
        long,
        value_name = "DEV",
        required_unless_present = "write_mipdp_config"
    )]
    rx_port: Option<String>,
    /// Frame size in bytes WITHOUT the 4-byte FCS (as the buffer holds it, like
    /// dpdk-testpmd --txpkts): 64 puts 68 bytes on the wire. For a mobility workload also
    /// `imix` (7:4:1 of 64, 576, 1514); frames too small for a workload's headers are
    /// refused, IMIX ones raised to the smallest that fits.
    #[arg(long, value_name = "BYTES|imix", default_value = "64", value_parser = parse_size)]
    size: SizeArg,
    /// What to send: plain probes, or a mobility workload (see above).
    #[arg(long, value_enum, default_value_t = WorkloadArg::Probe)]
    workload: WorkloadArg,
    /// Mobile nodes the workload addresses.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    mobiles: u32,
    /// IP version of the mobiles' data (home addresses): 4 or 6.
    #[arg(long, value_name = "4|6", default_value_t = 4, value_parser = clap::value_parser!(u8).range(4..=6))]
    family: u8,
    /// encapsulated: the tunnel the probes are sent in.
    #[arg(long, value_enum, default_value_t = TunnelArg::Ipip)]
    encapsulation: TunnelArg,
    /// What the receive side expects [default: cn-to-home/handover/malformed: the
    /// --binding-encap tunnel for --family 4, ip6ip6 for 6; encapsulated: plain, or
    /// ip6ip6 when sent in ip6ip6].
    #[arg(long, value_enum)]
    expect: Option<ExpectArg>,
    /// cn-to-home, malformed with --family 4: how the static bindings tunnel, in the
    /// configuration --write-mipdp-config writes (`encap` of each `[[binding]]`), and so
    /// what the receive side expects unless --expect says otherwise.
    #[arg(long, value_enum, default_value_t = BindingEncapArg::Ipip)]
    binding_encap: BindingEncapArg,
    /// Expected outer source of the tunnels [default: --agent / --agent6].
    #[arg(long, value_name = "IP")]
    expect_tunnel_source: Option<IpAddr>,
    /// Expected outer TTL / hop limit (mipdp's node.outer_ttl); not checked for minimal
    /// encapsulation, whose one header's TTL is checked as the inner one.
    #[arg(long, value_name = "N", default_value_t = 64)]
    expect_outer_ttl: u8,
    /// Expected inner TTL / hop limit (sent with 64; 0: not checked).
    #[arg(long, value_name = "N", default_value_t = 63)]
    expect_inner_ttl: u8,
    /// Home address of mobile 0 (IPv4).
    #[arg(long, value_name = "IP", default_value = "10.0.0.0")]
    home_base: Ipv4Addr,
    /// Care-of address of mobile 0 (IPv4).
    #[arg(long, value_name = "IP", default_value = "100.64.0.0")]
    care_of_base: Ipv4Addr,
    /// The correspondent node (IPv4).
    #[arg(long, value_name = "IP", default_value = "198.51.100.9")]
    correspondent: Ipv4Addr,
    /// The agent under test: home agent (requests), FA (encapsulated) (IPv4).
    #[arg(long, value_name = "IP", default_value = "192.0.2.1")]
    agent: Ipv4Addr,
    /// encapsulated: the outer source (IPv4).
    #[arg(long, value_name = "IP", default_value = "203.0.113.1")]
    tunnel_entry: Ipv4Addr,
    /// Home address (or RCoA) of mobile 0 (IPv6).
    #[arg(long, value_name = "IP", default_value = "2001:db8:100::1")]
    home6_base: Ipv6Addr,
    /// Care-of address (or LCoA) of mobile 0 (IPv6); each mobile's is in its own /64.
    #[arg(long, value_name = "IP", default_value = "2001:db8:200::1")]
    care_of6_base: Ipv6Addr,
    /// The correspondent node (IPv6).
    #[arg(long, value_name = "IP", default_value = "2001:db8:cccc::9")]
    correspondent6: Ipv6Addr,
    /// The agent under test (IPv6 home agent, MAP, MMA).
    #[arg(long, value_name = "IP", default_value = "2001:db8:ffff::1")]
    agent6: Ipv6Addr,
    /// encapsulated: the outer source (IPv6).
    #[arg(long, value_name = "IP", default_value = "2001:db8:aaaa::1")]
    tunnel_entry6: Ipv6Addr,
    /// Derive the mobiles' MN-HA keys from this seed.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 0,
        conflicts_with = "key_file"
    )]
    key_seed: u64,
    /// Read the mobiles' MN-HA keys from FILE: one hex key per line, mobile 0 first.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// SPI of every mobile's security association (256 or more).
    #[arg(long, value_name = "SPI", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(256..))]
    spi: u32,
    /// Lifetime the requests ask for, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    lifetime: u16,
    /// handover: re-registrations per second (needs --rate, which they are part of).
    #[arg(long, value_name = "PER_SEC", conflicts_with = "handover_every")]
    handovers: Option<u64>,
    /// handover: one frame in K is a re-registration.
    #[arg(long, value_name = "K", default_value_t = 100)]
    handover_every: u64,
    /// malformed: frames per thousand that are malformed.
    #[arg(long, value_name = "N", default_value_t = 100)]
    malformed_per_mille: u64,
    /// mip6-storm: the Sequence Number of each mobile's first Binding Update [default:
    /// the Unix time in seconds modulo 2^16, so that a later run starts above an earlier
    /// one that sent fewer rounds than seconds passed].
    #[arg(long, value_name = "N")]
    bu_sequence_start: Option<u16>,
    /// Write the mipdp configuration sections that answer this workload (security
    /// associations, static bindings) to FILE, and exit without sending.
    #[arg(long, value_name = "FILE")]
    write_mipdp_config: Option<PathBuf>,
    /// Stop after N probes were sent.
    #[arg(long, value_name = "N", conflicts_with = "duration",
          value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Stop after SECS seconds (fractions allowed). Without --count or --duration the
    /// generator runs until SIGINT/SIGTERM.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    duration: Option<Duration>,
    /// Packets per second; 0 sends as fast as possible.
    #[arg(long, value_name = "PPS", default_value_t = 0)]
    rate: u64,
    /// Spread probes over K flows: destination address dst-ip + (sequence % K).
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_FLOWS)))]
    flows: u32,
    /// Ethernet source address [default: the TX port's MAC].
    #[arg(long, value_name = "MAC", value_parser = parse_mac)]
    src_mac: Option<Mac>,
    /// Ethernet destination address [default: the RX port's MAC].
    #[arg(long, value_name = "MAC", value_parser = parse_mac)]
    dst_mac: Option<Mac>,
    /// IPv4 source address.
    #[arg(long, value_name = "IP", default_value = "198.51.100.1")]
    src_ip: Ipv4Addr,
    /// IPv4 destination address of the first flow.
    #[arg(long, value_name = "IP", default_value = "203.0.113.1")]
    dst_ip: Ipv4Addr,
    /// UDP source and destination port.
    #[arg(long, value_name = "PORT", default_value_t = 9)]
    udp_port: u16,
    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// After the last probe, keep receiving for up to MS milliseconds (less when every
    /// probe is back); what has not arrived by then is lost.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    drain_ms: u64,
    /// Poll the RX queue without ever sleeping (better latency figures, one busy core).
    #[arg(long)]
    busy_poll: bool,
    /// DPDK EAL arguments, after `--`.
    #[arg(last = true, value_name = "EAL ARGS")]
    eal: Vec<String>,
}

/// `--size`: bytes, or IMIX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizeArg {
    Bytes(usize),
    Imix,
}

/// `--workload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WorkloadArg {
    /// Plain Ethernet/IPv4/UDP probes (--flows, --src-ip, --dst-ip).
    Probe,
    /// Correspondent → home address data for --mobiles mobiles.
    CnToHome,
    /// Data tunnelled towards a foreign agent / MAP / MMA.
    Encapsulated,
    /// Authenticated MIPv4 Registration Requests.
    Mip4Storm,
    /// Authenticated MIPv6 Binding Updates.
    Mip6Storm,
    /// Data plus re-registrations moving mobiles between care-of addresses.
    Handover,
    /// Data plus a share of malformed frames.
    Malformed,
}

/// A tunnel on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TunnelArg {
    /// IPv4 outer header, protocol 4 (or 41 around IPv6).
    Ipip,
    /// IPv4 outer header and GRE, protocol 47.
    Gre,
    /// IPv6 outer header, next header 41 (or 4 around IPv4).
    Ip6ip6,
}

/// `--expect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExpectArg {
    /// No tunnel: the packet as sent.
    Plain,
    /// IPv4 in IPv4 (or IPv6 in IPv4).
    Ipip,
    /// GRE over IPv4.
    Gre,
    /// IPv6 in IPv6 (or IPv4 in IPv6).
    Ip6ip6,
    /// Minimal encapsulation of IPv4 (protocol 55, RFC 2004).
    Minimal,
}

/// `--binding-encap`: mipdp's `[[binding]] encap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BindingEncapArg {
    /// IPv4 in IPv4, RFC 2003.
    Ipip,
    /// GRE, RFC 2784.
    Gre,
    /// Minimal encapsulation, RFC 2004.
    Minimal,
}

fn tunnel(t: TunnelArg) -> Tunnel {
    match t {
        TunnelArg::Ipip => Tunnel::Ipip,
        TunnelArg::Gre => Tunnel::Gre,
        TunnelArg::Ip6ip6 => Tunnel::Ip6ip6,
    }
}

/// The mobility workload and receive expectation the command line asks for (None: the
/// plain probes).
fn mobility_run(cli: &Cli) -> anyhow::Result<Option<MobilityRun>> {
    let kind = match cli.workload {
        WorkloadArg::Probe => return Ok(None),
        WorkloadArg::CnToHome => WorkloadKind::CnToHome,
        WorkloadArg::Encapsulated => WorkloadKind::Encapsulated,
        WorkloadArg::Mip4Storm => WorkloadKind::Mip4Storm,
        WorkloadArg::Mip6Storm => WorkloadKind::Mip6Storm,
        WorkloadArg::Handover => WorkloadKind::Handover,
        WorkloadArg::Malformed => WorkloadKind::Malformed,
    };
    let mut plan = AddressPlan::new(cli.mobiles);
    plan.home4 = cli.home_base;
    plan.care_of4 = cli.care_of_base;
    plan.correspondent4 = cli.correspondent;
    plan.agent4 = cli.agent;
    plan.entry4 = cli.tunnel_entry;
    plan.home6 = cli.home6_base;
    plan.care_of6 = cli.care_of6_base;
    plan.correspondent6 = cli.correspondent6;
    plan.agent6 = cli.agent6;
    plan.entry6 = cli.tunnel_entry6;
    let keys = match &cli.key_file {
        Some(path) => Keys::from_file(path)?,
        None => Keys::Seed(cli.key_seed),
    };
    let mut w = Workload::new(kind, plan, keys);
    w.family = match cli.family {
        4 => Family::V4,
        6 => Family::V6,
        f => anyhow::bail!("--family {f}: expected 4 or 6"),
    };
    w.sizes = match cli.size {
        SizeArg::Bytes(n) => Sizes::Fixed(n),
        SizeArg::Imix => Sizes::Imix,
    };
    w.send_tunnel = tunnel(cli.encapsulation);
    w.binding_tunnel = match cli.binding_encap {
        BindingEncapArg::Ipip => Tunnel::Ipip,
        BindingEncapArg::Gre => Tunnel::Gre,
        BindingEncapArg::Minimal => Tunnel::Minimal,
    };
    w.spi = cli.spi;
    w.lifetime_s = cli.lifetime;
    w.handover_every = match cli.handovers {
        Some(0) => anyhow::bail!("--handovers must be at least 1 per second"),
        Some(h) if cli.rate == 0 => {
            anyhow::bail!("--handovers {h} per second needs --rate (the frame rate they are part of), or use --handover-every")
        }
        Some(h) => cli.rate / h,
        None => cli.handover_every,
    };
    w.malformed_per_mille = cli.malformed_per_mille;
    w.bu_sequence_start = cli.bu_sequence_start.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u16)
    });
    w.check()?;
    let mut expectation = Expectation::for_workload(&w);
    if let Some(e) = cli.expect {
        expectation.encapsulation = match e {
            ExpectArg::Plain => Encapsulation::Plain,
            ExpectArg::Ipip => Encapsulation::Tunnel(Tunnel::Ipip),
            ExpectArg::Gre => Encapsulation::Tunnel(Tunnel::Gre),
            ExpectArg::Ip6ip6 => Encapsulation::Tunnel(Tunnel::Ip6ip6),
            ExpectArg::Minimal => Encapsulation::Tunnel(Tunnel::Minimal),
        };
        expectation.tunnel_source = match e {
            ExpectArg::Ip6ip6 => IpAddr::V6(w.plan.agent6),
            _ => IpAddr::V4(w.plan.agent4),
        };
    }
    if let Some(source) = cli.expect_tunnel_source {
        expectation.tunnel_source = source;
    }
    expectation.outer_ttl = cli.expect_outer_ttl;
    expectation.inner_ttl = (cli.expect_inner_ttl != 0).then_some(cli.expect_inner_ttl);
    Ok(Some(MobilityRun {
        workload: w,
        expectation,
    }))
}

/// An Ethernet address from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mac([u8; 6]);

fn parse_mac(s: &str) -> Result<Mac, String> {
    let bad =
        || format!("{s:?} is not a MAC address (expected six hex bytes like 02:00:00:00:00:01)");
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for byte in out.iter_mut() {
        let part = parts.next().ok_or_else(bad)?;
        if part.is_empty() || part.len() > 2 {
            return Err(bad());
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Mac(out))
}

fn parse_size(s: &str) -> Result<SizeArg, String> {
    if s.eq_ignore_ascii_case("imix") {
        return Ok(SizeArg::Imix);
    }
    let n: usize = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of bytes (or imix)"))?;
    if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&n) {
        return Err(format!(
            "{n} is outside {MIN_FRAME_LEN}..={MAX_FRAME_LEN} (bytes without the FCS)"
        ));
    }
    Ok(SizeArg::Bytes(n))
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("{s:?}: the duration must be more than 0 seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mipdp-pktgen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mobility = mobility_run(&cli)?;
    if let Some(path) = &cli.write_mipdp_config {
        let Some(m) = &mobility else {
            anyhow::bail!("--write-mipdp-config needs a mobility --workload");
        };
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        write_mipdp_sections(&mut w, &m.workload)
            .and_then(|_| std::io::Write::flush(&mut w))
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(());
    }
    let size = match cli.size {
        SizeArg::Bytes(n) => n,
        SizeArg::Imix if mobility.is_some() => 64,
        SizeArg::Imix => anyhow::bail!("--size imix needs a mobility --workload"),
    };
    let (Some(tx_port), Some(rx_port)) = (cli.tx_port.clone(), cli.rx_port.clone()) else {
        anyhow::bail!("--tx-port and --rx-port are needed to send");
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The first signal sets `stop` (sending ends, the summary follows); a second one,
        // with `stop` already set, exits at once.
        signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone())
            .and_then(|_| signal_hook::flag::register(signal, stop.clone()))
            .context("cannot install the SIGINT/SIGTERM handler")?;
    }
    let limit = match (cli.count, cli.duration) {
        (Some(n), _) => Limit::Count(n),
        (None, Some(d)) => Limit::Duration(d),
        (None, None) => Limit::UntilStopped,
    };
    let config = RunConfig {
        tx_port,
        rx_port,
        mobility,
        frame: FrameOptions {
            src_mac: cli.src_mac.map(|m| m.0),
            dst_mac: cli.dst_mac.map(|m| m.0),
            src_ip: cli.src_ip,
            dst_ip: cli.dst_ip,
            udp_port: cli.udp_port,
            size,
            flows: cli.flows,
        },
        limit,
        rate_pps: cli.rate,
        drain: Duration::from_millis(cli.drain_ms),
        rx_polling: if cli.busy_poll {
            RxPolling::Busy
        } else {
            RxPolling::BackOff
        },
    };
    let summary = generator::run(&config, &cli.eal, stop)?;
    print!("{}", summary.to_text());
    if let Some(path) = &cli.json {
        std::fs::write(path, summary.to_json())
            .with_context(|| format!("cannot write the JSON summary to {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_parse_with_colons_or_dashes_and_nothing_else() {
        assert_eq!(
            parse_mac("02:00:0a:FF:00:01"),
            Ok(Mac([2, 0, 10, 255, 0, 1]))
        );
        assert_eq!(parse_mac("2-0-a-ff-0-1"), Ok(Mac([2, 0, 10, 255, 0, 1])));
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:00:00",
            "02::00:00:00:00",
            "0g:00:00:00:00:00",
            "002:00:00:00:00:00",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn sizes_and_durations_are_range_checked() {
        assert_eq!(parse_size("64"), Ok(SizeArg::Bytes(64)));
        assert_eq!(parse_size("IMIX"), Ok(SizeArg::Imix));
        assert!(parse_size("63").is_err());
        assert!(parse_size("1515").is_err());
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["0", "-1", "nan", "inf", "x"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn count_and_duration_exclude_each_other() {
        let r = Cli::try_parse_from([
            "mipdp-pktgen",
            "--tx-port",
            "a",
            "--rx-port",
            "a",
            "--count",
            "5",
            "--duration",
            "1",
        ]);
        assert!(r.is_err());
        let cli = Cli::try_parse_from([
            "mipdp-pktgen",
            "--tx-port",
            "a",
            "--rx-port",
            "b",
            "--",
            "--no-huge",
            "-m",
            "512",
        ])
        .unwrap();
        assert_eq!(cli.eal, ["--no-huge", "-m", "512"]);
        assert_eq!(
            (cli.size, cli.flows, cli.rate, cli.udp_port),
            (SizeArg::Bytes(64), 1, 0, 9)
        );
        assert!(mobility_run(&cli).unwrap().is_none());
    }

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["mipdp-pktgen", "--tx-port", "a", "--rx-port", "a"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn mobility_options_become_a_workload_and_an_expectation() {
        let m = mobility_run(&parse(&[
            "--workload",
            "encapsulated",
            "--encapsulation",
            "ip6ip6",
            "--family",
            "6",
            "--size",
            "imix",
            "--mobiles",
            "10000000",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(m.workload.kind, WorkloadKind::Encapsulated);
        assert_eq!(m.workload.sizes, Sizes::Imix);
        assert_eq!(
            m.expectation.encapsulation,
            Encapsulation::Tunnel(Tunnel::Ip6ip6)
        );
        let m = mobility_run(&parse(&[
            "--workload",
            "cn-to-home",
            "--expect",
            "gre",
            "--expect-tunnel-source",
            "192.0.2.9",
            "--expect-inner-ttl",
            "0",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            m.expectation.encapsulation,
            Encapsulation::Tunnel(Tunnel::Gre)
        );
        assert_eq!(
            m.expectation.tunnel_source,
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(m.expectation.inner_ttl, None);
        let m = mobility_run(&parse(&[
            "--workload",
            "cn-to-home",
            "--binding-encap",
            "minimal",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(m.workload.binding_tunnel, Tunnel::Minimal);
        assert_eq!(
            m.expectation.encapsulation,
            Encapsulation::Tunnel(Tunnel::Minimal)
        );
        let m = mobility_run(&parse(&["--workload", "cn-to-home", "--expect", "minimal"]))
            .unwrap()
            .unwrap();
        assert_eq!(m.workload.binding_tunnel, Tunnel::Ipip);
        assert_eq!(
            m.expectation.encapsulation,
            Encapsulation::Tunnel(Tunnel::Minimal)
        );
        assert!(mobility_run(&parse(&[
            "--workload",
            "cn-to-home",
            "--family",
            "6",
            "--size",
            "128",
            "--binding-encap",
            "gre"
        ]))
        .is_err());
        let m = mobility_run(&parse(&[
            "--workload",
            "handover",
            "--rate",
            "10000",
            "--handovers",
            "100",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(m.workload.handover_every, 100);
    }

    #[test]
    fn impossible_mobility_options_are_refused_with_the_flag_named() {
        let e = mobility_run(&parse(&["--workload", "handover", "--handovers", "100"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--rate"), "{e}");
        let e = mobility_run(&parse(&["--workload", "cn-to-home", "--family", "6"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--size 64"), "{e}");
        let e = mobility_run(&parse(&["--workload", "cn-to-home", "--mobiles", "0"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--mobiles"), "{e}");
        assert!(Cli::try_parse_from([
            "mipdp-pktgen",
            "--workload",
            "mip4-storm",
            "--key-seed",
            "1",
            "--key-file",
            "k"
        ])
        .is_err());
        // Writing the configuration needs no ports.
        assert!(Cli::try_parse_from([
            "mipdp-pktgen",
            "--workload",
            "mip4-storm",
            "--write-mipdp-config",
            "x.toml"
        ])
        .is_ok());
    }

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
