//! `mobility-gen`: writes the template pcap and the mipdp configuration of one contender of
//! `perf/mobility.sh`. The pcap is what `[[port]] rx_template_pcap` overwrites every frame
//! received on `net_null` with (a benchmark aid, see perf/README.md); the configuration
//! holds the tables the traffic hits. The address plan is in `mipdp_perf::scenario`.
//!
//! The template list has `--frames` frames whatever the number of bindings, so every
//! contender reads its templates from memory the same way.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use mipdp_perf::scenario::{
    write_pcap, Authenticators, Head, Kind, Method, Protocol, Scenario, Storm,
};

/// What the configuration makes mipdp do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// Forwarder mode (port to port with MAC rewrite); templates only with --pcap.
    Forwarder,
    /// Home agent: IPv4-in-IPv4 to the care-of address of each of --bindings home addresses.
    Ha,
    /// HMIPv6 MAP: IPv6-in-IPv6 decapsulated and re-encapsulated by --bindings RCoA → LCoA.
    Map,
    /// The home agent plus --profiles AAA-source profiles marking DSCP.
    Tos,
    /// MMA: IPv6-in-IPv6 decapsulated and re-encapsulated to each of --bindings mobiles'
    /// multicast groups.
    Mma,
    /// IPv6 home agent: IPv6-in-IPv6 to the care-of address of each of --bindings IPv6
    /// home addresses.
    Ha6,
}

/// The home agent's tunnel method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodArg {
    /// IPv4-in-IPv4 (RFC 2003).
    Ipip,
    /// Minimal encapsulation (RFC 2004).
    Minimal,
    /// GRE (RFC 2784).
    Gre,
}

/// The authenticators of a storm's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StormAuth {
    /// Valid HMAC-MD5: every request is accepted and moves a binding.
    Valid,
    /// Bogus (a flood): every request fails authentication.
    Bogus,
}

/// What a storm's requests are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StormProtocol {
    /// Mobile IPv4 Registration Requests (HMAC-MD5, RFC 5944).
    Mip4,
    /// Mobile IPv6 Binding Updates (HMAC-SHA1 MN-HA option, RFC 4285).
    Mip6,
}

/// Writes one contender's template pcap and mipdp configuration.
#[derive(Debug, Parser)]
#[command(name = "mobility-gen")]
struct Args {
    /// The contender.
    #[arg(value_enum)]
    scenario: Which,
    /// The configuration file to write.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The template pcap: written (except for forwarder, which only names an existing one).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Frames in the template pcap.
    #[arg(long, default_value_t = 1_000_000)]
    frames: usize,
    /// Bindings (home addresses or RCoAs) the traffic is spread over.
    #[arg(long, default_value_t = 1000)]
    bindings: usize,
    /// Service profiles (tos).
    #[arg(long, default_value_t = 10_000)]
    profiles: usize,
    /// IP packet size of the (inner) packets, in bytes.
    #[arg(long, default_value_t = 64)]
    inner_size: usize,
    /// ha, tos: how the bindings tunnel.
    #[arg(long, value_enum, default_value_t = MethodArg::Ipip)]
    method: MethodArg,
    /// The worker's core (dataplane.workers).
    #[arg(long, default_value_t = 1)]
    worker_core: usize,
    /// dataplane.mbufs.
    #[arg(long, default_value_t = 16384)]
    mbufs: u32,
    /// dataplane.mbuf_cache.
    #[arg(long, default_value_t = 250)]
    mbuf_cache: u32,
    /// dataplane.control_socket.
    #[arg(long, value_name = "PATH")]
    control_socket: Option<String>,
    /// ha: make every K-th template frame an authenticated MIPv4 Registration Request
    /// to the home agent (UDP 434), and add the `[home_agent]` section and the mobiles'
    /// security associations to the configuration (see `scenario::Storm`).
    #[arg(long, value_name = "K")]
    storm_every: Option<usize>,
    /// Mobile nodes the storm's requests come from, in turn.
    #[arg(long, default_value_t = 64)]
    storm_mobiles: usize,
    /// The storm's requests: MIPv4 Registration Requests or MIPv6 Binding Updates.
    #[arg(long, value_enum, default_value_t = StormProtocol::Mip4)]
    storm_protocol: StormProtocol,
    /// The storm's authenticators: valid, or bogus (a flood of failed authentications).
    #[arg(long, value_enum, default_value_t = StormAuth::Valid)]
    storm_authenticators: StormAuth,
    /// An existing pcap for the second port's rx_template_pcap (default: --pcap); a storm
    /// gives the plain home agent's here, so its requests arrive in order on one port.
    #[arg(long, value_name = "FILE")]
    second_port_pcap: Option<PathBuf>,
    /// ha, tos, map, ha6: write the bindings to this file, one per line, and name it as
    /// node.bindings_file, instead of [[binding]] sections (millions of them start in
    /// seconds and little memory; ten million [[binding]] sections do not fit in memory);
    /// mma: the multicast-map entries, as node.multicast_file.
    #[arg(long, value_name = "FILE")]
    bindings_file: Option<PathBuf>,
}

