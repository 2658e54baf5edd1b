//! TLS for the probes: a rustls client that records any chain (`danger`), a hand-written
//! ClientHello and server-flight parser for servers rustls cannot talk to (`legacy`), and
//! cipher-suite names (`suites`). Trust is judged later, by `crate::cert` and `diagnose`.

pub mod alert;
pub mod danger;
pub mod hello;
pub mod legacy;
pub mod suites;
mod wire;

pub use danger::{TlsConfigs, TlsFailure};
pub use legacy::TlsVersion;
