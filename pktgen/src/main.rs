//! `mipdp-pktgen`: sends numbered, timestamped Ethernet/IPv4/UDP probes through DPDK ports
//! and reports loss, reordering, duplicates and latency.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mipdp_pktgen::frame::{MAX_FLOWS, MAX_FRAME_LEN, MIN_FRAME_LEN};
use mipdp_pktgen::generator::{self, FrameOptions, Limit, RunConfig, RxPolling};

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
#[derive(Parser, Debug)]
#[command(name = "mipdp-pktgen", version)]
struct Cli {
    /// DPDK device to send on (e.g. net_ring0, net_tap0, 0000:01:00.0).
    #[arg(long, value_name = "DEV")]
    tx_port: String,
    /// DPDK device to receive on; may be the TX device.
    #[arg(long, value_name = "DEV")]
    rx_port: String,
    /// Frame size in bytes WITHOUT the 4-byte FCS (as the buffer holds it, like
    /// dpdk-testpmd --txpkts): 64 puts 68 bytes on the wire.
    #[arg(long, value_name = "BYTES", default_value_t = 64, value_parser = parse_size)]
    size: usize,
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

fn parse_size(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of bytes"))?;
    if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&n) {
        return Err(format!(
            "{n} is outside {MIN_FRAME_LEN}..={MAX_FRAME_LEN} (bytes without the FCS)"
        ));
    }
    Ok(n)
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
        tx_port: cli.tx_port,
        rx_port: cli.rx_port,
        frame: FrameOptions {
            src_mac: cli.src_mac.map(|m| m.0),
            dst_mac: cli.dst_mac.map(|m| m.0),
            src_ip: cli.src_ip,
            dst_ip: cli.dst_ip,
            udp_port: cli.udp_port,
            size: cli.size,
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
        assert_eq!(parse_size("64"), Ok(64));
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
        assert_eq!((cli.size, cli.flows, cli.rate, cli.udp_port), (64, 1, 0, 9));
    }

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
