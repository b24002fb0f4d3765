//! The few spellings Athena's SQL (Trino) and DuckDB's differ in: integer division, reading
//! an access log's CLF time, and the table over the files (an external table with the OpenX
//! JSON SerDe and partition projection on Athena; a view over `read_json` on DuckDB). Every
//! other part of the queries is written once, in SQL both accept.

/// Which engine a query is written for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// Amazon Athena (Trino).
    #[default]
    Athena,
    /// DuckDB (to run the same queries over local files).
    Duckdb,
}

impl Dialect {
    /// `a / b` in whole numbers (both non-negative here, so truncation is the floor).
    pub fn idiv(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Athena => format!("({a}) / ({b})"),
            Dialect::Duckdb => format!("({a}) // ({b})"),
        }
    }

    /// Epoch milliseconds of an access log's CLF time (`24/Nov/2026:10:00:00 +0000`), NULL
    /// when it is not one.
    pub fn clf_time_ms(self, text: &str) -> String {
        match self {
            Dialect::Athena => format!(
                "CAST(round(to_unixtime(try(parse_datetime({text}, 'dd/MMM/yyyy:HH:mm:ss Z'))) \
                 * 1000) AS BIGINT)"
            ),
            Dialect::Duckdb => {
                format!("epoch_ms(try_strptime({text}, '%d/%b/%Y:%H:%M:%S %z'))")
            }
        }
    }

    /// The statement that makes `table` (columns `(name, JSON key)`, all text) over
    /// `location`: on Athena an external table over an `s3://` prefix laid out as Firehose
    /// writes it (`YYYY/MM/DD/HH/`), partitioned by that hour through partition projection
    /// (no crawler, no `MSCK REPAIR`); on DuckDB a view over local files or a glob.
    pub fn create_table(self, table: &str, location: &str, columns: &[(&str, String)]) -> String {
        let quote = |s: &str| s.replace('\'', "''");
        match self {
            Dialect::Athena => {
                let location = format!("{}/", location.trim_end_matches('/'));
                let cols: Vec<String> = columns
                    .iter()
                    .map(|(name, _)| format!("  `{name}` string"))
                    .collect();
                let mut props = vec![
                    "  'case.insensitive' = 'FALSE'".to_string(),
                    "  'ignore.malformed.json' = 'TRUE'".to_string(),
                ];
                props.extend(
                    columns
                        .iter()
                        .map(|(name, key)| format!("  'mapping.{name}' = '{}'", quote(key))),
                );
                format!(
                    "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{}\n)\n\
                     PARTITIONED BY (`{PARTITION}` string)\n\
                     ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n\
                     WITH SERDEPROPERTIES (\n{}\n)\n\
                     LOCATION '{loc}'\n\
                     TBLPROPERTIES (\n\
                     \x20 'projection.enabled' = 'true',\n\
                     \x20 'projection.{PARTITION}.type' = 'date',\n\
                     \x20 'projection.{PARTITION}.format' = '{HOUR_FORMAT_JAVA}',\n\
                     \x20 'projection.{PARTITION}.range' = '2015/01/01/00,NOW',\n\
                     \x20 'projection.{PARTITION}.interval' = '1',\n\
                     \x20 'projection.{PARTITION}.interval.unit' = 'HOURS',\n\
                     \x20 'storage.location.template' = '{loc}${{{PARTITION}}}/'\n)",
                    cols.join(",\n"),
                    props.join(",\n"),
                    loc = quote(&location),
                )
            }
            Dialect::Duckdb => {
                let types: Vec<String> = columns
                    .iter()
                    .map(|(_, key)| format!("'{}': 'VARCHAR'", quote(key)))
                    .collect();
                let cols: Vec<String> = columns
                    .iter()
                    .map(|(name, key)| format!("\"{}\" AS {name}", key.replace('"', "\"\"")))
                    .collect();
                format!(
                    "CREATE OR REPLACE VIEW {table} AS SELECT {}, NULL AS {PARTITION} FROM \
                     read_json('{}', format = 'newline_delimited', ignore_errors = true, columns = {{{}}})",
                    cols.join(", "),
                    quote(location),
                    types.join(", ")
                )
            }
        }
    }
}

/// The partition column of a table made by [`Dialect::create_table`]: the hour prefix a
/// Firehose delivery stream writes objects under (`2026/11/24/10`, UTC arrival time).
pub const PARTITION: &str = "dt";

/// The partition column's format, as Athena's partition projection spells it.
const HOUR_FORMAT_JAVA: &str = "yyyy/MM/dd/HH";

/// The partition value (hour prefix) of an epoch ms time.
pub fn hour_prefix(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y/%m/%d/%H")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(Dialect::Athena.idiv("t", "1000"), "(t) / (1000)");
        assert_eq!(Dialect::Duckdb.idiv("t", "1000"), "(t) // (1000)");
        assert_eq!(hour_prefix(1_795_514_400_026), "2026/11/24/10");
        let cols = [
            ("status", "status".to_string()),
            ("error_message", "error.message".to_string()),
        ];
        let athena = Dialect::Athena.create_table("logs.api", "s3://b/p", &cols);
        assert!(
            athena.contains("'mapping.error_message' = 'error.message'"),
            "{athena}"
        );
        assert!(athena.contains("LOCATION 's3://b/p/'"));
        assert!(athena.contains("'storage.location.template' = 's3://b/p/${dt}/'"));
        assert!(athena.contains("'org.openx.data.jsonserde.JsonSerDe'"));
        let duck = Dialect::Duckdb.create_table("api", "logs/*.log", &cols);
        assert!(
            duck.contains("\"error.message\" AS error_message"),
            "{duck}"
        );
        assert!(duck.contains("'error.message': 'VARCHAR'"));
    }
}
