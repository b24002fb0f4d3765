//! JSON access-log records behind a line prefix: a CloudWatch console copy
//! (`2023-10-27T14:40:57.744+01:00 | {…}`, `04/21/2022 18:27:42: {…}`), syslog
//! (`<134>1 2026-11-25T02:56:04.161Z host apigw - - - {…}`, `Nov 25 02:56:04 host apigw: {…}`),
//! a log stream name (`072b030ba126b2f4b2374f342be9ed44 {…}`) and whatever else a shipper puts
//! in front. The record starts at the first `{` after which the rest of the line decodes; a
//! record without a time of its own gets the time the prefix starts with, when it has one.

use std::borrow::Cow;

use super::fields::{Field, KeyMap};
use super::json::JsonDecoder;
use super::record::{RawRecord, SkipReason};
use super::select::Known;
use super::time::time_in_prefix;

/// Braces tried per line before the line is given up: a prefix seldom holds one.
const BRACES_TRIED: usize = 4;

/// Decodes JSON records behind a prefix.
#[derive(Debug, Clone, Default)]
pub struct PrefixedJson {
    json: JsonDecoder,
}

impl PrefixedJson {
    /// A decoder mapping keys through `keys`.
    pub fn new(keys: KeyMap) -> Self {
        PrefixedJson {
            json: JsonDecoder::new(keys),
        }
    }

    /// Decodes one line (without its newline) into `record` (empty).
    pub fn decode_into<'a>(
        &mut self,
        line: &'a [u8],
        record: &mut RawRecord<'a>,
    ) -> Result<(), SkipReason> {
        let mut from = 0;
        let mut failure = SkipReason::FormatMismatch;
        for _ in 0..BRACES_TRIED {
            let Some(offset) = memchr::memchr(b'{', &line[from..]) else {
                break;
            };
            let start = from + offset;
            match self
                .json
                .decode_into(&line[start..], Known::default(), record)
            {
                Ok(()) => {
                    if record.get(Field::RequestTime).is_none()
                        && record.get(Field::RequestTimeEpoch).is_none()
                    {
                        let prefix = String::from_utf8_lossy(&line[..start]);
                        if let Some(ms) = time_in_prefix(&prefix) {
                            record.set(Field::RequestTimeEpoch, Cow::Owned(ms.to_string()));
                        }
                    }
                    return Ok(());
                }
                Err(reason) => {
                    record.clear();
                    failure = reason;
                    from = start + 1;
                }
            }
        }
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(line: &str) -> Result<RawRecord<'_>, SkipReason> {
        let mut record = RawRecord::default();
        PrefixedJson::default().decode_into(line.as_bytes(), &mut record)?;
        Ok(record)
    }

    #[test]
    fn the_record_after_any_prefix() {
        let record =
            r#"{"requestId":"c5a56ba0","status":"200","requestTime":"25/Nov/2026:02:56:04 +0000"}"#;
        for prefix in [
            "",
            "072b030ba126b2f4b2374f342be9ed44 ",
            "Nov 25 02:56:04 ip-10-0-0-1 apigw[42]: ",
            "2023-10-27T14:40:57.744+01:00 | ",
            "[{weird}] ",
        ] {
            let line = format!("{prefix}{record}");
            let r = decode(&line).unwrap();
            assert_eq!(r.get(Field::Status), Some("200"), "{line}");
            assert_eq!(
                r.get(Field::RequestTimeEpoch),
                None,
                "own time kept: {line}"
            );
        }
        assert_eq!(
            decode("no record here").unwrap_err(),
            SkipReason::FormatMismatch
        );
        assert_eq!(decode("x {\"a\":").unwrap_err(), SkipReason::InvalidJson);
    }

    #[test]
    fn a_record_without_time_takes_the_prefix_time() {
        let record = r#"{"requestId":"c5a56ba0","status":"200"}"#;
        for (prefix, ms) in [
            ("04/21/2022 18:27:42: ", 1_650_565_662_000i64),
            ("2023-10-27T14:40:57.744+01:00 | ", 1_698_414_057_744),
            (
                "<134>1 2026-11-25T02:56:04.161Z host apigw - - - ",
                1_795_575_364_161,
            ),
            ("2026-11-25 02:56:04.161 ", 1_795_575_364_161),
        ] {
            let line = format!("{prefix}{record}");
            let r = decode(&line).unwrap();
            let expected = ms.to_string();
            assert_eq!(
                r.get(Field::RequestTimeEpoch),
                Some(expected.as_str()),
                "{line}"
            );
        }
        // No year in an RFC 3164 syslog time: no time rather than a guessed one.
        let line = format!("Nov 25 02:56:04 host apigw: {record}");
        let r = decode(&line).unwrap();
        assert_eq!(r.get(Field::RequestTimeEpoch), None);
    }
}
