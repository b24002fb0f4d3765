//! `--engine insights`: the report's aggregations run inside CloudWatch Logs Insights, for
//! log volumes beyond one machine. The queries are generated from the report's definitions
//! and the log group's own keys ([`keys`], [`queries`]); their rows ([`results`]) are turned
//! into the same report the local engine builds ([`assemble`]). Running them (StartQuery,
//! GetQueryResults, splitting ranges under the 10,000-row cap, the concurrency limit) is in
//! `aws::insights`.

pub mod assemble;
pub mod keys;
pub mod queries;
pub mod results;
