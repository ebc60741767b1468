//! A benchmark aid: an RX queue wrapper that makes every received frame a copy of the next
//! frame of a preloaded template list (cycling through it), so that a packet source which
//! hands out buffers with meaningless contents (DPDK's `net_null`) feeds the worker valid
//! traffic for the role being measured.
//!
//! The templates are loaded before the worker starts ([`Templates::from_pcap`]); per
//! packet the wrapper sets the buffer's data length to the template's (trim or append) and
//! copies its bytes: one memcpy, no allocation, no syscall. The same cost applies whatever
//! the worker does with the packet afterwards, so two mipdp modes measured on the same
//! templates compare fairly; a program that does not copy (testpmd on `net_null`) does not
//! pay it. Without templates the wrapper passes bursts through untouched (one branch per
//! burst); mipdp's runtime wraps every port, so the worker loop has a single instantiation.

use std::sync::Arc;

use super::{PacketBatch, PacketBuf, RxPort};

/// The largest template frame: the data room of a 2176-byte buffer after its 128-byte
/// headroom (mipdp's pool).
pub const MAX_FRAME: usize = 2048;
/// The smallest template frame: an Ethernet header.
pub const MIN_FRAME: usize = 14;
/// The most frames a template list holds (offsets are 32-bit).
pub const MAX_FRAMES: usize = 1 << 24;

/// Why a template list could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Not a classic pcap file.
    #[error("not a pcap file (expected the classic libpcap format; pcapng is not read)")]
    NotPcap,
    /// A link type other than Ethernet.
    #[error("link type {0}, not Ethernet (1)")]
    LinkType(u32),
    /// A record header or its data runs past the end of the file.
    #[error("frame {0} is cut short by the end of the file")]
    Truncated(usize),
    /// A frame was captured shorter than it was on the wire.
    #[error("frame {frame} was captured with {captured} of its {wire} bytes (snap length)")]
    Snapped {
        /// Frame index, from 0.
        frame: usize,
        /// Bytes in the file.
        captured: usize,
        /// Bytes on the wire.
        wire: usize,
    },
    /// A frame too short or too long for a packet buffer.
    #[error("frame {frame} has {len} bytes: templates must have {MIN_FRAME} to {MAX_FRAME}")]
    FrameSize {
        /// Frame index, from 0.
        frame: usize,
        /// Its length.
        len: usize,
    },
    /// No frame at all.
    #[error("no frames")]
    Empty,
    /// More than [`MAX_FRAMES`] frames, or more than 4 GiB of them.
    #[error("more than {MAX_FRAMES} frames or 4 GiB")]
    TooMany,
}

/// A list of template frames stored back to back in one buffer, read-only once built and
/// shared by every worker.
pub struct Templates {
    bytes: Box<[u8]>,
    // ends[i] is where frame i ends; frame i starts where frame i - 1 ends (0 for frame 0).
    ends: Box<[u32]>,
}

impl core::fmt::Debug for Templates {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Templates({} frames, {} bytes)",
            self.len(),
            self.bytes.len()
        )
    }
}

