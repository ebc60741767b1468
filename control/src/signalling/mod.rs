//! Mobility signalling: each protocol as pure decision logic over bytes, addresses and the
//! current time, returning the reply to send and the table updates to make. No sockets
//! and no DPDK here; the control thread feeds punted packets in and sends what comes out.

pub mod cn;
pub mod fa;
pub mod hmip6;
mod mh_receive;
pub mod mip4;
pub mod mip6;
pub mod mma;
