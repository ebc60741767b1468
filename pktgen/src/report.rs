//! What a run measured: the final summary (text for people, JSON for scripts), the
//! latency histogram it is made from, and the once-a-second progress line.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::mobility::MobilitySummary;

/// Highest latency the histogram resolves (60 s); longer ones are recorded as 60 s.
pub const LATENCY_MAX_NS: u64 = 60_000_000_000;
/// Significant decimal digits the latency histogram keeps (0.1 % resolution).
pub const LATENCY_DIGITS: u8 = 3;

/// A latency histogram in nanoseconds that never allocates while recording.
pub fn latency_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts, so this cannot fail.
    Histogram::new_with_bounds(1, LATENCY_MAX_NS, LATENCY_DIGITS)
        .unwrap_or_else(|e| unreachable!("constant histogram bounds rejected: {e}"))
}

/// Latency percentiles in nanoseconds (all 0 when nothing was received).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Smallest.
    pub min: u64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl LatencySummary {
    /// Reads the percentiles out of `h`.
    pub fn from_histogram(h: &Histogram<u64>) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            min: h.min(),
            mean: h.mean(),
        }
    }
}

/// The result of one run; serialised as the `--json` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Probes the TX port accepted.
    pub tx_packets: u64,
    /// Probes built but dropped because the TX queue stayed full (not in `tx_packets`).
    pub tx_dropped: u64,
    /// Probes received (duplicates included).
    pub rx_packets: u64,
    /// Received frames that were not probes (ARP, IPv6, foreign traffic, wrong magic).
    pub rx_ignored: u64,
    /// `tx_packets` minus distinct probes received, after the drain period.
    pub lost: u64,
    /// Probes that arrived after one with a higher sequence number.
    pub reordered: u64,
    /// Probes received more than once (each extra copy counts once).
    pub duplicates: u64,
    /// `tx_packets` over the transmit time.
    pub tx_pps: f64,
    /// `rx_packets` over the time from the start to the last probe received.
    pub rx_pps: f64,
    /// One-way latency: receive time minus the timestamp in the probe.
    pub latency_ns: LatencySummary,
    /// Frame size in bytes, without the 4-byte FCS.
    pub size: usize,
    /// Number of flows (destination addresses).
    pub flows: u32,
    /// Target rate in packets per second; 0 = as fast as possible.
    pub rate_pps: u64,
    /// Transmit time in seconds (from the first to the last burst).
    pub duration_s: f64,
    /// A mobility workload: Registration Request → Reply latency (from the
    /// Identification's fraction of a second, which the reply copies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_latency_ns: Option<LatencySummary>,
    /// A mobility workload: every counter of both sides. `tx_packets` counts every frame
    /// sent, `rx_packets` the data probes that passed every check, `lost` the data probes
    /// sent that never came back checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobility: Option<MobilitySummary>,
}

impl Summary {
    /// The summary for people, several lines, ending in a newline.
    pub fn to_text(&self) -> String {
        let l = &self.latency_ns;
        let what = match &self.mobility {
            Some(m) => format!("workload {}, data frames {}", m.workload, m.sizes),
            None => format!("{}-byte frames (+4 FCS), {} flow(s)", self.size, self.flows),
        };
        let mut text = format!(
            "mipdp-pktgen: {what}, rate {rate}\n\
             tx: {tx} packets in {dur:.3} s = {tx_pps} ({tx_drop} dropped at a full TX queue)\n\
             rx: {rx} probes = {rx_pps} ({ignored} other frames ignored)\n\
             lost {lost}, reordered {reordered}, duplicates {dup}\n\
             latency: p50 {p50}, p99 {p99}, p99.9 {p999}, max {max} (min {min}, mean {mean})\n",
            rate = if self.rate_pps == 0 {
                "unlimited".to_string()
            } else {
                format!("{} pps", self.rate_pps)
            },
            tx = self.tx_packets,
            dur = self.duration_s,
            tx_pps = format_pps(self.tx_pps),
            tx_drop = self.tx_dropped,
            rx = self.rx_packets,
            rx_pps = format_pps(self.rx_pps),
            ignored = self.rx_ignored,
            lost = self.lost,
            reordered = self.reordered,
            dup = self.duplicates,
            p50 = format_ns(l.p50),
            p99 = format_ns(l.p99),
            p999 = format_ns(l.p999),
            max = format_ns(l.max),
            min = format_ns(l.min),
            mean = format_ns(l.mean as u64),
        );
        if let Some(r) = &self.reply_latency_ns {
            text.push_str(&format!(
                "registration reply latency: p50 {}, p99 {}, max {}\n",
                format_ns(r.p50),
                format_ns(r.p99),
                format_ns(r.max)
            ));
        }
        if let Some(m) = &self.mobility {
            text.push_str(&m.to_text());
        }
        text
    }

