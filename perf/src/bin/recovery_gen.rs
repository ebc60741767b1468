//! `recovery-gen`: writes what one contender of `perf/recovery.sh` runs on: a binding
//! backup holding `--bindings` Mobile IPv6 home bindings (over `--care-of-networks`
//! care-of /64s), the mipdp configuration (a home agent on two net_null ports with that
//! backup and `[recovery] rate`), and the template pcap of IPv6 traffic to the home
//! addresses that `[[port]] rx_template_pcap` replays (see perf/README.md).
//!
//! Restarted on that backup, mipdp forwards for every binding at once and verifies them
//! with Binding Refresh Requests at `--rate` a second: with a high rate the recovery runs
//! beside the forwarding being measured, with `--rate 1` it hardly does.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use clap::Parser;
use mipdp_control::backup::{Backup, Change, Record, ReplayState, Role, RoleData};
use mipdp_control::state::bindings::Expiry;
use mipdp_dataplane::tables::Encap;
use mipdp_perf::scenario::{ethernet, ipv6_udp, write_pcap};

const HOME_AGENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
const CORRESPONDENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 9);
const ROUTER: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0xfe);
/// Bytes of each template's IPv6 packet (frame: 14 more).
const PACKET: usize = 64;
/// The most bindings: home addresses are 2001:db8:1::1:0 + i.
const MAX_BINDINGS: usize = 1 << 24;

/// Writes one contender's backup, configuration and template pcap.
#[derive(Debug, Parser)]
#[command(name = "recovery-gen")]
struct Args {
    /// The configuration file to write.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The backup file to write (replaced).
    #[arg(long, value_name = "FILE")]
    backup: PathBuf,
    /// The template pcap to write (both ports replay it).
    #[arg(long, value_name = "FILE")]
    pcap: PathBuf,
    /// Frames in the template pcap.
    #[arg(long, default_value_t = 1_000_000)]
    frames: usize,
    /// Restored bindings.
    #[arg(long, default_value_t = 100_000)]
    bindings: usize,
    /// Care-of /64s the bindings are spread over.
    #[arg(long, default_value_t = 16)]
    care_of_networks: u16,
    /// `[recovery] rate`: Binding Refresh Requests a second.
    #[arg(long)]
    rate: u32,
    /// `[recovery] burst`.
    #[arg(long, default_value_t = 100)]
    burst: u32,
    /// `[recovery] timeout_ms` (long by default: nothing times out during a run).
    #[arg(long, default_value_t = 3_600_000)]
    timeout_ms: u64,
    /// The worker's core.
    #[arg(long, default_value_t = 1)]
    worker_core: usize,
    /// dataplane.control_socket.
    #[arg(long)]
    control_socket: Option<String>,
}

fn home(i: usize) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 1, 0)) + i as u128)
}

fn care_of(i: usize, networks: u16) -> Ipv6Addr {
    let net = (i % usize::from(networks)) as u16;
    let base = u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0x100, net, 0, 0, 0, 0));
    Ipv6Addr::from(base + 1 + i as u128)
}

fn write_backup(a: &Args) -> Result<()> {
    if a.backup.exists() {
        std::fs::remove_file(&a.backup)
            .with_context(|| format!("cannot replace {}", a.backup.display()))?;
    }
    let mut backup = Backup::open(&a.backup)?;
    let expires = Expiry::At(SystemTime::now() + Duration::from_secs(86_400));
    let mut changes = Vec::with_capacity(10_000);
    for i in 0..a.bindings {
        changes.push(Change::Put(Record {
            role: Role::HomeAgent,
            home_address: IpAddr::V6(home(i)),
            care_of: vec![IpAddr::V6(care_of(i, a.care_of_networks))],
            encap: Encap::IpInIp,
            tunnel_source: IpAddr::V6(HOME_AGENT),
            lifetime: 86_400,
            expires,
            replay: ReplayState {
                last_sequence: Some(1),
                ..ReplayState::default()
            },
            spi: Some(256),
            nai: None,
            profiles: Vec::new(),
            role_data: RoleData::None,
        }));
        if changes.len() == changes.capacity() {
            backup.apply(&changes)?;
            changes.clear();
        }
    }
    backup.apply(&changes)?;
    Ok(())
}

fn write_config(a: &Args) -> Result<()> {
    let file =
        File::create(&a.config).with_context(|| format!("cannot create {}", a.config.display()))?;
    let mut w = BufWriter::new(file);
    let n = a.bindings;
    write!(
        w,
        "[dataplane]\nmode = \"mobility\"\nworkers = [{worker}]\nmbufs = 16383\nmbuf_cache = 256\n\
         {socket}\
         \n[node]\nroles = [\"home-agent\"]\naddresses = [\"{HOME_AGENT}\", \"2001:db8:2::1\"]\n\
         max_bindings = {room}\nmax_profiles = {profiles}\n\
         \n[[port]]\ndevice = \"net_null0\"\nrx_template_pcap = \"{pcap}\"\n\
         \n[[port]]\ndevice = \"net_null1\"\nrx_template_pcap = \"{pcap}\"\n\
         \n[[route]]\nprefix = \"2001:db8:1::/64\"\nport = \"net_null0\"\n\
         \n[[route]]\nprefix = \"2001:db8:2::/64\"\nport = \"net_null1\"\n\
         \n[[route]]\nprefix = \"2001:db8:100::/48\"\nport = \"net_null1\"\nvia = \"{ROUTER}\"\n\
         \n[[neighbour]]\nport = \"net_null1\"\naddress = \"{ROUTER}\"\nmac = \"02:00:00:00:02:fe\"\n\
         \n[home_agent6]\naddresses = [\"{HOME_AGENT}\"]\nhome_prefixes = [\"2001:db8:1::/64\"]\n\
         max_lifetime = 86400\nmax_bindings = {n}\nneighbour_advertisements = 1\n\
         binding_refresh_before_s = 0\n\
         \n[[home_agent6.security_association]]\nhome_address = \"{first}\"\nspi = 256\n\
         key = \"303132333435363738393a3b3c3d3e3f\"\n\
         \n[backup]\npath = \"{backup}\"\n\
         \n[recovery]\nrate = {rate}\nburst = {burst}\ntimeout_ms = {timeout}\nretries = 0\n",
        worker = a.worker_core,
        socket = a
            .control_socket
            .as_ref()
            .map_or(String::new(), |s| format!("control_socket = \"{s}\"\n")),
        room = n.max(65_536),
        profiles = n + 1024,
        pcap = a.pcap.display(),
        first = home(0),
        backup = a.backup.display(),
        rate = a.rate,
        burst = a.burst,
        timeout = a.timeout_ms,
    )?;
    w.flush()
        .with_context(|| format!("cannot write {}", a.config.display()))
}

fn main() -> Result<()> {
    let a = Args::parse();
    if a.bindings == 0 || a.bindings > MAX_BINDINGS {
        bail!("--bindings must be 1..={MAX_BINDINGS}");
    }
    if a.frames == 0 || a.care_of_networks == 0 {
        bail!("--frames and --care-of-networks must be at least 1");
    }
    write_backup(&a).with_context(|| format!("cannot write the backup {}", a.backup.display()))?;
    write_config(&a)?;
    let n = a.bindings;
    write_pcap(&a.pcap, a.frames, |j| {
        ethernet(0x86dd, &ipv6_udp(CORRESPONDENT, home(j % n), PACKET))
    })
    .with_context(|| format!("cannot write {}", a.pcap.display()))?;
    Ok(())
}
