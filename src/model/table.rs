//! The request table: a polars DataFrame with typed columns, string columns as dictionary
//! codes (`UInt32`) with their dictionaries kept beside it.

use polars::prelude::*;

use super::columns::{Dictionary, RequestColumns};

/// Column names of the request table, one place for all of them.
pub mod col {
    /// Request time, epoch ms (`Int64`).
    pub const TIME_MS: &str = "time_ms";
    /// Request second, epoch seconds (`Int64`).
    pub const SECOND: &str = "second";
    /// Status (`UInt32`, null when not logged).
    pub const STATUS: &str = "status";
    /// Response latency, ms (`Float64`).
    pub const LATENCY: &str = "latency_ms";
    /// Integration latency, ms (`Float64`).
    pub const INTEGRATION_LATENCY: &str = "integration_latency_ms";
    /// Latency minus integration latency where both exist, ms (`Float64`).
    pub const OVERHEAD: &str = "overhead_ms";
    /// Method code (`UInt32`).
    pub const METHOD: &str = "method";
    /// Route code (`UInt32`).
    pub const ROUTE: &str = "route";
    /// Stage code (`UInt32`).
    pub const STAGE: &str = "stage";
    /// API key code (`UInt32`).
    pub const API_KEY: &str = "api_key";
    /// Gateway response type code (`UInt32`).
    pub const ERROR_TYPE: &str = "error_type";
    /// Gateway error message code (`UInt32`).
    pub const ERROR_MESSAGE: &str = "error_message";
}

/// The dictionaries behind the coded columns.
#[derive(Debug, Clone, Default)]
pub struct Dictionaries {
    /// Methods.
    pub method: Dictionary,
    /// Routes.
    pub route: Dictionary,
    /// Stages.
    pub stage: Dictionary,
    /// API keys.
    pub api_key: Dictionary,
    /// Gateway response types.
    pub error_type: Dictionary,
    /// Gateway error messages.
    pub error_message: Dictionary,
}

/// Requests as a DataFrame plus the dictionaries to read its coded columns.
#[derive(Debug, Clone)]
pub struct RequestTable {
    /// One row per request.
    pub frame: DataFrame,
    /// Names behind the coded columns.
    pub dictionaries: Dictionaries,
}

impl RequestTable {
    /// Builds the table from decoded columns, keeping the rows where `keep` is true.
    pub fn build(columns: RequestColumns, keep: Option<&[bool]>) -> PolarsResult<RequestTable> {
        let height = columns.len();
        let second: Vec<i64> = columns
            .time_ms
            .iter()
            .map(|ms| ms.div_euclid(1000))
            .collect();
        let overhead: Vec<Option<f64>> = columns
            .latency_ms
            .iter()
            .zip(&columns.integration_latency_ms)
            .map(|(l, i)| Some(l.as_ref()? - i.as_ref()?))
            .collect();
        let coded = |name: &str, codes: Vec<Option<u32>>| Column::new(name.into(), codes);
        let frame = DataFrame::new(
            height,
            vec![
                Column::new(col::TIME_MS.into(), columns.time_ms),
                Column::new(col::SECOND.into(), second),
                Column::new(col::STATUS.into(), columns.status),
                Column::new(col::LATENCY.into(), columns.latency_ms),
                Column::new(
                    col::INTEGRATION_LATENCY.into(),
                    columns.integration_latency_ms,
                ),
                Column::new(col::OVERHEAD.into(), overhead),
                coded(col::METHOD, columns.method.codes),
                coded(col::ROUTE, columns.route.codes),
                coded(col::STAGE, columns.stage.codes),
                coded(col::API_KEY, columns.api_key.codes),
                coded(col::ERROR_TYPE, columns.error_type.codes),
                coded(col::ERROR_MESSAGE, columns.error_message.codes),
            ],
        )?;
        let frame = match keep {
            Some(mask) => frame.filter(&BooleanChunked::from_slice("keep".into(), mask))?,
            None => frame,
        };
        Ok(RequestTable {
            frame,
            dictionaries: Dictionaries {
                method: columns.method.dictionary,
                route: columns.route.dictionary,
                stage: columns.stage.dictionary,
                api_key: columns.api_key.dictionary,
                error_type: columns.error_type.dictionary,
                error_message: columns.error_message.dictionary,
            },
        })
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    /// Whether there are no requests.
    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// The table as a lazy query.
    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }
}
