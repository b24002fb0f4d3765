//! The integration tests, as one test binary: every module runs the gwstat binary or the
//! library through its public API. One binary rather than one per file, because each links
//! polars and the AWS SDK (about 600 MB apiece in a debug build): twenty of them filled CI's
//! disk and spent minutes linking. Run one module with `cargo test --test it cli_report::`.

mod common;

mod account_model;
mod advice;
mod athena;
mod aws_errors;
mod aws_moto;
mod bad_input;
mod bucket_properties;
mod cli_config;
mod cli_docs;
mod cli_envelopes;
mod cli_execution;
mod cli_export;
mod cli_follow;
mod cli_gateway;
mod cli_metrics;
mod cli_replay;
mod cli_report;
mod cross_check;
mod engines;
mod execution_only;
mod exit_codes;
mod filters;
mod gateway_account;
mod gateway_from_aws;
mod gateway_routes;
mod gateway_rules;
mod html_report;
mod insights_assemble;
mod real_shapes;
mod replay_api_ids;
mod rounding;
mod route_templates;
mod s3_inputs;
mod secrets;
mod serve_e2e;
mod serve_hostile;
mod template_roundtrip;
mod verdict;
mod websocket;
mod width;