    /// The summary as pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        // Serialising plain numbers into a String cannot fail.
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| unreachable!("summary does not serialise: {e}"));
        s.push('\n');
        s
    }
}

/// Packets per `ns` nanoseconds as packets per second (0 for an empty interval).
pub fn packets_per_second(packets: u64, ns: u64) -> f64 {
    if ns == 0 {
        return 0.0;
    }
    packets as f64 * 1e9 / ns as f64
}

/// The once-a-second progress line: rates, totals, what has not come back (yet: lost
/// or still in flight) and the latency p99 so far.
pub fn progress_line(
    tx_pps: f64,
    rx_pps: f64,
    tx_total: u64,
    rx_total: u64,
    missing: u64,
    p99_ns: u64,
) -> String {
    format!(
        "mipdp-pktgen: tx {} rx {} (total tx {tx_total} rx {rx_total}, not back {missing}) p99 {}",
        format_pps(tx_pps),
        format_pps(rx_pps),
        format_ns(p99_ns)
    )
}

/// `1234567.0` → `"1.235 Mpps"`.
pub fn format_pps(pps: f64) -> String {
    if pps >= 1e6 {
        format!("{:.3} Mpps", pps / 1e6)
    } else if pps >= 1e3 {
        format!("{:.1} kpps", pps / 1e3)
    } else {
        format!("{pps:.0} pps")
    }
}

/// `1234567` → `"1.235 ms"`.
pub fn format_ns(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{:.3} s", ns as f64 / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.3} ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            tx_packets: 10,
            tx_dropped: 0,
            rx_packets: 9,
            rx_ignored: 2,
            lost: 1,
            reordered: 0,
            duplicates: 0,
            tx_pps: 1000.0,
            rx_pps: 900.0,
            latency_ns: LatencySummary::default(),
            size: 64,
            flows: 1,
            rate_pps: 0,
            duration_s: 0.01,
            reply_latency_ns: None,
            mobility: None,
        }
    }

    #[test]
    fn json_has_the_documented_keys() {
        let v: serde_json::Value = serde_json::from_str(&summary().to_json()).unwrap();
        for key in [
            "tx_packets",
            "rx_packets",
            "lost",
            "reordered",
            "duplicates",
            "tx_pps",
            "rx_pps",
            "size",
            "duration_s",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        for key in ["p50", "p99", "p999", "max"] {
            assert!(
                v["latency_ns"].get(key).is_some(),
                "missing latency_ns.{key}"
            );
        }
        assert_eq!(v["lost"], 1);
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut h = latency_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        h.saturating_record(u64::MAX);
        let l = LatencySummary::from_histogram(&h);
        // Within 1 %: hdrhistogram reports a bucket's highest equivalent value.
        let near = |got: u64, want: u64| got.abs_diff(want) * 100 <= want;
        assert!(near(l.p50, 500_000), "{l:?}");
        assert!(near(l.p99, 990_000), "{l:?}");
        assert!(near(l.p999, 1_000_000), "{l:?}");
        assert!(near(l.max, LATENCY_MAX_NS), "{l:?}");
        assert_eq!(LatencySummary::from_histogram(&latency_histogram()).max, 0);
    }

    #[test]
    fn rates_and_units_read_well() {
        assert_eq!(packets_per_second(100, 0), 0.0);
        assert_eq!(packets_per_second(500, 500_000_000), 1000.0);
        assert_eq!(format_pps(1_234_567.0), "1.235 Mpps");
        assert_eq!(format_pps(12_345.0), "12.3 kpps");
        assert_eq!(format_ns(999), "999 ns");
        assert_eq!(format_ns(12_345), "12.3 µs");
        assert!(summary()
            .to_text()
            .contains("lost 1, reordered 0, duplicates 0"));
    }
}