impl Templates {
    /// A list of `frames`, in order.
    pub fn new<'a, I>(frames: I) -> Result<Templates, TemplateError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for (i, frame) in frames.into_iter().enumerate() {
            if !(MIN_FRAME..=MAX_FRAME).contains(&frame.len()) {
                return Err(TemplateError::FrameSize {
                    frame: i,
                    len: frame.len(),
                });
            }
            if i >= MAX_FRAMES {
                return Err(TemplateError::TooMany);
            }
            bytes.extend_from_slice(frame);
            // At most MAX_FRAMES × MAX_FRAME = 2^35 bytes would not fit; refuse past 4 GiB.
            ends.push(u32::try_from(bytes.len()).map_err(|_| TemplateError::TooMany)?);
        }
        if ends.is_empty() {
            return Err(TemplateError::Empty);
        }
        Ok(Templates {
            bytes: bytes.into_boxed_slice(),
            ends: ends.into_boxed_slice(),
        })
    }

    /// The Ethernet frames of a classic pcap file (either byte order, microsecond or
    /// nanosecond timestamps), in file order.
    pub fn from_pcap(file: &[u8]) -> Result<Templates, TemplateError> {
        let magic = file.get(..4).ok_or(TemplateError::NotPcap)?;
        let big = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
            _ => return Err(TemplateError::NotPcap),
        };
        let u32_at = |at: usize| -> Option<u32> {
            let b: [u8; 4] = file.get(at..at + 4)?.try_into().ok()?;
            Some(if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        let link = u32_at(20).ok_or(TemplateError::NotPcap)?;
        if link != 1 {
            return Err(TemplateError::LinkType(link));
        }
        let mut at = 24;
        let mut spans = Vec::new();
        while at < file.len() {
            let frame = spans.len();
            let (Some(captured), Some(wire)) = (u32_at(at + 8), u32_at(at + 12)) else {
                return Err(TemplateError::Truncated(frame));
            };
            let (captured, wire) = (captured as usize, wire as usize);
            if captured < wire {
                return Err(TemplateError::Snapped {
                    frame,
                    captured,
                    wire,
                });
            }
            let start = at + 16;
            if file.len() - start < captured {
                return Err(TemplateError::Truncated(frame));
            }
            spans.push(start..start + captured);
            at = start + captured;
        }
        Templates::new(spans.into_iter().filter_map(|s| file.get(s)))
    }

    /// Frames held (at least one).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Always false: a list holds at least one frame.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i`, or an empty slice past the end.
    #[inline]
    pub fn frame(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j).map_or(usize::MAX, |e| *e as usize),
            None => 0,
        };
        let end = self.ends.get(i).map_or(0, |e| *e as usize);
        self.bytes.get(start..end).unwrap_or(&[])
    }
}

/// Makes `packet` a copy of `frame`: sets its length (trim or append) and copies the bytes.
/// Where the buffer cannot hold the whole frame, it gets as much as fits.
#[inline]
pub fn overwrite<P: PacketBuf>(packet: &mut P, frame: &[u8]) {
    let have = packet.data().len();
    if have > frame.len() {
        let _ = packet.trim(have - frame.len());
    } else if have < frame.len() {
        let _ = packet.append(frame.len() - have);
    }
    let data = packet.data_mut();
    let n = data.len().min(frame.len());
    if let (Some(to), Some(from)) = (data.get_mut(..n), frame.get(..n)) {
        to.copy_from_slice(from);
    }
}

/// An RX queue whose received frames are overwritten with templates (when it has any).
pub struct TemplateRx<R> {
    inner: R,
    templates: Option<Arc<Templates>>,
    next: usize,
}

impl<R: RxPort> TemplateRx<R> {
    /// `inner`, its frames overwritten by `templates` from frame `first` on (modulo the
    /// list's length: workers sharing a list start at different frames).
    pub fn new(inner: R, templates: Arc<Templates>, first: usize) -> TemplateRx<R> {
        let next = first % templates.len().max(1);
        TemplateRx {
            inner,
            templates: Some(templates),
            next,
        }
    }

    /// `inner` unchanged (a port without templates beside ones with).
    pub fn plain(inner: R) -> TemplateRx<R> {
        TemplateRx {
            inner,
            templates: None,
            next: 0,
        }
    }

    /// The template the next received frame becomes.
    pub fn next_frame(&self) -> usize {
        self.next
    }
}

impl<R: RxPort> RxPort for TemplateRx<R> {
    type Batch = R::Batch;

