//! The reference gateway core: a deterministic model of API Gateway's throttling (exact
//! token buckets at every level), usage-plan quotas, stage cache, integration timeout and
//! gateway responses. No I/O and no wall-clock reads: time is passed in, so the same
//! configuration and the same requests give the same outcomes on any machine.
//! Assumptions and their switches are documented in docs/gateway.md.

pub mod aws_account;
pub mod aws_import;
pub(crate) mod bucket;
pub(crate) mod cache;
pub mod config;
pub(crate) mod pipeline;
pub(crate) mod quota;
pub(crate) mod responses;
pub(crate) mod routes;

pub use bucket::{Rate, Throttle, TokenBucket};
pub use config::{GatewayConfig, Options};
pub use pipeline::{
    Admission, Backend, CacheResult, ContextVariable, Forward, GatewayRequest, Level, Outcome,
    Pipeline, PreparedRequest,
};
