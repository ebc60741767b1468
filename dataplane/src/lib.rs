//! mipdp-dataplane
