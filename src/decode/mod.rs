//! Bytes to requests: access-log line decoders and per-file format detection.
//!
//! Knows nothing of analysis. Every decoder turns one line into a [`RawRecord`] (text values
//! by meaning), which becomes a typed [`Request`] or a [`SkipReason`].

pub mod envelope;
pub mod execution;
pub(crate) mod fields;
pub(crate) mod framing;
pub(crate) mod infer;
pub(crate) mod json;
pub(crate) mod number;
pub(crate) mod prefixed;
pub mod presets;
pub(crate) mod record;
pub(crate) mod scan;
pub(crate) mod select;
pub(crate) mod template;
pub(crate) mod time;
pub(crate) mod xml;

use std::sync::Arc;

use thiserror::Error;

use crate::model::Request;
pub use fields::{Field, KeyMap};
use json::JsonDecoder;
use prefixed::PrefixedJson;
use presets::{preset, PresetName};
pub use record::{RawRecord, SkipReason};
pub use select::Known;
pub use template::{Template, TemplateError};
use xml::XmlDecoder;

/// Which access-log family to expect (`--input-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    /// Detect per file from its first lines.
    #[default]
    Auto,
    /// JSON lines with any key names.
    Json,
    /// XML lines (`<request id="…"> <status>…</status> …`).
    Xml,
    /// The REST or HTTP API CLF presets (current and older variants).
    Clf,
    /// The REST or HTTP API CSV presets.
    Csv,
}

/// How to decode access logs: the user's choices.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// The family to expect.
    pub input_format: InputFormat,
    /// The stage's format string, when the user gave it (`--access-format`).
    pub access_format: Option<Template>,
    /// `--field meaning=key` overrides.
    pub fields: Vec<(Field, String)>,
}

/// A format cannot be chosen for an input.
#[derive(Debug, Error)]
pub enum DetectError {
    /// The input is not text (NUL bytes or mostly invalid UTF-8).
    #[error(
        "{file}: binary data, not a text log ({detail}); if it is compressed, only gzip is read"
    )]
    Binary {
        /// The input's name.
        file: String,
        /// What gave it away.
        detail: String,
    },
    /// A custom format inferred from the first lines, with parts that cannot be told.
    #[error("{file}: a custom access-log format whose variables cannot all be told from its first lines ({why}); check this format string and give it: --access-format '{format}'")]
    Ambiguous {
        /// The input's name.
        file: String,
        /// The inferred format string.
        format: String,
        /// What could not be told.
        why: String,
    },
    /// JSON records with no API Gateway access-log fields (nginx, application logs, …).
    #[error("{file}: not an API Gateway access log: its records have the keys {keys}, and none is a request with a plausible time (2015 to a day from now); gwstat expects API Gateway access-log fields (requestTime or requestTimeEpoch, status, httpMethod, resourcePath or routeKey, requestId, responseLatency, …); map other key names with --field MEANING=KEY")]
    NotApiGateway {
        /// The input's name.
        file: String,
        /// The keys of its first record, comma-separated.
        keys: String,
    },
    /// No candidate decodes the sample.
    #[error("{file}: not an API Gateway access log (unknown log format); tried {tried} on the first {lines} lines and none fits (first line: {first_line:?}). gwstat reads API Gateway access logs (JSON, CLF, CSV, XML, or the stage's format string given with --access-format) and execution logs; see --input-format.")]
    Unknown {
        /// The input's name.
        file: String,
        /// Formats tried, comma-separated.
        tried: String,
        /// Sample size.
        lines: usize,
        /// The first sample line, shortened.
        first_line: String,
    },
}

/// A line decoder for one input; cheap to clone, one clone per parallel chunk.
#[derive(Debug, Clone)]
pub enum Decoder {
    /// JSON lines.
    Json(JsonDecoder),
    /// JSON records behind a line prefix (console copies, syslog, stream names).
    Prefixed(PrefixedJson),
    /// XML lines.
    Xml(XmlDecoder),
    /// A `$context` template (presets included).
    Template(Arc<Template>),
}

impl Decoder {
    /// Leaves out request and trace IDs where that is faster: for callers that do not keep
    /// them (they may still be filled).
    pub fn skip_ids(&mut self) {
        if let Decoder::Json(d) = self {
            d.skip_ids();
        }
    }