/// A file's name as the configuration gives it: its file name when it sits beside the
/// configuration (relative names are taken from the configuration's directory).
fn config_name(config: &Path, pcap: &Path) -> String {
    let beside = match (config.parent(), pcap.parent()) {
        (Some(c), Some(p)) => c == p,
        _ => false,
    };
    match pcap.file_name() {
        Some(name) if beside => name.to_string_lossy().into_owned(),
        _ => pcap.display().to_string(),
    }
}

fn main() -> Result<()> {
    let a = Args::parse();
    let kind = match a.scenario {
        Which::Forwarder => Kind::Forwarder,
        Which::Ha => Kind::Ha,
        Which::Map => Kind::Map,
        Which::Tos => Kind::Tos,
        Which::Mma => Kind::Mma,
        Which::Ha6 => Kind::Ha6,
    };
    let scenario = Scenario {
        kind,
        // The forwarder's templates are the home agent's; it has no tables.
        bindings: if kind == Kind::Forwarder {
            1
        } else {
            a.bindings
        },
        profiles: a.profiles,
        inner_size: a.inner_size,
        method: match a.method {
            MethodArg::Ipip => Method::Ipip,
            MethodArg::Minimal => Method::Minimal,
            MethodArg::Gre => Method::Gre,
        },
        storm: a.storm_every.map(|every| Storm {
            every,
            mobiles: a.storm_mobiles,
            cycle: a.frames,
            authenticators: match a.storm_authenticators {
                StormAuth::Valid => Authenticators::Valid,
                StormAuth::Bogus => Authenticators::Bogus,
            },
            protocol: match a.storm_protocol {
                StormProtocol::Mip4 => Protocol::Mip4,
                StormProtocol::Mip6 => Protocol::Mip6,
            },
        }),
    };
    if let Err(e) = scenario.check() {
        bail!("{e}");
    }
    if a.frames == 0 {
        bail!("--frames must be at least 1");
    }
    let head = Head {
        worker_core: a.worker_core,
        mbufs: a.mbufs,
        mbuf_cache: a.mbuf_cache,
        control_socket: a.control_socket.clone(),
        pcap: a.pcap.as_deref().map(|p| config_name(&a.config, p)),
        second_port_pcap: a
            .second_port_pcap
            .as_deref()
            .map(|p| config_name(&a.config, p)),
        bindings_file: a
            .bindings_file
            .as_deref()
            .map(|p| config_name(&a.config, p)),
    };
    if let Some(p) = &a.second_port_pcap {
        if !p.exists() {
            bail!(
                "{} does not exist (--second-port-pcap names an existing pcap)",
                p.display()
            );
        }
    }
    let file =
        File::create(&a.config).with_context(|| format!("cannot create {}", a.config.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    scenario.write_config(&mut w, &head)?;
    w.flush()
        .with_context(|| format!("cannot write {}", a.config.display()))?;
    if let Some(path) = &a.bindings_file {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        scenario.write_bindings(&mut w)?;
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    match (&a.pcap, kind) {
        (None, Kind::Forwarder) => {}
        (None, _) => bail!("--pcap is needed for {:?}", a.scenario),
        (Some(path), Kind::Forwarder) => {
            if !path.exists() {
                bail!(
                    "{} does not exist (forwarder only names an existing pcap)",
                    path.display()
                );
            }
        }
        (Some(path), _) => write_pcap(path, a.frames, |j| scenario.frame(j))
            .with_context(|| format!("cannot write {}", path.display()))?,
    }
    Ok(())
}
