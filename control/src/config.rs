//! The TOML configuration, validated at start-up. Every error names the key, the value
//! and what is expected.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mipdp_dataplane::port::template::Templates;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::signalling::cn::{CorrespondentConfig, CorrespondentSection};
use crate::signalling::mip4::{HomeAgentConfig, HomeAgentSection, MobileNodeId};
use crate::signalling::mip6::{HomeAgent6Config, HomeAgent6Section};

use crate::node::{
    bad, AnycastSection, BindingSection, CacheSection, MulticastSection, NeighbourSection,
    NodePlan, NodeSection, ProfileSection, RouteSection, StaticTables, VisitorSection,
};

/// What the dataplane does with packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Port to port with MAC rewrite (testpmd's mac mode): the performance floor.
    Forwarder,
    /// The mobility engine: the roles and tables of `[node]` and the table sections.
    Mobility,
}

/// A MAC address written `02:00:00:00:00:01`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl std::str::FromStr for MacAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(format!(
                "{s:?} is not a MAC address (expected six hex bytes like 02:00:00:00:00:01)"
            ));
        }
        for (o, p) in out.iter_mut().zip(parts) {
            *o = u8::from_str_radix(p, 16).map_err(|_| {
                format!(
                    "{s:?} is not a MAC address (expected six hex bytes like 02:00:00:00:00:01)"
                )
            })?;
        }
        Ok(MacAddr(out))
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// `[dataplane]`: the worker cores and packet buffers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataplane {
    /// What the workers do with packets.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// CPU cores, one worker pinned to each.
    pub workers: Vec<usize>,
    /// Packet buffers in the pool shared by all ports.
    #[serde(default = "default_mbufs")]
    pub mbufs: u32,
    /// Per-lcore cache of the pool.
    #[serde(default = "default_mbuf_cache")]
    pub mbuf_cache: u32,
    /// RX descriptors per queue.
    #[serde(default = "default_descriptors")]
    pub rx_descriptors: u16,
    /// TX descriptors per queue.
    #[serde(default = "default_descriptors")]
    pub tx_descriptors: u16,
    /// Times a TX burst retries what the NIC did not take before dropping it.
    #[serde(default = "default_tx_retries")]
    pub tx_retries: u32,
    /// Longest sleep of an idle worker, in microseconds (0: never sleep, only yield).
    #[serde(default = "default_idle_sleep")]
    pub idle_sleep_max_us: u64,
    /// Print counters every this many milliseconds (0: only when stopping).
    #[serde(default)]
    pub stats_interval_ms: u64,
    /// Unix socket `mipdp ctl` talks to (none: no control socket).
    #[serde(default = "default_control_socket")]
    pub control_socket: Option<String>,
}

fn default_control_socket() -> Option<String> {
    Some(crate::api::DEFAULT_SOCKET.to_string())
}

/// `[[port]]`: one DPDK port the dataplane uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSection {
    /// DPDK device name: `net_tap0` for `--vdev net_tap0`, or a PCI address.
    pub device: String,
    /// MAC of the host or router behind this port: the destination of frames sent here.
    pub peer_mac: Option<MacAddr>,
    /// MTU to set on the port.
    pub mtu: Option<u16>,
    /// Forwarder mode: the device that frames received here go out of (default: the paired
    /// port, 0↔1, 2↔3, as testpmd does).
    pub forward_to: Option<String>,
    /// Receive all frames whatever their destination MAC.
    #[serde(default = "default_true")]
    pub promiscuous: bool,
    /// Benchmark aid, not for production: a pcap file of Ethernet frames. Every frame the
    /// workers receive on this port is overwritten with the next of these frames (cycling),
    /// so that a packet source with meaningless contents (`net_null`) carries valid traffic.
    /// A relative path is taken from the configuration file's directory. See
    /// perf/README.md.
    pub rx_template_pcap: Option<String>,
}