    /// Decodes one line (without its newline) into a request.
    pub fn decode<'a>(&mut self, line: &'a [u8]) -> Result<Request<'a>, SkipReason> {
        self.decode_with_time(line, None)
    }

    /// Decodes one line; a line without a time of its own gets `fallback_ms` (the log
    /// event's timestamp from a CloudWatch envelope).
    pub fn decode_with_time<'a>(
        &mut self,
        line: &'a [u8],
        fallback_ms: Option<i64>,
    ) -> Result<Request<'a>, SkipReason> {
        let mut raw = RawRecord::default();
        self.raw_into(line, fallback_ms, Known::default(), &mut raw)?;
        raw.into_request()
    }

    /// Decodes one line, building a REST route in `scratch` rather than a new string: for
    /// loops that are done with each request before decoding the next line.
    pub fn decode_in<'a>(
        &mut self,
        line: &'a [u8],
        known: Known<'a>,
        scratch: &'a mut String,
    ) -> Result<Request<'a>, SkipReason> {
        let mut raw = RawRecord::default();
        self.raw_into(line, None, known, &mut raw)?;
        raw.take_request_in(scratch)
    }

    /// Decodes one line's text values into `raw` (empty), in place.
    fn raw_into<'a>(
        &mut self,
        line: &'a [u8],
        fallback_ms: Option<i64>,
        known: Known<'a>,
        raw: &mut RawRecord<'a>,
    ) -> Result<(), SkipReason> {
        match self {
            Decoder::Json(d) => d.decode_into(line, known, raw)?,
            Decoder::Prefixed(d) => d.decode_into(line, raw)?,
            Decoder::Xml(d) => *raw = d.decode(line)?,
            Decoder::Template(t) => *raw = t.decode(line)?,
        }
        if let Some(ms) = fallback_ms {
            if raw.get(Field::RequestTime).is_none() && raw.get(Field::RequestTimeEpoch).is_none() {
                raw.set(
                    Field::RequestTimeEpoch,
                    std::borrow::Cow::Owned(ms.to_string()),
                );
            }
        }
        Ok(())
    }
}

/// The decoder chosen for an input, with the name shown to users.
#[derive(Debug, Clone)]
pub struct Detected {
    /// The decoder.
    pub decoder: Decoder,
    /// `json`, `xml`, `rest-clf`, `access-format`, …
    pub format: String,
}

/// Chooses the decoder for an input from its first lines (`sample`, newlines stripped).
pub fn detect(
    file: &str,
    sample: &[&[u8]],
    options: &DecodeOptions,
) -> Result<Detected, DetectError> {
    let timed: Vec<(&[u8], Option<i64>)> = sample.iter().map(|l| (*l, None)).collect();
    detect_timed(file, &timed, options)
}

/// [`detect`] for messages that come with an envelope timestamp (used when the message has
/// no time of its own).
pub fn detect_timed(
    file: &str,
    sample: &[(&[u8], Option<i64>)],
    options: &DecodeOptions,
) -> Result<Detected, DetectError> {
    if let Some(template) = &options.access_format {
        return Ok(from_template(template, options));
    }
    let candidates = candidates(options);
    if sample.is_empty() {
        let (format, decoder) = candidates.into_iter().next().expect("candidates");
        return Ok(Detected { decoder, format });
    }
    let mut best: Option<(usize, String, Decoder)> = None;
    for (format, mut decoder) in candidates.iter().cloned() {
        let fits = sample
            .iter()
            .filter(|(line, time)| decoder.decode_with_time(line, *time).is_ok())
            .count();
        if fits > best.as_ref().map_or(0, |(n, _, _)| *n) {
            best = Some((fits, format, decoder));
        }
    }
    match best {
        Some((fits, format, decoder)) if fits * 2 >= sample.len() => {
            Ok(Detected { decoder, format })
        }
        _ if looks_binary(sample) => Err(DetectError::Binary {
            file: file.to_string(),
            detail: binary_detail(sample),
        }),
        _ if looks_like_json(sample) => Err(DetectError::NotApiGateway {
            file: file.to_string(),
            keys: sample_keys(sample),
        }),
        _ if options.input_format == InputFormat::Auto => match inferred(sample, options) {
            Some(Ok(detected)) => Ok(detected),
            Some(Err((format, why))) => Err(DetectError::Ambiguous {
                file: file.to_string(),
                format,
                why,
            }),
            None => Err(unknown(file, sample, &candidates)),
        },
        _ => Err(unknown(file, sample, &candidates)),
    }
}

