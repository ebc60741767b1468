//! The authoritative state the control thread owns: the workers' tables only ever follow
//! it, through the updates its changes return. Lifetimes are kept here and expired by
//! explicit calls with the time passed in, so tests control time.

pub mod bindings;
pub mod bindings6;

pub use bindings::{
    BindingStore, CareOfBinding, CareOfMode, Deregistration, Expiry, MobilityBinding, Refusal,
    Registration, INFINITE_LIFETIME,
};
pub use bindings6::{BindingCache6, HomeBinding, HomeRegistration, Refusal6};
