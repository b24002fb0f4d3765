//! `--engine athena`: the report's aggregations as SQL over an access-log archive in S3,
//! run by Amazon Athena where the data is. The queries ([`sql`]) return exact building
//! blocks — requests by time bin × route × stage × status, latency histograms in the logged
//! values (whole milliseconds), API keys, gateway response types, messages, timeouts and the
//! cache pattern, and the busiest seconds — which [`assemble`] reads into the same
//! [`Aggregates`](crate::aggregate::Aggregates) the stream engine folds, so every section is
//! computed by the same code (`crate::analyze`) and the report is the same. Engine-specific
//! spellings (time parsing, integer division, the table over the files) live in [`dialect`],
//! so the same queries run on DuckDB over local files (the tests compare both). Running them
//! (StartQueryExecution, polling, paging, the bytes-scanned limit) is `aws::athena`.

pub mod assemble;
pub mod dialect;
pub mod sql;
