//! The request table: a polars DataFrame with typed columns, string columns as dictionary
//! codes (`UInt32`) with their dictionaries kept beside it.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

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
        // Each builder is turned into an arrow column and dropped before the next, so the
        // table never needs two full copies of the data.
        let RequestColumns {
            time_ms,
            status,
            latency_ms,
            integration_latency_ms,
            method,
            route,
            stage,
            api_key,
            error_type,
            error_message,
            ..
        } = columns;
        // Vectors move into the arrays (no copy); NaN (float) and u32::MAX (code) mark
        // missing values, which become the validity mask.
        let floats = |name: &str, values: Vec<f64>| -> Column {
            let valid: Bitmap = values.iter().map(|v| !v.is_nan()).collect();
            Float64Chunked::from_vec_validity(name.into(), values, Some(valid)).into_column()
        };
        let overhead: Vec<f64> = latency_ms
            .iter()
            .zip(&integration_latency_ms)
            .map(|(l, i)| l - i)
            .collect();
        let mut frame_columns = vec![
            Int64Chunked::from_vec(
                col::SECOND.into(),
                time_ms.iter().map(|ms| ms.div_euclid(1000)).collect(),
            )
            .into_column(),
            Int64Chunked::from_vec(col::TIME_MS.into(), time_ms).into_column(),
            UInt32Chunked::from_iter_options(
                col::STATUS.into(),
                status.into_iter().map(|s| (s != 0).then_some(u32::from(s))),
            )
            .into_column(),
            floats(col::LATENCY, latency_ms),
            floats(col::INTEGRATION_LATENCY, integration_latency_ms),
            floats(col::OVERHEAD, overhead),
        ];
        let mut dictionaries = Dictionaries::default();
        for (name, column, slot) in [
            (col::METHOD, method, &mut dictionaries.method),
            (col::ROUTE, route, &mut dictionaries.route),
            (col::STAGE, stage, &mut dictionaries.stage),
            (col::API_KEY, api_key, &mut dictionaries.api_key),
            (col::ERROR_TYPE, error_type, &mut dictionaries.error_type),
            (
                col::ERROR_MESSAGE,
                error_message,
                &mut dictionaries.error_message,
            ),
        ] {
            let valid: Bitmap = column.codes.iter().map(|c| *c != u32::MAX).collect();
            frame_columns.push(
                UInt32Chunked::from_vec_validity(name.into(), column.codes, Some(valid))
                    .into_column(),
            );
            *slot = column.dictionary;
        }
        let frame = DataFrame::new(height, frame_columns)?;
        let frame = match keep {
            Some(mask) => frame.filter(&BooleanChunked::from_slice("keep".into(), mask))?,
            None => frame,
        };
        Ok(RequestTable {
            frame,
            dictionaries,
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
}