/// `[backup]`: the durable binding backup (issue 6). Without this section no binding
/// is backed up and a restart starts with none (the default: a node must be told where
/// its state may live, and the examples and tests run without one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    /// The redb file holding one record per binding; created when missing. A relative
    /// path is taken from the configuration file's directory. A file that is corrupt,
    /// unreadable or of a newer format stops start-up (`mipdp run --discard-backup`
    /// moves it aside and starts empty).
    pub path: PathBuf,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[dataplane]`.
    pub dataplane: Dataplane,
    /// `[[port]]` sections, in port index order.
    #[serde(rename = "port", default)]
    pub ports: Vec<PortSection>,
    /// `[node]`: roles and addresses (mobility mode).
    pub node: Option<NodeSection>,
    /// `[[route]]` sections.
    #[serde(rename = "route", default)]
    pub routes: Vec<RouteSection>,
    /// `[[neighbour]]` sections.
    #[serde(rename = "neighbour", default)]
    pub neighbours: Vec<NeighbourSection>,
    /// `[[binding]]` sections.
    #[serde(rename = "binding", default)]
    pub bindings: Vec<BindingSection>,
    /// `[[visitor]]` sections.
    #[serde(rename = "visitor", default)]
    pub visitors: Vec<VisitorSection>,
    /// `[[cache]]` sections.
    #[serde(rename = "cache", default)]
    pub cache: Vec<CacheSection>,
    /// `[[multicast]]` sections.
    #[serde(rename = "multicast", default)]
    pub multicast: Vec<MulticastSection>,
    /// `[[anycast]]` sections.
    #[serde(rename = "anycast", default)]
    pub anycast: Vec<AnycastSection>,
    /// `[[profile]]` sections.
    #[serde(rename = "profile", default)]
    pub profiles: Vec<ProfileSection>,
    /// `[home_agent]`: Mobile IPv4 registration (mobility mode, role home-agent).
    pub home_agent: Option<HomeAgentSection>,
    /// `[home_agent6]`: Mobile IPv6 home registration (mobility mode, role home-agent).
    pub home_agent6: Option<HomeAgent6Section>,
    /// `[map]`: HMIPv6 local binding updates (mobility mode, role map).
    pub map: Option<crate::signalling::hmip6::MapSection>,
    /// `[mma]`: MMA registrations (mobility mode, role mma).
    pub mma: Option<crate::signalling::mma::MmaSection>,
    /// `[correspondent]`: return routability and correspondent registrations (mobility
    /// mode, role correspondent).
    pub correspondent: Option<CorrespondentSection>,
    /// `[foreign_agent]`: Mobile IPv4 agent advertisements and registration relaying
    /// (mobility mode, role foreign-agent).
    pub foreign_agent: Option<crate::signalling::fa::ForeignAgentSection>,
    /// `[recovery]`: the paced verification of the bindings restored from the backup
    /// after a restart (defaults when absent).
    #[serde(default)]
    pub recovery: crate::recovery::RecoverySection,
    /// `[backup]`: the durable binding backup (mobility mode).
    pub backup: Option<BackupSection>,
    /// The frames of each port's `rx_template_pcap`, by port index (loaded and checked
    /// with the configuration; None for a port without one).
    #[serde(skip)]
    pub rx_templates: Vec<Option<Arc<Templates>>>,
    /// The plan made when the configuration was checked (mobility mode), for
    /// [`Self::take_checked_plan`]: the start does not make it again (nor read a
    /// `node.bindings_file` once more).
    #[serde(skip)]
    checked_plan: Option<NodePlan>,
}

fn default_mode() -> Mode {
    Mode::Forwarder
}
fn default_mbufs() -> u32 {
    16383
}
fn default_mbuf_cache() -> u32 {
    256
}
fn default_descriptors() -> u16 {
    1024
}
fn default_tx_retries() -> u32 {
    8
}
fn default_idle_sleep() -> u64 {
    1000
}
fn default_true() -> bool {
    true
}

/// A configuration that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {reason}")]
    Read {
        /// File path.
        path: String,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// TOML syntax or a key of the wrong type or name.
    #[error("configuration file {path}: {message}")]
    Parse {
        /// File path.
        path: String,
        /// The parser's message, which names the key and line.
        message: String,
    },
    /// A value that parses but cannot work.
    #[error("configuration file {path}: {key} = {value}: {expected}")]
    Invalid {
        /// File path.
        path: String,
        /// The key, e.g. `port[1].forward_to`.
        key: String,
        /// The value found.
        value: String,
        /// What is expected instead.
        expected: String,
    },
}

impl Config {
    /// Reads and validates the configuration at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: shown.clone(),
            reason,
        })?;
        Config::parse(&text, &shown)
    }

    /// Parses and validates configuration text; `path` is used in messages and as the
    /// base of relative file names in it.
    pub fn parse(text: &str, path: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if let Some(node) = config.node.as_mut() {
            for file in [&mut node.bindings_file, &mut node.multicast_file]
                .into_iter()
                .flatten()
            {
                if file.is_relative() {
                    *file = Path::new(path)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .join(&*file);
                }
            }
        }
        config.validate(path)?;
        config.rx_templates = config.load_rx_templates(path)?;
        if let Some(b) = &mut config.backup {
            if b.path.is_relative() {
                b.path = Path::new(path)
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(&b.path);
            }
        }
        Ok(config)
    }

    /// Reads every port's `rx_template_pcap` (a file named by several ports is read once
    /// and shared).
    fn load_rx_templates(&self, path: &str) -> Result<Vec<Option<Arc<Templates>>>, ConfigError> {
        let base = Path::new(path).parent().unwrap_or(Path::new(""));
        let mut loaded: Vec<(PathBuf, Arc<Templates>)> = Vec::new();
        let mut out = Vec::with_capacity(self.ports.len());
        for (i, p) in self.ports.iter().enumerate() {
            let Some(name) = &p.rx_template_pcap else {
                out.push(None);
                continue;
            };
            let file = base.join(name);
            let file = std::fs::canonicalize(&file).unwrap_or(file);
            if let Some((_, t)) = loaded.iter().find(|(f, _)| *f == file) {
                out.push(Some(t.clone()));
                continue;
            }
            let invalid = |why: String| {
                ConfigError::Invalid {
                path: path.to_string(),
                key: format!("port[{i}].rx_template_pcap"),
                value: format!("{name:?}"),
                expected: format!(
                    "{why}; expected a pcap file of Ethernet frames (a benchmark aid, see perf/README.md)"
                ),
            }
            };
            let bytes = std::fs::read(&file)
                .map_err(|e| invalid(format!("cannot read {}: {e}", file.display())))?;
            let templates = Templates::from_pcap(&bytes)
                .map_err(|e| invalid(format!("{}: {e}", file.display())))?;
            let templates = Arc::new(templates);
            loaded.push((file, templates.clone()));
            out.push(Some(templates));
        }
        Ok(out)
    }

    fn validate(&mut self, path: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, value: String, expected: &str| ConfigError::Invalid {
            path: path.to_string(),
            key: key.to_string(),
            value,
            expected: expected.to_string(),
        };
        let mut checked = None;
        let dp = &self.dataplane;
        if let Some(b) = &self.backup {
            if b.path.as_os_str().is_empty() {
                return Err(invalid(
                    "backup.path",
                    "\"\"".into(),
                    "the file to keep the bindings in, e.g. \"/var/lib/mipdp/bindings.redb\"",
                ));
            }
            if dp.mode != Mode::Mobility {
                return Err(invalid(
                    "backup.path",
                    format!("{:?}", b.path.display().to_string()),
                    "dataplane.mode = \"mobility\": a forwarder has no bindings to back up; \
                     remove [backup]",
                ));
            }
        }
        if dp.workers.is_empty() {
            return Err(invalid(
                "dataplane.workers",
                "[]".into(),
                "at least one CPU core for a worker, e.g. [1]",
            ));
        }
        let mut seen = HashSet::new();
        for core in &dp.workers {
            if !seen.insert(core) {
                return Err(invalid(
                    "dataplane.workers",
                    format!("{:?}", dp.workers),
                    "each core at most once (one worker per core)",
                ));
            }
        }
        if self.ports.is_empty() {
            return Err(invalid(
                "port",
                "(none)".into(),
                "at least one [[port]] section with a device name",
            ));
        }
        for (name, v) in [
            ("dataplane.rx_descriptors", dp.rx_descriptors),
            ("dataplane.tx_descriptors", dp.tx_descriptors),
        ] {
            if !(32..=16384).contains(&v) {
                return Err(invalid(name, v.to_string(), "between 32 and 16384"));
            }
        }
        if dp.mbuf_cache > 512 {
            return Err(invalid(
                "dataplane.mbuf_cache",
                dp.mbuf_cache.to_string(),
                "at most 512 (DPDK's RTE_MEMPOOL_CACHE_MAX_SIZE)",
            ));
        }
        let mut devices = HashSet::new();
        for (i, p) in self.ports.iter().enumerate() {
            if p.device.is_empty() {
                return Err(invalid(
                    &format!("port[{i}].device"),
                    "\"\"".into(),
                    "a DPDK device name such as net_tap0",
                ));
            }
            if !devices.insert(p.device.as_str()) {
                return Err(invalid(
                    &format!("port[{i}].device"),
                    format!("{:?}", p.device),
                    "each device in one [[port]] section only",
                ));
            }
            if let Some(mtu) = p.mtu {
                if !(68..=9600).contains(&mtu) {
                    return Err(invalid(
                        &format!("port[{i}].mtu"),
                        mtu.to_string(),
                        "between 68 and 9600",
                    ));
                }
            }
        }
        for (i, p) in self.ports.iter().enumerate() {
            if let Some(to) = &p.forward_to {
                if !devices.contains(to.as_str()) {
                    return Err(invalid(
                        &format!("port[{i}].forward_to"),
                        format!("{to:?}"),
                        "the device of another [[port]] section",
                    ));
                }
            }
        }
        match (dp.mode, &self.node) {
            (Mode::Mobility, None) => {
                return Err(invalid(
                    "node",
                    "(missing)".into(),
                    "a [node] section with roles and addresses for mode = \"mobility\" (see examples/home-agent.toml)",
                ))
            }
            (Mode::Mobility, Some(_)) => {
                checked = Some(self.plan().map_err(|b| invalid(&b.key, b.value, &b.expected))?);
            }
            (Mode::Forwarder, _) if self.home_agent.is_some() => {
                return Err(invalid(
                    "home_agent",
                    "(present)".into(),
                    "mode = \"mobility\" in [dataplane]: the forwarder does not answer registrations",
                ))
            }
            (Mode::Forwarder, _) if self.map.is_some() || self.mma.is_some() => {
                return Err(invalid(
                    if self.map.is_some() { "map" } else { "mma" },
                    "(present)".into(),
                    "mode = \"mobility\" in [dataplane]: the forwarder does not answer binding updates",
                ))
            }
            (Mode::Forwarder, _) if self.home_agent6.is_some() => {
                return Err(invalid(
                    "home_agent6",
                    "(present)".into(),
                    "mode = \"mobility\" in [dataplane]: the forwarder does not answer binding updates",
                ))
            }
            (Mode::Forwarder, _) if self.foreign_agent.is_some() => {
                return Err(invalid(
                    "foreign_agent",
                    "(present)".into(),
                    "mode = \"mobility\" in [dataplane]: the forwarder does not relay registrations",
                ))
            }
            (Mode::Forwarder, _) if self.correspondent.is_some() => {
                return Err(invalid(
                    "correspondent",
                    "(present)".into(),
                    "mode = \"mobility\" in [dataplane]: the forwarder does not answer return routability",
                ))
            }
            (Mode::Forwarder, _) => {}
        }
        let need = self.mbufs_needed();
        if dp.mbufs < need {
            return Err(invalid(
                "dataplane.mbufs",
                dp.mbufs.to_string(),
                &format!(
                    "at least {need} for {} ports × {} workers with these descriptor counts",
                    self.ports.len(),
                    dp.workers.len()
                ),
            ));
        }
        self.checked_plan = checked;
        Ok(())
    }

    /// The plan made when the configuration was checked, once (mobility mode; None after
    /// the first call, or in forwarder mode). [`Self::plan`] makes it anew.
    pub fn take_checked_plan(&mut self) -> Option<NodePlan> {
        self.checked_plan.take()
    }

    /// The mobility node's plan (mobility mode): settings and start-up table updates.
    pub fn plan(&self) -> Result<NodePlan, crate::node::Bad> {
        let Some(node) = &self.node else {
            return Err(crate::node::Bad {
                key: "node".into(),
                value: "(missing)".into(),
                expected: "a [node] section".into(),
            });
        };
        let devices: Vec<String> = self.ports.iter().map(|p| p.device.clone()).collect();
        let mut plan = node.plan(
            &StaticTables {
                routes: &self.routes,
                neighbours: &self.neighbours,
                bindings: &self.bindings,
                visitors: &self.visitors,
                cache: &self.cache,
                multicast: &self.multicast,
                anycast: &self.anycast,
                profiles: &self.profiles,
            },
            &devices,
        )?;
        plan.home_agent = match &self.home_agent {
            Some(section) => Some(self.check_home_agent(node, section, &plan)?),
            None => None,
        };
        plan.home_agent6 = match &self.home_agent6 {
            Some(section) => Some(self.check_home_agent6(node, section, &plan)?),
            None => None,
        };
        plan.map = match &self.map {
            Some(section) => Some(self.check_map(node, section, &plan)?),
            None => None,
        };
        plan.mma = match &self.mma {
            Some(section) => Some(self.check_mma(node, section, &plan)?),
            None => None,
        };
        if let Some(mma) = plan.mma.clone() {
            Self::add_mma_peers(node, &mma, &mut plan)?;
        }
        plan.correspondent = match &self.correspondent {
            Some(section) => Some(self.check_correspondent(node, section, &plan)?),
            None => None,
        };
        plan.foreign_agent = match &self.foreign_agent {
            Some(section) => Some(self.check_foreign_agent(node, section, &plan)?),
            None => None,
        };
        plan.recovery = self.recovery.check()?;
        Ok(plan)
    }

    /// Checks `[map]` against the rest of the file: the role, its addresses among the
    /// node's (only those have the Mobility Header punted), its RCoA prefixes inside
    /// `node.rcoa_prefixes`, room on the workers beside the home agents, and no RCoA both
    /// registered and static.
    fn check_map(
        &self,
        node: &NodeSection,
        section: &crate::signalling::hmip6::MapSection,
        plan: &NodePlan,
    ) -> Result<HomeAgent6Config, crate::node::Bad> {
        let map = section.check()?;
        self.check_anchor(
            node,
            &map,
            plan,
            ("map", "rcoa_prefixes"),
            &node.rcoa_prefixes,
        )?;
        let room = self.registration_room(node, plan);
        let others = plan.home_agent.as_ref().map_or(0, |h| h.max_bindings)
            + plan.home_agent6.as_ref().map_or(0, |h| h.max_bindings);
        if map.max_bindings.saturating_add(others) > room {
            return Err(crate::node::Bad {
                key: "map.max_bindings".into(),
                value: map.max_bindings.to_string(),
                expected: format!(
                    "at most {} (each bound RCoA takes a binding and a node-destination profile on every worker, beside the home agents': raise node.max_bindings / node.max_profiles or lower this)",
                    room.saturating_sub(others)
                ),
            });
        }
        for (i, sa) in map.security_associations.iter().enumerate() {
            self.require_registrable(
                std::net::IpAddr::V6(sa.home_address),
                &map.home_prefixes,
                format!("map.security_association[{i}].home_address"),
                ("a regional care-of address", "map.rcoa_prefixes"),
            )?;
        }
        Ok(map)
    }

    /// Checks `[mma]` against the rest of the file: the role, its addresses among the
    /// node's, its care-of prefixes inside `node.care_of_prefixes` (the tunnels to them
    /// are decapsulated there), and room in the workers' multicast maps (two entries per
    /// mobile, beside the static ones).
    fn check_mma(
        &self,
        node: &NodeSection,
        section: &crate::signalling::mma::MmaSection,
        plan: &NodePlan,
    ) -> Result<HomeAgent6Config, crate::node::Bad> {
        let mma = section.check()?;
        self.check_anchor(
            node,
            &mma,
            plan,
            ("mma", "care_of_prefixes"),
            &node.care_of_prefixes,
        )?;
        let file = plan.multicast_file.as_ref();
        let room = plan
            .limits
            .multicast
            .saturating_sub(self.multicast.len())
            .saturating_sub(file.map_or(0, |f| f.count));
        if mma.max_bindings.saturating_mul(2) > room {
            return Err(crate::node::Bad {
                key: "mma.max_bindings".into(),
                value: mma.max_bindings.to_string(),
                expected: format!(
                    "at most {} (each registered mobile takes two multicast-map entries, home and care-of address, on every worker)",
                    room / 2
                ),
            });
        }
        let registered: std::collections::HashSet<std::net::IpAddr> = mma
            .security_associations
            .iter()
            .map(|sa| std::net::IpAddr::V6(sa.home_address))
            .collect();
        let conflict = |key: String, home: std::net::IpAddr| {
            crate::node::Bad {
            key,
            value: home.to_string(),
            expected: "a mobile without an [[mma.security_association]]: registration would replace and remove its static entry".into(),
        }
        };
        for (i, m) in self.multicast.iter().enumerate() {
            if registered.contains(&m.mobile) {
                return Err(conflict(format!("multicast[{i}].mobile"), m.mobile));
            }
        }
        // The file once more, only when there are mobiles that register.
        if let (Some(f), false) = (file, registered.is_empty()) {
            let mut first = None;
            crate::node::multicast_file::read(&f.path, |number, line| {
                if first.is_none() && registered.contains(&line.mobile) {
                    first = Some((number, line.mobile));
                }
            })?;
            if let Some((n, home)) = first {
                return Err(conflict(
                    format!("node.multicast_file line {n} mobile"),
                    home,
                ));
            }
        }
        Ok(mma)
    }

    /// The node-source profiles that make tunnels from `mma.peers` to the MMA's addresses
    /// notify the control thread (the new MMA tells the correspondent,
    /// docs/mma-registration.md), within `node.max_profiles`.
    fn add_mma_peers(
        node: &NodeSection,
        mma: &HomeAgent6Config,
        plan: &mut NodePlan,
    ) -> Result<(), crate::node::Bad> {
        use mipdp_dataplane::profile::Class;
        use mipdp_dataplane::update::Update;
        let crate::signalling::mip6::Role6::MulticastAgent(settings) = &mma.role else {
            return Ok(());
        };
        let own: Vec<std::net::IpAddr> = mma.addresses.iter().map(|a| (*a).into()).collect();
        let peers: Vec<std::net::IpAddr> = settings.peers.iter().map(|a| (*a).into()).collect();
        let added = mipdp_dataplane::roles::mma_peers(&own, &peers);
        let source_profiles = plan
            .updates
            .iter()
            .filter(|u| matches!(u, Update::Profile(p) if p.class == Class::NodeSource))
            .count()
            + added.len();
        if source_profiles > node.max_profiles {
            return Err(crate::node::Bad {
                key: "node.max_profiles".into(),
                value: node.max_profiles.to_string(),
                expected: format!(
                    "at least {source_profiles}: a node-source profile per mma.peers entry and MMA address, beside the configured ones"
                ),
            });
        }
        plan.updates.extend(added.into_iter().map(Update::Profile));
        Ok(())
    }

    /// What `[map]` and `[mma]` both need: the role in `node.roles`, their addresses
    /// among the node's, and their prefixes inside the node's prefixes of that name.
    fn check_anchor(
        &self,
        node: &NodeSection,
        config: &HomeAgent6Config,
        plan: &NodePlan,
        (section, prefixes): (&str, &str),
        node_prefixes: &[String],
    ) -> Result<(), crate::node::Bad> {
        use crate::node::Bad;
        require_role(node, section, section, "answers binding updates")?;
        require_own(
            &config.addresses,
            &plan.addrs6,
            &format!("{section}.addresses"),
            "binding updates are handed to the control thread",
        )?;
        let outer: Vec<mipdp_dataplane::tables::Prefix> = node_prefixes
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect();
        for (i, p) in config.home_prefixes.iter().enumerate() {
            if !outer
                .iter()
                .any(|o| o.contains(p.addr()) && o.prefix_len() <= p.prefix_len())
            {
                return Err(Bad {
                    key: format!("{section}.{prefixes}[{i}]"),
                    value: p.to_string(),
                    expected: format!("a prefix inside one of node.{prefixes} (the workers' {section} profiles cover those)"),
                });
            }
        }
        Ok(())
    }

    /// A registered home address (or RCoA) named by `key`: inside one of `prefixes`
    /// (`prefixes_key`), and not a static `[[binding]]` too.
    fn require_registrable(
        &self,
        home: std::net::IpAddr,
        prefixes: &[mipdp_dataplane::tables::Prefix],
        key: String,
        (address, prefixes_key): (&str, &str),
    ) -> Result<(), crate::node::Bad> {
        if !prefixes.iter().any(|p| p.contains(home)) {
            return Err(bad(
                key,
                home,
                format!("{address} inside one of {prefixes_key}"),
            ));
        }
        if self.bindings.iter().any(|b| b.home == home) {
            return Err(bad(
                key,
                home,
                "an address without a static [[binding]]: registration would replace and remove it",
            ));
        }
        Ok(())
    }

    /// Room for registered home addresses on every worker: bindings beside the static
    /// ones, and node-destination profiles beside the configured ones.
    fn registration_room(&self, node: &NodeSection, plan: &NodePlan) -> usize {
        let file = plan.bindings_file.as_ref().map_or(0, |f| f.count);
        let room = node
            .max_bindings
            .saturating_sub(self.bindings.len())
            .saturating_sub(file);
        let destination_profiles = file
            + plan
                .updates
                .iter()
                .filter(|u| {
                    matches!(u, mipdp_dataplane::update::Update::Profile(p)
                    if p.class == mipdp_dataplane::profile::Class::NodeDestination)
                })
                .count();
        room.min(node.max_profiles.saturating_sub(destination_profiles))
    }

    /// Checks `[correspondent]` against the rest of the file: the role, its addresses
    /// among the node's (only those have the Mobility Header punted to the control
    /// thread), and room on the workers beside the home agents' bindings and the static
    /// `[[cache]]` entries (each cached home address takes a cache entry and a
    /// node-destination profile).
    fn check_correspondent(
        &self,
        node: &NodeSection,
        section: &CorrespondentSection,
        plan: &NodePlan,
    ) -> Result<CorrespondentConfig, crate::node::Bad> {
        use crate::node::Bad;
        let cn = section.check()?;
        require_role(
            node,
            "correspondent",
            "correspondent",
            "answers return routability",
        )?;
        require_own(
            &cn.addresses,
            &plan.addrs6,
            "correspondent.addresses",
            "the Mobility Header is handed to the control thread",
        )?;
        let room = self.registration_room(node, plan);
        let home_agents = plan.home_agent.as_ref().map_or(0, |h| h.max_bindings)
            + plan.home_agent6.as_ref().map_or(0, |h| h.max_bindings);
        let cache_room = plan.limits.cache.saturating_sub(self.cache.len());
        let most = room.saturating_sub(home_agents).min(cache_room);
        if cn.max_cache_entries > most {
            return Err(Bad {
                key: "correspondent.max_cache_entries".into(),
                value: cn.max_cache_entries.to_string(),
                expected: format!(
                    "at most {most} (each cached home address takes a binding-cache entry and a node-destination profile on every worker, beside the home agents' bindings: raise node.max_profiles or lower this)"
                ),
            });
        }
        Ok(cn)
    }

    /// Checks `[home_agent6]` against the rest of the file as `[home_agent]` is: the role,
    /// its addresses among the node's (only those have the Mobility Header punted to the
    /// control thread), proxy ND (`node.proxy_arp` switches both), each home prefix on a
    /// link of its own, room on the workers shared with `[home_agent]`, and no home address
    /// both registered and static.
    fn check_home_agent6(
        &self,
        node: &NodeSection,
        section: &HomeAgent6Section,
        plan: &NodePlan,
    ) -> Result<HomeAgent6Config, crate::node::Bad> {
        let ha = section.check()?;
        require_role(node, "home-agent", "home_agent6", "answers binding updates")?;
        require_own(
            &ha.addresses,
            &plan.addrs6,
            "home_agent6.addresses",
            "binding updates are handed to the control thread",
        )?;
        if !node.proxy_arp {
            return Err(bad(
                "node.proxy_arp",
                "false",
                "true with [home_agent6]: the home agent answers neighbour solicitations for away mobiles' home addresses (proxy ND, RFC 6275 §10.4.1)",
            ));
        }
        require_on_link(
            plan,
            &ha.home_prefixes,
            "home_agent6.home_prefixes",
            "a home prefix inside a [[route]] without via (the home link, where the home agent answers neighbour solicitations for its away mobiles)",
        )?;
        let room = self.registration_room(node, plan);
        let ipv4 = plan.home_agent.as_ref().map_or(0, |h| h.max_bindings);
        if ha.max_bindings.saturating_add(ipv4) > room {
            return Err(bad(
                "home_agent6.max_bindings",
                ha.max_bindings,
                format!(
                    "at most {} (each registered home address takes a binding and a node-destination profile on every worker{}: raise node.max_bindings / node.max_profiles or lower this)",
                    room.saturating_sub(ipv4),
                    if ipv4 > 0 { ", beside home_agent.max_bindings" } else { "" }
                ),
            ));
        }
        for (i, sa) in ha.security_associations.iter().enumerate() {
            self.require_registrable(
                std::net::IpAddr::V6(sa.home_address),
                &ha.home_prefixes,
                format!("home_agent6.security_association[{i}].home_address"),
                ("an address", "home_agent6.home_prefixes"),
            )?;
        }
        Ok(ha)
    }

    /// Checks `[foreign_agent]` against the rest of the file: the role, its care-of and
    /// link addresses among the node's (only those have registrations punted and
    /// tunnels ended), each link's port and the connected route it is on, and room in
    /// the workers' visitor lists.
    fn check_foreign_agent(
        &self,
        node: &NodeSection,
        section: &crate::signalling::fa::ForeignAgentSection,
        plan: &NodePlan,
    ) -> Result<crate::signalling::fa::ForeignAgentConfig, crate::node::Bad> {
        require_role(
            node,
            "foreign-agent",
            "foreign_agent",
            "relays registrations",
        )?;
        let devices: Vec<&str> = self.ports.iter().map(|p| p.device.as_str()).collect();
        let mut links = Vec::new();
        for (i, l) in section.links.iter().enumerate() {
            let address = section.link_address(i)?;
            let Some(port) = devices.iter().position(|d| *d == l.port) else {
                return Err(bad(
                    format!("foreign_agent.link[{i}].port"),
                    l.port.clone(),
                    "the device of one of the [[port]] sections",
                ));
            };
            let port = port as u16;
            if !plan.addrs4.contains(&address) {
                return Err(bad(
                    format!("foreign_agent.link[{i}].address"),
                    address.to_string(),
                    "one of node.addresses too: registrations are handed to the control thread only for the node's own addresses",
                ));
            }
            let connected = plan.updates.iter().find_map(|u| match u {
                mipdp_dataplane::update::Update::Route { prefix, route }
                    if route.next_hop.is_none()
                        && route.port == port
                        && prefix.contains(std::net::IpAddr::V4(address)) =>
                {
                    Some(prefix.prefix_len())
                }
                _ => None,
            });
            let Some(prefix_len) = connected else {
                return Err(bad(
                    format!("foreign_agent.link[{i}].address"),
                    address.to_string(),
                    "an address inside a [[route]] without via on the link's port (the visited link)",
                ));
            };
            links.push(crate::signalling::fa::VisitedLink {
                port,
                address,
                prefix_len,
            });
        }
        let fa = section.check(links)?;
        require_own(
            &fa.care_of_addresses,
            &plan.addrs4,
            "foreign_agent.care_of_addresses",
            "tunnels to the care-of address end",
        )?;
        let room = plan.limits.visitors.saturating_sub(self.visitors.len());
        if fa.max_visitors > room {
            return Err(bad(
                "foreign_agent.max_visitors",
                fa.max_visitors,
                format!(
                    "at most {room} (what each worker's visitor list holds, less the static [[visitor]] entries)"
                ),
            ));
        }
        Ok(fa)
    }

    /// Checks `[home_agent]` and what it needs from the rest of the file: the role, its
    /// addresses among the node's (only those have registrations punted to the control
    /// thread), proxy ARP, and each home network on a link of its own.
    fn check_home_agent(
        &self,
        node: &NodeSection,
        section: &HomeAgentSection,
        plan: &NodePlan,
    ) -> Result<HomeAgentConfig, crate::node::Bad> {
        let ha = section.check()?;
        require_role(node, "home-agent", "home_agent", "answers registrations")?;
        require_own(
            &ha.addresses,
            &plan.addrs4,
            "home_agent.addresses",
            "registrations are handed to the control thread",
        )?;
        if !node.proxy_arp {
            return Err(bad(
                "node.proxy_arp",
                "false",
                "true with [home_agent]: the home agent answers ARP for away mobiles' home addresses (RFC 5944 §4.6)",
            ));
        }
        require_on_link(
            plan,
            &ha.home_prefixes,
            "home_agent.home_prefixes",
            "a home network inside a [[route]] without via (the home link, where the home agent answers ARP for its away mobiles)",
        )?;
        let room = self.registration_room(node, plan);
        if ha.max_bindings > room {
            return Err(bad(
                "home_agent.max_bindings",
                ha.max_bindings,
                format!(
                    "at most {room} (each registered home address takes a binding and a node-destination profile on every worker: raise node.max_bindings / node.max_profiles or lower this)"
                ),
            ));
        }
        for (i, sa) in ha.security_associations.iter().enumerate() {
            let MobileNodeId::HomeAddress(home) = &sa.mobile_node else {
                continue;
            };
            self.require_registrable(
                std::net::IpAddr::V4(*home),
                &ha.home_prefixes,
                format!("home_agent.security_association[{i}].home_address"),
                ("an address", "home_agent.home_prefixes"),
            )?;
        }
        Ok(ha)
    }

    /// Buffers the rings, bursts and caches can hold at once.
    pub fn mbufs_needed(&self) -> u32 {
        let dp = &self.dataplane;
        let workers = dp.workers.len() as u32;
        let ports = self.ports.len() as u32;
        let rings = ports
            * (u32::from(dp.rx_descriptors) * workers
                + u32::from(dp.tx_descriptors) * (workers + 1));
        let in_flight = workers * (ports + 1) * 32 * 2;
        let caches = (workers + 1) * dp.mbuf_cache;
        rings + in_flight + caches
    }

    /// Index of the port that frames received on port `i` leave by.
    pub fn egress_of(&self, i: usize) -> u16 {
        let by_name = self
            .ports
            .get(i)
            .and_then(|p| p.forward_to.as_ref())
            .and_then(|to| self.ports.iter().position(|q| &q.device == to));
        match by_name {
            Some(j) => j as u16,
            None => mipdp_dataplane::Forwarder::paired(i, self.ports.len()),
        }
    }
}

/// `node.roles` names `role`, for which `[section]` `serves`.
fn require_role(
    node: &NodeSection,
    role: &str,
    section: &str,
    serves: &str,
) -> Result<(), crate::node::Bad> {
    if node.roles.iter().any(|r| r == role) {
        return Ok(());
    }
    Err(bad(
        "node.roles",
        format!("{:?}", node.roles),
        format!("\"{role}\" among them: [{section}] {serves} for that role"),
    ))
}

/// Every address of the list `key` is one of the node's own (`own`): only those get
/// `what`.
fn require_own<A: PartialEq + fmt::Display>(
    addrs: &[A],
    own: &[A],
    key: &str,
    what: &str,
) -> Result<(), crate::node::Bad> {
    for (i, a) in addrs.iter().enumerate() {
        if !own.contains(a) {
            return Err(bad(
                format!("{key}[{i}]"),
                a,
                format!("one of node.addresses too: {what} only for the node's own addresses"),
            ));
        }
    }
    Ok(())
}

/// Every prefix of the list `key` lies inside a connected `[[route]]` (one without
/// via); `expected` says what that link is for.
fn require_on_link(
    plan: &NodePlan,
    prefixes: &[mipdp_dataplane::tables::Prefix],
    key: &str,
    expected: &str,
) -> Result<(), crate::node::Bad> {
    for (i, p) in prefixes.iter().enumerate() {
        let on_link = plan.updates.iter().any(|u| {
            matches!(u, mipdp_dataplane::update::Update::Route { prefix, route }
                if route.next_hop.is_none() && prefix.contains(p.addr())
                    && prefix.prefix_len() <= p.prefix_len())
        });
        if !on_link {
            return Err(bad(format!("{key}[{i}]"), p, expected));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [dataplane]
        workers = [1]
        rx_descriptors = 256
        tx_descriptors = 256
        [[port]]
        device = "net_tap0"
        peer_mac = "02:00:00:00:00:01"
        [[port]]
        device = "net_tap1"
    "#;

    fn err(text: &str) -> String {
        Config::parse(text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn good_config_pairs_ports_like_testpmd() {
        let c = Config::parse(GOOD, "t.toml").unwrap();
        assert_eq!(c.dataplane.mode, Mode::Forwarder);
        assert_eq!(c.egress_of(0), 1);
        assert_eq!(c.egress_of(1), 0);
        assert_eq!(c.ports[0].peer_mac, Some(MacAddr([2, 0, 0, 0, 0, 1])));
    }

    #[test]
    fn unknown_key_is_named() {
        let e = err(&GOOD.replace("workers = [1]", "workers = [1]\nwrokers = 2"));
        assert!(e.contains("wrokers"), "{e}");
    }

    #[test]
    fn bad_mac_names_the_value_and_the_format() {
        let e = err(&GOOD.replace("02:00:00:00:00:01", "02:00:00:00:01"));
        assert!(
            e.contains("02:00:00:00:01") && e.contains("six hex bytes"),
            "{e}"
        );
    }

    #[test]
    fn unknown_mode_lists_the_valid_ones() {
        let e = err(&GOOD.replace("workers = [1]", "workers = [1]\nmode = \"router\""));
        assert!(e.contains("router") && e.contains("forwarder"), "{e}");
    }

    #[test]
    fn forward_to_must_name_a_port() {
        let e = err(&GOOD.replace(
            "device = \"net_tap1\"",
            "device = \"net_tap1\"\nforward_to = \"net_tap7\"",
        ));
        assert!(
            e.contains("port[1].forward_to") && e.contains("net_tap7"),
            "{e}"
        );
    }

    #[test]
    fn too_few_mbufs_says_how_many() {
        let e = err(&GOOD.replace("workers = [1]", "workers = [1]\nmbufs = 100"));
        assert!(
            e.contains("dataplane.mbufs = 100") && e.contains("at least"),
            "{e}"
        );
    }

    /// A classic pcap file of `frames` (little-endian, microseconds, Ethernet).
    fn pcap(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for f in frames {
            for v in [0, 0, f.len() as u32, f.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn rx_template_pcap_is_loaded_from_the_configuration_directory_and_shared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.pcap"), pcap(&[&[1u8; 60], &[2u8; 78]])).unwrap();
        let text = GOOD
            .replace(
                "device = \"net_tap0\"",
                "device = \"net_tap0\"\nrx_template_pcap = \"t.pcap\"",
            )
            .replace(
                "device = \"net_tap1\"",
                "device = \"net_tap1\"\nrx_template_pcap = \"./t.pcap\"",
            );
        let path = dir.path().join("mipdp.toml");
        let c = Config::parse(&text, path.to_str().unwrap()).unwrap();
        let t0 = c.rx_templates[0].as_ref().unwrap();
        assert_eq!(t0.len(), 2);
        assert_eq!(t0.frame(1), &[2u8; 78][..]);
        // Named twice (differently), read once.
        assert!(Arc::ptr_eq(t0, c.rx_templates[1].as_ref().unwrap()));
        // Without the key, no templates.
        let plain = Config::parse(GOOD, path.to_str().unwrap()).unwrap();
        assert!(plain.rx_templates.iter().all(Option::is_none));
    }

    #[test]
    fn a_bad_rx_template_pcap_is_refused_with_the_key_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mipdp.toml");
        let with = |name: &str| {
            GOOD.replace(
                "device = \"net_tap1\"",
                &format!("device = \"net_tap1\"\nrx_template_pcap = \"{name}\""),
            )
        };
        let err = |name: &str| {
            Config::parse(&with(name), path.to_str().unwrap())
                .unwrap_err()
                .to_string()
        };
        let e = err("missing.pcap");
        assert!(
            e.contains("port[1].rx_template_pcap")
                && e.contains("missing.pcap")
                && e.contains("cannot read"),
            "{e}"
        );
        std::fs::write(dir.path().join("text.pcap"), b"frames, honest").unwrap();
        let e = err("text.pcap");
        assert!(
            e.contains("port[1].rx_template_pcap") && e.contains("not a pcap file"),
            "{e}"
        );
        std::fs::write(dir.path().join("empty.pcap"), pcap(&[])).unwrap();
        let e = err("empty.pcap");
        assert!(
            e.contains("port[1].rx_template_pcap") && e.contains("no frames"),
            "{e}"
        );
    }

    #[test]
    fn empty_workers_and_duplicate_cores_are_refused() {
        assert!(err(&GOOD.replace("[1]", "[]")).contains("dataplane.workers"));
        assert!(err(&GOOD.replace("[1]", "[1, 1]")).contains("each core at most once"));
    }
}

#[cfg(test)]
mod mobility_tests {
    use super::*;

    fn example() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/home-agent.toml"
        ))
        .unwrap()
    }

    fn err(text: &str) -> String {
        Config::parse(text, "ha.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_bindings_file_is_read_from_the_configuration_directory_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mipdp.toml");
        std::fs::write(
            dir.path().join("b.txt"),
            "10.9.0.1 192.0.2.7\n10.9.0.2 192.0.2.8 gre\n",
        )
        .unwrap();
        let text = example().replace("[node]\n", "[node]\nbindings_file = \"b.txt\"\n");
        let c = Config::parse(&text, path.to_str().unwrap()).unwrap();
        let plan = c.plan().unwrap();
        let file = plan.bindings_file.unwrap();
        assert_eq!(file.path, dir.path().join("b.txt"));
        assert_eq!(file.count, 2);
        assert_eq!(file.first_number, c.bindings.len() as u32);
        // With the [[binding]] sections, more than max_bindings: refused, naming the key.
        // 3 [[binding]] sections and 2 lines.
        let over = text.replace("max_bindings = 65536", "max_bindings = 4");
        let e = Config::parse(&over, path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("node.max_bindings = 4: at least 5"), "{e}");
        // A bad line: the file's key, the line and the field.
        std::fs::write(
            dir.path().join("b.txt"),
            "10.9.0.1 192.0.2.7\n10.9.0.2 nowhere\n",
        )
        .unwrap();
        let e = Config::parse(&text, path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("node.bindings_file line 2 care_of = \"nowhere\""),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("b.txt")).unwrap();
        let e = Config::parse(&text, path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("node.bindings_file") && e.contains("b.txt"),
            "{e}"
        );
    }

    #[test]
    fn the_home_agent_example_plans_its_tables() {
        let c = Config::parse(&example(), "ha.toml").unwrap();
        let plan = c.plan().unwrap();
        assert_eq!(plan.addrs4.len(), 2);
        use mipdp_dataplane::update::Update;
        let count = |f: fn(&Update) -> bool| plan.updates.iter().filter(|u| f(u)).count();
        assert_eq!(count(|u| matches!(u, Update::Binding { .. })), 3);
        assert_eq!(count(|u| matches!(u, Update::Route { .. })), 5);
        assert_eq!(count(|u| matches!(u, Update::Policy(_))), 1);
        // Role defaults, one profile per bound home address, the configured one.
        assert!(count(|u| matches!(u, Update::Profile(_))) > 3 + 1);
    }

    #[test]
    fn the_recovery_section_is_planned_and_its_errors_name_the_key() {
        let plan = Config::parse(&example(), "ha.toml")
            .unwrap()
            .plan()
            .unwrap();
        assert_eq!(plan.recovery, crate::recovery::RecoverySettings::default());
        let text = example().replace("rate = 100\nburst = 10", "rate = 250\nburst = 3");
        let plan = Config::parse(&text, "ha.toml").unwrap().plan().unwrap();
        assert_eq!((plan.recovery.rate, plan.recovery.burst), (250, 3));
        let e = err(&example().replace("prefix_length_v6 = 64", "prefix_length_v6 = 130"));
        assert!(
            e.contains("recovery.prefix_length_v6 = 130") && e.contains("0 to 128"),
            "{e}"
        );
        let e = err(&example().replace("timeout_ms = 2000", "timeout_ms = 0"));
        assert!(e.contains("recovery.timeout_ms = 0"), "{e}");
        let e = err(&example().replace("retries = 2", "retries = 2\nretry = 1"));
        assert!(e.contains("retry"), "{e}");
    }

    #[test]
    fn the_foreign_agent_example_advertises_and_its_errors_name_the_key() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/foreign-agent.toml"),
        )
        .unwrap();
        let plan = Config::parse(&text, "fa.toml").unwrap().plan().unwrap();
        let fa = plan.foreign_agent.expect("[foreign_agent]");
        assert_eq!(fa.links[0].port, 0);
        assert_eq!(fa.links[0].prefix_len, 24);
        for (from, to, key) in [
            (
                "port = \"net_tap0\"\naddress",
                "port = \"net_tap9\"\naddress",
                "foreign_agent.link[0].port",
            ),
            (
                "address = \"172.16.0.1\"",
                "address = \"172.16.0.9\"",
                "foreign_agent.link[0].address",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]",
                "care_of_addresses = [\"203.0.113.7\"]",
                "foreign_agent.care_of_addresses[0]",
            ),
            (
                "roles = [\"foreign-agent\"]",
                "roles = [\"router\"]",
                "node.roles",
            ),
        ] {
            assert!(text.contains(from), "{from}");
            let e = Config::parse(&text.replacen(from, to, 1), "fa.toml")
                .map(|_| ())
                .expect_err("refused");
            assert!(
                format!("{e:?}").contains(&format!("key: \"{key}\"")),
                "{e:?}"
            );
        }
    }

    #[test]
    fn the_home_agent_example_registers_mobiles() {
        let plan = Config::parse(&example(), "ha.toml")
            .unwrap()
            .plan()
            .unwrap();
        let ha = plan.home_agent.expect("[home_agent]");
        assert_eq!(ha.addresses, vec![std::net::Ipv4Addr::new(10, 1, 0, 1)]);
        assert_eq!(ha.security_associations.len(), 2);
        assert_eq!(ha.foreign_agents.len(), 1);
        assert_eq!(ha.gratuitous_arps, 3);
        assert_eq!(ha.error_replies.per_second, 100);
    }

    /// The example without its `[home_agent]` section, so that `[home_agent6]`'s checks
    /// are the ones that speak.
    fn without_ipv4_home_agent(text: String) -> String {
        let start = text.find("[home_agent]\n").expect("[home_agent]");
        let end = text
            .find("# The Mobile IPv6 home agent")
            .expect("[home_agent6] comment");
        format!("{}{}", &text[..start], &text[end..])
    }

    #[test]
    fn the_home_agent_example_answers_binding_updates() {
        let plan = Config::parse(&example(), "ha.toml")
            .unwrap()
            .plan()
            .unwrap();
        let ha = plan.home_agent6.expect("[home_agent6]");
        assert_eq!(
            ha.addresses,
            vec!["2001:db8:1::1".parse::<std::net::Ipv6Addr>().unwrap()]
        );
        assert_eq!(ha.security_associations.len(), 1);
        assert_eq!(ha.operation.neighbour_advertisements, 3);
        assert_eq!(
            ha.operation.refresh_before,
            Some(std::time::Duration::from_secs(30))
        );
    }

    #[test]
    fn home_agent6_errors_name_the_key_and_what_to_do() {
        let ex = example();
        let cases = [
            (
                without_ipv4_home_agent(
                    ex.replace("roles = [\"home-agent\"]", "roles = [\"router\"]"),
                ),
                "node.roles",
                "[home_agent6]",
            ),
            (
                ex.replace(
                    "addresses = [\"2001:db8:1::1\"]",
                    "addresses = [\"2001:db8:1::2\"]",
                ),
                "home_agent6.addresses[0] = 2001:db8:1::2",
                "node.addresses",
            ),
            (
                without_ipv4_home_agent(ex.replace("proxy_arp = true", "proxy_arp = false")),
                "node.proxy_arp",
                "RFC 6275 §10.4.1",
            ),
            (
                ex.replace(
                    "home_prefixes = [\"2001:db8:1::/64\"]",
                    "home_prefixes = [\"2001:db8:9::/64\"]",
                ),
                "home_agent6.home_prefixes[0]",
                "[[route]] without via",
            ),
            (
                ex.replace(
                    "home_address = \"2001:db8:1::110\"",
                    "home_address = \"2001:db8:1::100\"",
                ),
                "home_agent6.security_association[0].home_address",
                "static [[binding]]",
            ),
            (
                ex.replace(
                    "home_address = \"2001:db8:1::110\"",
                    "home_address = \"2001:db8:2::110\"",
                ),
                "home_agent6.security_association[0].home_address",
                "home_agent6.home_prefixes",
            ),
            (
                ex.replace(
                    "max_bindings = 1024\n# Error",
                    "max_bindings = 65000\n# Error",
                ),
                "home_agent6.max_bindings",
                "beside home_agent.max_bindings",
            ),
            (
                ex.replace(
                    "neighbour_advertisements = 3",
                    "neighbour_advertisements = 4",
                ),
                "home_agent6.neighbour_advertisements",
                "1 to 3",
            ),
            (
                ex.replace(
                    "binding_refresh_before_s = 30",
                    "binding_refresh_before_s = 1800",
                ),
                "home_agent6.binding_refresh_before_s",
                "max_lifetime",
            ),
        ];
        for (text, key, hint) in cases {
            let e = err(&text);
            assert!(
                e.contains(key) && e.contains(hint),
                "want {key} / {hint}: {e}"
            );
        }
        let e = err(&without_ipv4_home_agent(
            ex.replace("mode = \"mobility\"", "mode = \"forwarder\""),
        ));
        assert!(e.contains("home_agent6") && e.contains("mobility"), "{e}");
    }

    #[test]
    fn home_agent_errors_name_the_key_and_what_to_do() {
        let ex = example();
        let cases = [
            (
                ex.replace("roles = [\"home-agent\"]", "roles = [\"router\"]"),
                "node.roles",
                "home-agent",
            ),
            (
                ex.replace("addresses = [\"10.1.0.1\"]", "addresses = [\"10.1.0.2\"]"),
                "home_agent.addresses[0] = 10.1.0.2",
                "node.addresses",
            ),
            (
                ex.replace("proxy_arp = true", "proxy_arp = false"),
                "node.proxy_arp",
                "RFC 5944 §4.6",
            ),
            (
                ex.replace(
                    "home_prefixes = [\"10.1.0.0/24\"]",
                    "home_prefixes = [\"10.9.0.0/24\"]",
                ),
                "home_agent.home_prefixes[0]",
                "[[route]] without via",
            ),
            (
                ex.replace(
                    "home_address = \"10.1.0.110\"",
                    "home_address = \"10.1.0.100\"",
                ),
                "home_agent.security_association[0].home_address",
                "static [[binding]]",
            ),
            (
                ex.replace(
                    "home_address = \"10.1.0.110\"",
                    "home_address = \"10.2.0.110\"",
                ),
                "home_agent.security_association[0].home_address",
                "home_agent.home_prefixes",
            ),
            (
                ex.replace("max_bindings = 1024", "max_bindings = 65536"),
                "home_agent.max_bindings",
                "node.max_bindings",
            ),
            (
                ex.replace("gratuitous_arps = 3", "gratuitous_arps = 50"),
                "home_agent.gratuitous_arps",
                "1 to 10",
            ),
            (
                ex.replace(
                    "reply_wait_ms = 1000",
                    "reply_wait_ms = 1000\nreply_wait = 1",
                ),
                "reply_wait",
                "unknown field",
            ),
        ];
        for (text, key, hint) in cases {
            let e = err(&text);
            assert!(
                e.contains(key) && e.contains(hint),
                "want {key} / {hint}: {e}"
            );
        }
    }

    #[test]
    fn correspondent_section_is_checked_against_the_node() {
        let cn = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/correspondent.toml"
        ))
        .unwrap();
        let plan = Config::parse(&cn, "correspondent.toml")
            .unwrap()
            .plan()
            .unwrap();
        let c = plan.correspondent.expect("[correspondent]");
        assert_eq!(c.max_lifetime, 420);
        for (from, to, key) in [
            (
                "roles = [\"correspondent\"]",
                "roles = [\"router\"]",
                "node.roles",
            ),
            (
                "addresses = [\"2001:db8:50::1\"]\nmax_lifetime",
                "addresses = [\"2001:db8:50::2\"]\nmax_lifetime",
                "correspondent.addresses[0]",
            ),
            (
                "max_cache_entries = 4096",
                "max_cache_entries = 100000",
                "correspondent.max_cache_entries",
            ),
            (
                "max_lifetime = 420 ",
                "max_lifetime = 600 ",
                "correspondent.max_lifetime",
            ),
        ] {
            assert!(cn.contains(from), "{from}");
            let e = err(&cn.replace(from, to));
            assert!(e.contains(key), "want {key}: {e}");
        }
    }

    #[test]
    fn mma_peers_get_a_notifying_node_source_profile_per_mma_address() {
        use mipdp_dataplane::profile::{AddrMatch, Class, TableRef};
        use mipdp_dataplane::update::Update;
        let mma =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/mma.toml"))
                .unwrap();
        let source_profiles = |text: &str| {
            let plan = Config::parse(text, "mma.toml").unwrap().plan().unwrap();
            plan.updates
                .iter()
                .filter_map(|u| match u {
                    Update::Profile(p) if p.class == Class::NodeSource => Some(*p),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let found = source_profiles(&mma);
        assert_eq!(found.len(), 1, "{found:?}");
        let p = found[0];
        assert_eq!(
            (p.matches.src, p.matches.dst, p.matches.proto),
            (
                AddrMatch::Exact("2001:db8:dd::1".parse().unwrap()),
                AddrMatch::Exact("2001:db8:cc::1".parse().unwrap()),
                Some(41)
            )
        );
        assert!(p.edit.notify && p.edit.decapsulate && p.table == TableRef::Multicast);
        // Without peers, none.
        let alone = mma.replace("peers = [\"2001:db8:dd::1\"]\n", "");
        assert!(source_profiles(&alone).is_empty());
        // A configured profile may notify, but not while punting.
        let punting = format!(
            "{mma}\n[[profile]]\nclass = \"node-source\"\nnumber = 1\nnotify = true\ntable = \"punt\"\n"
        );
        let e = err(&punting);
        assert!(e.contains("profile[0]") && e.contains("notify"), "{e}");
    }

    #[test]
    fn the_multicast_map_takes_node_max_multicast_entries() {
        let mma =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/mma.toml"))
                .unwrap();
        let plan = Config::parse(&mma, "mma.toml").unwrap().plan().unwrap();
        assert_eq!(plan.limits.multicast, 16_384);
        let big = mma.replace("max_multicast = 16384", "max_multicast = 1000000");
        let plan = Config::parse(&big, "mma.toml").unwrap().plan().unwrap();
        assert_eq!(plan.limits.multicast, 1_000_000);
        // Fewer than the static entries: refused, naming the key and the least it takes.
        let e = err(&mma.replace("max_multicast = 16384", "max_multicast = 1"));
        assert!(
            e.contains("node.max_multicast") && e.contains("at least 2"),
            "{e}"
        );
    }

    #[test]
    fn a_multicast_file_is_read_from_the_configuration_directory_and_counted() {
        let mma =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/mma.toml"))
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mma.toml");
        let path = path.to_str().unwrap();
        std::fs::write(
            dir.path().join("m.txt"),
            "2001:db8:1::200 ff3e:30:2001:db8::1
             2001:db8:1::201 new_mma=2001:db8:dd::1 forward_for_s=60
",
        )
        .unwrap();
        let text = mma.replace("[node]\n", "[node]\nmulticast_file = \"m.txt\"\n");
        let plan = Config::parse(&text, path).unwrap().plan().unwrap();
        let file = plan.multicast_file.unwrap();
        assert_eq!(file.path, dir.path().join("m.txt"));
        assert_eq!(file.count, 2);
        // 2 [[multicast]] sections and 2 lines, beyond max_multicast: refused.
        let over = text.replace("max_multicast = 16384", "max_multicast = 3");
        let e = Config::parse(&over, path).unwrap_err().to_string();
        assert!(e.contains("node.max_multicast = 3: at least 4"), "{e}");
        // The lines take room from the registered mobiles' two entries each.
        let tight = text.replace("max_multicast = 16384", "max_multicast = 6");
        let e = Config::parse(&tight, path).unwrap_err().to_string();
        assert!(
            e.contains("mma.max_bindings") && e.contains("at most 1"),
            "{e}"
        );
        // A mobile of the file that registers (has a security association): refused with
        // its line.
        std::fs::write(
            dir.path().join("m.txt"),
            "# two\n2001:db8:1::200 ff3e:30:2001:db8::1\n2001:db8:1::102 ff3e:30:2001:db8::2\n",
        )
        .unwrap();
        let e = Config::parse(&text, path).unwrap_err().to_string();
        assert!(
            e.contains("node.multicast_file line 3 mobile = 2001:db8:1::102")
                && e.contains("security_association"),
            "{e}"
        );
        // A bad line: the file's key, the line and the field.
        std::fs::write(dir.path().join("m.txt"), "2001:db8:1::200 2001:db8::9\n").unwrap();
        let e = Config::parse(&text, path).unwrap_err().to_string();
        assert!(
            e.contains("node.multicast_file line 1 group = 2001:db8::9")
                && e.contains("a multicast address"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("m.txt")).unwrap();
        let e = Config::parse(&text, path).unwrap_err().to_string();
        assert!(
            e.contains("node.multicast_file") && e.contains("m.txt"),
            "{e}"
        );
    }

    #[test]
    fn forwarding_to_a_new_mma_can_end_after_a_period() {
        let mma =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/mma.toml"))
                .unwrap();
        let plan = Config::parse(&mma, "mma.toml").unwrap().plan().unwrap();
        use mipdp_dataplane::update::Update;
        assert_eq!(plan.later.len(), 1);
        assert_eq!(plan.later[0].0, std::time::Duration::from_secs(300));
        assert!(matches!(plan.later[0].1, Update::RemoveMulticast { .. }));
        let e = err(&mma.replace(
            "group = \"ff3e:30:2001:db8:211:22ff:fe33:4455\"",
            "group = \"ff3e:30:2001:db8:211:22ff:fe33:4455\"\nforward_for_s = 5",
        ));
        assert!(
            e.contains("multicast[0].forward_for_s") && e.contains("only with new_mma"),
            "{e}"
        );
    }

    #[test]
    fn mobility_errors_name_the_key_and_what_to_write() {
        let ex = example();
        let e = err(&ex.replace("prefix = \"10.1.0.0/24\"", "prefix = \"10.1.0.1/24\""));
        assert!(
            e.contains("route[0].prefix") && e.contains("10.1.0.0/24"),
            "{e}"
        );
        let e = err(&ex.replace("encap = \"ipip\"", "encap = \"udp\""));
        assert!(
            e.contains("binding[0].encap") && e.contains("minimal"),
            "{e}"
        );
        let e = err(&ex.replace("port = \"net_tap1\"\nvia", "port = \"net_tap9\"\nvia"));
        assert!(
            e.contains("route[4].port") && e.contains("net_tap0, net_tap1"),
            "{e}"
        );
        let e = err(&ex.replace("roles = [\"home-agent\"]", "roles = [\"home agent\"]"));
        assert!(
            e.contains("node.roles[0]") && e.contains("foreign-agent"),
            "{e}"
        );
        let e = err(&ex.replace("care_of = [\"192.0.2.8\", \"192.0.2.9\"]", "care_of = []"));
        assert!(e.contains("binding[1].care_of"), "{e}");
        let e = err(&ex.replace("class = \"aaa-source\"", "class = \"aaa\""));
        assert!(
            e.contains("profile[0].class") && e.contains("node-default"),
            "{e}"
        );
        let e = err(&ex.replace(
            "policy = \"aaa-source > ",
            "policy = \"aaa-source > aaa-source > ",
        ));
        assert!(e.contains("node.policy") && e.contains("twice"), "{e}");
        let e = err(&ex.replace("[node]", "[nodes]"));
        assert!(e.contains("nodes"), "{e}");
        let e = err(&ex.replace("mode = \"mobility\"", "mode = \"forwarder\""));
        assert!(e.contains("home_agent") && e.contains("mobility"), "{e}");
        let no_node =
            ex.split("[node]").next().unwrap().to_string() + "\n[[port]]\ndevice = \"net_tap0\"\n";
        let e = err(&no_node);
        assert!(e.contains("[node]") && e.contains("home-agent.toml"), "{e}");
    }
}
