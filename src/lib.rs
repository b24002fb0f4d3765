//! gwstat: reports, replay and what-if analysis for AWS API Gateway logs.
//!
//! Data flows one way: [`source`] (bytes) → [`decode`] (requests) → [`model`] (request table)
//! → [`analyze`] (sections) → [`report`] (model and renderers). [`cli`] wires them together.

pub mod aggregate;
pub mod analyze;
#[cfg(feature = "cli")]
pub(crate) mod athena;
#[cfg(feature = "cli")]
pub mod aws;
pub(crate) mod bytes;
#[cfg(feature = "cli")]
pub mod cli;
pub mod decode;
pub(crate) mod facts;
pub mod filter;
#[cfg(feature = "cli")]
pub(crate) mod follow;
pub mod gateway;
pub mod generate;
pub mod ingest;
pub mod insights;
pub mod kind;
pub mod metrics;
pub mod model;
pub mod plan;
pub(crate) mod redact;
#[cfg(feature = "cli")]
pub(crate) mod replay;
pub mod report;
pub mod serve;
pub mod source;
pub mod traces;

/// A `HashMap` with a fast, fixed-seed hasher (foldhash): the same on every run, so nothing
/// that depends on it can vary between machines.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