/// The keys of the first JSON object in the sample (at most 20), for messages.
fn sample_keys(sample: &[(&[u8], Option<i64>)]) -> String {
    const SHOWN: usize = 20;
    let keys = sample.iter().find_map(|(line, _)| {
        let start = memchr::memchr(b'{', line)?;
        serde_json::from_slice::<KeysInOrder>(&line[start..])
            .ok()
            .map(|k| k.0)
    });
    match keys {
        Some(keys) if keys.len() > SHOWN => {
            format!("{}, … ({} in all)", keys[..SHOWN].join(", "), keys.len())
        }
        Some(keys) if !keys.is_empty() => keys.join(", "),
        _ => "(none)".to_string(),
    }
}

/// The decoder for a format string inferred from the sample; `Err((format, why))` when the
/// guess must be checked by the user.
fn inferred(
    sample: &[(&[u8], Option<i64>)],
    options: &DecodeOptions,
) -> Option<Result<Detected, (String, String)>> {
    let lines: Vec<&str> = sample
        .iter()
        .filter_map(|(l, _)| std::str::from_utf8(l).ok())
        .collect();
    let (format, why) = match infer::infer(&lines, &mut KeyMap::new(&options.fields))? {
        infer::Inference::Template(format) => (format, None),
        infer::Inference::Ambiguous { format, why } => (format, Some(why)),
    };
    if let Some(why) = why {
        return Some(Err((format, why)));
    }
    let template = Template::parse(&format).ok()?;
    let mut decoder = Decoder::Template(Arc::new(template));
    let fits = sample
        .iter()
        .filter(|(line, time)| decoder.decode_with_time(line, *time).is_ok())
        .count();
    if fits * 2 < sample.len() {
        let why = format!("it reads {fits} of the first {} lines", sample.len());
        return Some(Err((format, why)));
    }
    Some(Ok(Detected {
        decoder,
        format: format!("inferred --access-format '{format}'"),
    }))
}

fn unknown(
    file: &str,
    sample: &[(&[u8], Option<i64>)],
    candidates: &[(String, Decoder)],
) -> DetectError {
    DetectError::Unknown {
        file: file.to_string(),
        tried: candidates
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        lines: sample.len(),
        first_line: shorten(&String::from_utf8_lossy(sample[0].0), 120),
    }
}

