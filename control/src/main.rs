//! `mipdp`: the mobility dataplane's command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mipdp_control::backup::BackupStart;
use mipdp_control::config::Config;
use mipdp_control::runtime::Dataplane;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mipdp: a kernel-bypass Mobile IP mobility dataplane on DPDK.
#[derive(Parser)]
#[command(
    name = "mipdp",
    version,
    about = "mipdp: a kernel-bypass Mobile IP mobility dataplane on DPDK"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the dataplane: bring up DPDK and the configured ports, start one pinned worker
    /// per configured core, and forward until SIGINT or SIGTERM; then print final counters.
    ///
    /// Everything after `--` goes to DPDK's EAL unchanged. Without hugepages or a NIC use
    /// for example: -- --no-huge -m 512 --no-pci --file-prefix mipdp --vdev net_tap0 --vdev net_tap1
    Run {
        /// The TOML configuration file (see examples/forwarder.toml for every key).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Print counters every MS milliseconds (overrides dataplane.stats_interval_ms).
        #[arg(long, value_name = "MS")]
        stats_interval: Option<u64>,
        /// Start with no bindings on purpose: move the binding backup ([backup] path)
        /// aside to PATH.discarded-<unix time> instead of restoring it.
        #[arg(long = "discard-backup")]
        discard_backup: bool,
        /// DPDK EAL arguments, after `--`.
        #[arg(last = true, value_name = "EAL ARGS")]
        eal: Vec<String>,
    },
    /// Talk to a running mipdp over its control socket.
    Ctl {
        /// The control socket (dataplane.control_socket of the running mipdp).
        #[arg(long, value_name = "PATH", default_value = mipdp_control::api::DEFAULT_SOCKET)]
        socket: PathBuf,
        #[command(subcommand)]
        command: CtlCommand,
    },
    /// Check a configuration file and exit: prints "ok" or what to fix.
    CheckConfig {
        /// The TOML configuration file.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum CtlCommand {
    /// Show things.
    Show {
        #[command(subcommand)]
        what: ShowWhat,
    },
    /// Ask a mobile node for a new binding update.
    Refresh {
        #[command(subcommand)]
        what: RefreshWhat,
    },
}

#[derive(Subcommand)]
enum RefreshWhat {
    /// Send a Binding Refresh Request (RFC 6275 §9.5.5) to the mobile node of a Mobile
    /// IPv6 home address now.
    Binding {
        /// The home address.
        home: std::net::Ipv6Addr,
    },
}

#[derive(Subcommand)]
enum ShowWhat {
    /// Every counter: ports (with the NIC's), workers, drops by reason, and in mobility mode
    /// profile hits per class, encapsulations and decapsulations per method, ARP/ND
    /// answered, punts.
    Stats,
    /// The verification of the bindings restored from the backup at start: total,
    /// verified, pending, removed, unverified (Mobile IPv4), the request rate.
    Recovery,
    /// Every binding (role, home address, care-of addresses, seconds to expiry), one a
    /// line, at most LIMIT lines, then the total.
    Bindings {
        /// Lines at most.
        #[arg(long, default_value_t = mipdp_control::runtime::BINDINGS_SHOWN)]
        limit: usize,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mipdp: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ctl { socket, command } => {
            let text = match command {
                CtlCommand::Show {
                    what: ShowWhat::Stats,
                } => "show stats".to_string(),
                CtlCommand::Show {
                    what: ShowWhat::Recovery,
                } => "show recovery".to_string(),
                CtlCommand::Show {
                    what: ShowWhat::Bindings { limit },
                } => format!("show bindings {limit}"),
                CtlCommand::Refresh {
                    what: RefreshWhat::Binding { home },
                } => format!("refresh binding {home}"),
            };
            let reply = mipdp_control::api::request(&socket, &text)?;
            print!("{reply}");
            if reply.starts_with("error:") {
                anyhow::bail!("mipdp refused the command");
            }
            Ok(())
        }
        Command::CheckConfig { config } => {
            Config::load(&config)?;
            println!("ok");
            Ok(())
        }
        Command::Run {
            config,
            stats_interval,
            discard_backup,
            eal,
        } => {
            let mut config = Config::load(&config)?;
            if let Some(ms) = stats_interval {
                config.dataplane.stats_interval_ms = ms;
            }
            let stop = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, stop.clone())
                    .context("cannot install the SIGINT/SIGTERM handler")?;
            }
            let backup = if discard_backup {
                BackupStart::Discard
            } else {
                BackupStart::Restore
            };
            let mut dataplane = Dataplane::start(config, &eal, stop, backup)?;
            println!("mipdp: running; stop with Ctrl-C or SIGTERM");
            dataplane.run_until_stopped();
            dataplane.shutdown()
        }
    }
}