    #[inline]
    fn rx_burst(&mut self, batch: &mut R::Batch) -> usize {
        let from = batch.len();
        let n = self.inner.rx_burst(batch);
        let Some(templates) = &self.templates else {
            return n;
        };
        if n == 0 {
            return 0;
        }
        let count = templates.len();
        let mut next = self.next;
        batch.for_each_mut(|i, packet| {
            if i >= from {
                overwrite(packet, templates.frame(next));
                next += 1;
                if next == count {
                    next = 0;
                }
            }
        });
        self.next = next;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::memory::{memory_port, MemBatch, MemPool};

    fn pcap(frames: &[&[u8]], big_endian: bool) -> Vec<u8> {
        let w = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut out = Vec::new();
        out.extend_from_slice(&w(0xa1b2_c3d4));
        out.extend_from_slice(&[0, 2, 0, 4]); // version 2.4 (byte order does not matter here)
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&w(65535));
        out.extend_from_slice(&w(1));
        for (i, f) in frames.iter().enumerate() {
            out.extend_from_slice(&w(i as u32));
            out.extend_from_slice(&w(0));
            out.extend_from_slice(&w(f.len() as u32));
            out.extend_from_slice(&w(f.len() as u32));
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn pcap_frames_are_read_in_order_in_either_byte_order() {
        let a = [1u8; 60];
        let b = [2u8; 118];
        for big in [false, true] {
            let t = Templates::from_pcap(&pcap(&[&a, &b], big)).unwrap();
            assert_eq!(t.len(), 2);
            assert_eq!(t.frame(0), &a[..]);
            assert_eq!(t.frame(1), &b[..]);
            assert_eq!(t.frame(2), &[] as &[u8]);
        }
    }

    #[test]
    fn bad_pcaps_say_what_is_wrong() {
        let f = [0u8; 60];
        assert_eq!(
            Templates::from_pcap(b"not a pcap at all").unwrap_err(),
            TemplateError::NotPcap
        );
        let mut raw = pcap(&[&f], false);
        raw[20] = 101;
        assert_eq!(
            Templates::from_pcap(&raw).unwrap_err(),
            TemplateError::LinkType(101)
        );
        let raw = pcap(&[&f, &f], false);
        assert_eq!(
            Templates::from_pcap(&raw[..raw.len() - 1]).unwrap_err(),
            TemplateError::Truncated(1)
        );
        assert_eq!(
            Templates::from_pcap(&pcap(&[], false)).unwrap_err(),
            TemplateError::Empty
        );
        assert_eq!(
            Templates::from_pcap(&pcap(&[&[0u8; 10]], false)).unwrap_err(),
            TemplateError::FrameSize { frame: 0, len: 10 }
        );
        let mut raw = pcap(&[&f], false);
        raw[36..40].copy_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            Templates::from_pcap(&raw).unwrap_err(),
            TemplateError::Snapped { frame: 0, .. }
        ));
    }

    #[test]
    fn received_frames_become_the_templates_in_turn_with_their_lengths() {
        let pool = MemPool::new(64);
        let (port, rx, _tx) = memory_port(&pool, 64);
        let short = [0xaau8; 60];
        let long = [0xbbu8; 118];
        let mid = [0xccu8; 80];
        let t = Arc::new(Templates::new([&short[..], &long[..], &mid[..]]).unwrap());
        let mut rx = TemplateRx::new(rx, t, 1);
        for _ in 0..7 {
            assert!(port.inject(&[0u8; 64]));
        }
        let mut batch = MemBatch::default();
        assert_eq!(rx.rx_burst(&mut batch), 7);
        let mut lens = Vec::new();
        batch.for_each_mut(|_, p| lens.push((p.data().len(), p.data()[0])));
        assert_eq!(
            lens,
            [
                (118, 0xbb),
                (80, 0xcc),
                (60, 0xaa),
                (118, 0xbb),
                (80, 0xcc),
                (60, 0xaa),
                (118, 0xbb)
            ]
        );
        assert_eq!(rx.next_frame(), 2);
    }

    #[test]
    fn packets_already_in_the_batch_are_left_alone_and_plain_ports_pass_through() {
        let pool = MemPool::new(8);
        let (port, rx, _tx) = memory_port(&pool, 8);
        let t = Arc::new(Templates::new([&[0xddu8; 70][..]]).unwrap());
        let mut rx = TemplateRx::new(rx, t, 0);
        let mut batch = MemBatch::default();
        assert!(batch.push(pool.packet(&[1u8; 20]).unwrap()).is_ok());
        assert!(port.inject(&[0u8; 64]));
        assert_eq!(rx.rx_burst(&mut batch), 1);
        let mut seen = Vec::new();
        batch.for_each_mut(|_, p| seen.push((p.data().len(), p.data()[0])));
        assert_eq!(seen, [(20, 1), (70, 0xdd)]);

        let (port, rx, _tx) = memory_port(&pool, 8);
        let mut plain = TemplateRx::plain(rx);
        assert!(port.inject(&[7u8; 64]));
        let mut batch = MemBatch::default();
        assert_eq!(plain.rx_burst(&mut batch), 1);
        batch.for_each_mut(|_, p| assert_eq!(p.data(), &[7u8; 64][..]));
    }
}