/// A JSON object's keys, in the order they are written.
struct KeysInOrder(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeysInOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeysInOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<KeysInOrder, M::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(KeysInOrder(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Whether most sample lines are (or end in) a whole JSON object.
fn looks_like_json(sample: &[(&[u8], Option<i64>)]) -> bool {
    let objects = sample
        .iter()
        .filter(|(line, _)| {
            memchr::memchr(b'{', line)
                .is_some_and(|start| serde_json::from_slice::<KeysInOrder>(&line[start..]).is_ok())
        })
        .count();
    objects * 2 > sample.len()
}

/// Whether sample lines look like binary data: NUL bytes, or most lines not UTF-8.
fn looks_binary(sample: &[(&[u8], Option<i64>)]) -> bool {
    let nul = sample.iter().any(|(l, _)| l.contains(&0));
    let invalid = sample
        .iter()
        .filter(|(l, _)| std::str::from_utf8(l).is_err())
        .count();
    nul || invalid * 2 > sample.len()
}

fn binary_detail(sample: &[(&[u8], Option<i64>)]) -> String {
    let bytes: usize = sample.iter().map(|(l, _)| l.len()).sum();
    if sample.iter().any(|(l, _)| l.contains(&0)) {
        format!("NUL bytes in the first {bytes} bytes")
    } else {
        format!("invalid UTF-8 in most of the first {} lines", sample.len())
    }
}

fn from_template(template: &Template, options: &DecodeOptions) -> Detected {
    match template.json_keys() {
        Some(mut keys) => {
            keys.extend(options.fields.iter().cloned());
            Detected {
                decoder: Decoder::Json(JsonDecoder::new(KeyMap::new(&keys))),
                format: "access-format (JSON)".into(),
            }
        }
        None => Detected {
            decoder: Decoder::Template(Arc::new(template.clone())),
            format: "access-format".into(),
        },
    }
}

fn candidates(options: &DecodeOptions) -> Vec<(String, Decoder)> {
    let keys = KeyMap::new(&options.fields);
    let json = (
        "json".to_string(),
        Decoder::Json(JsonDecoder::new(keys.clone())),
    );
    let prefixed = (
        "json after a line prefix".to_string(),
        Decoder::Prefixed(PrefixedJson::new(keys.clone())),
    );
    let xml = ("xml".to_string(), Decoder::Xml(XmlDecoder::new(keys)));
    let presets = |names: &[PresetName]| -> Vec<(String, Decoder)> {
        names
            .iter()
            .map(|name| {
                let template = Template::parse(preset(*name)).expect("presets are valid");
                (
                    name.as_str().to_string(),
                    Decoder::Template(Arc::new(template)),
                )
            })
            .collect()
    };
    const CLF: [PresetName; 4] = [
        PresetName::RestClf,
        PresetName::HttpClf,
        PresetName::RestClfLegacy,
        PresetName::HttpClfLegacy,
    ];
    const CSV: [PresetName; 2] = [PresetName::RestCsv, PresetName::HttpCsv];
    match options.input_format {
        InputFormat::Json => vec![json, prefixed],
        InputFormat::Xml => vec![xml],
        InputFormat::Clf => presets(&CLF),
        InputFormat::Csv => presets(&CSV),
        InputFormat::Auto => {
            let mut all = vec![json, prefixed, xml];
            all.extend(presets(&CLF));
            all.extend(presets(&CSV));
            all
        }
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_lines(lines: &[&str]) -> Result<Detected, DetectError> {
        let sample: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        detect("test.log", &sample, &DecodeOptions::default())
    }

    #[test]
    fn detects_each_family() {
        let clf = r#"203.0.113.17 - - [25/Nov/2026:02:56:04 +0000] "GET /pets/{petId} HTTP/1.1" 200 49 c5a56ba0-fd42-4425-b7d2-5e8836563270 Vts2FFmArPEFh8g="#;
        assert_eq!(detect_lines(&[clf]).unwrap().format, "rest-clf");
        let http_clf = r#"198.51.100.23 - - [25/Nov/2026:02:56:04 +0000] "GET GET /pets/{petId} HTTP/1.1" 200 49 Jx2bFhRqoAMEVQA= Jx2bFhRqoAMEVQA="#;
        assert_eq!(detect_lines(&[http_clf]).unwrap().format, "http-clf");
        let csv = "203.0.113.17,-,-,25/Nov/2026:02:56:04 +0000,GET,/pets/{petId},HTTP/1.1,200,49,c5a56ba0-fd42-4425-b7d2-5e8836563270,Vts2FFmArPEFh8g=";
        assert_eq!(detect_lines(&[csv]).unwrap().format, "rest-csv");
        let http_csv = "198.51.100.23,25/Nov/2026:02:56:04 +0000,GET,GET /pets,HTTP/1.1,200,49,Jx2bFhRqoAMEVQA=";
        assert_eq!(detect_lines(&[http_csv]).unwrap().format, "http-csv");
        let json = r#"{"requestTime":"25/Nov/2026:02:56:04 +0000","status":"200"}"#;
        assert_eq!(detect_lines(&[json]).unwrap().format, "json");
        let xml = r#"<request id="x"> <requestTime>25/Nov/2026:02:56:04 +0000</requestTime> <status>200</status> </request>"#;
        assert_eq!(detect_lines(&[xml]).unwrap().format, "xml");
    }

    #[test]
    fn unknown_format_names_the_file_and_what_was_tried() {
        let err = detect_lines(&["hello world", "more text"]).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("test.log"), "{message}");
        assert!(message.contains("rest-clf"), "{message}");
        assert!(message.contains("hello world"), "{message}");
    }

    #[test]
    fn access_format_json_template_maps_custom_keys() {
        let options = DecodeOptions {
            access_format: Some(
                Template::parse(r#"{"t":"$context.requestTimeEpoch","code":"$context.status"}"#)
                    .unwrap(),
            ),
            ..DecodeOptions::default()
        };
        let mut detected = detect("x", &[], &options).unwrap();
        let request = detected
            .decoder
            .decode(br#"{"t":"1795575364112","code":"429"}"#)
            .unwrap();
        assert_eq!(request.status, Some(429));
    }
}
