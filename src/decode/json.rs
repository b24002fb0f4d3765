//! JSON access-log lines with any key names.
//!
//! Values are read straight from the line with a serde visitor: strings without escapes are
//! borrowed, unknown keys are skipped without allocation, nested objects count as dotted keys
//! (`{"error":{"message":…}}` is `error.message`). No `serde_json::Value` is built.
//!
//! API Gateway writes whatever the template says, so a template with unquoted numbers
//! (`"status":$context.status`) yields invalid JSON when a value is `-`; such lines are
//! retried with bare `-` values read as missing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::fields::KeyMap;
use super::record::{RawRecord, SkipReason};
use super::select::{any_byte, Known, Selector};

/// Decodes JSON access-log lines.
#[derive(Debug, Clone, Default)]
pub struct JsonDecoder {
    keys: KeyMap,
    /// The key-selective decoder, built from the first line read in full (`Some(None)`:
    /// that line's shape does not allow it).
    selector: Option<Option<Selector>>,
    /// Whether request and trace IDs are read (else the key-selective path skips them).
    skip_ids: bool,
}

impl JsonDecoder {
    /// A decoder mapping keys through `keys`.
    pub fn new(keys: KeyMap) -> Self {
        JsonDecoder {
            keys,
            selector: None,
            skip_ids: false,
        }
    }

    /// Leaves out request and trace IDs where that is faster (they may still be read). A
    /// key-selective decoder already built (detection reads the first lines) reads them:
    /// it is built again, without them, from the next line read in full.
    pub fn skip_ids(&mut self) {
        if !self.skip_ids {
            self.skip_ids = true;
            self.selector = None;
        }
    }

    /// Decodes one line (without its newline).
    pub fn decode<'a>(&mut self, line: &'a [u8]) -> Result<RawRecord<'a>, SkipReason> {
        let mut record = RawRecord::default();
        self.decode_into(line, Known::default(), &mut record)?;
        Ok(record)
    }

    /// Decodes one line into `record` (which must be empty), without moving records around;
    /// `known` is what the caller already checked about the line.
    pub fn decode_into<'a>(
        &mut self,
        line: &'a [u8],
        known: Known<'a>,
        record: &mut RawRecord<'a>,
    ) -> Result<(), SkipReason> {
        if let Some(Some(selector)) = &mut self.selector {
            if selector.decode_into(line, known, record) {
                return Ok(());
            }
            record.clear();
        }
        *record = self.decode_full(line)?;
        Ok(())
    }

    /// Decodes one line without the key-selective path (which it sets up on the first
    /// line it reads).
    fn decode_full<'a>(&mut self, line: &'a [u8]) -> Result<RawRecord<'a>, SkipReason> {
        if let Some(record) = fast_flat_object(line, &mut self.keys) {
            if self.selector.is_none() {
                self.selector = Some(Selector::from_line(line, &mut self.keys, !self.skip_ids));
            }
            return Ok(record);
        }
        let mut record = RawRecord::default();
        if parse_into(line, &mut self.keys, &mut record).is_ok() {
            return Ok(record);
        }
        let text = std::str::from_utf8(line).map_err(|_| SkipReason::InvalidUtf8)?;
        if !text.trim_start().starts_with('{') {
            return Err(SkipReason::FormatMismatch);
        }
        let repaired = repair_bare_dashes(text).ok_or(SkipReason::InvalidJson)?;
        let mut record = RawRecord::default();
        parse_into(repaired.as_bytes(), &mut self.keys, &mut record)
            .map_err(|_| SkipReason::InvalidJson)?;
        Ok(record.into_owned())
    }
}

/// The fast path for the common line: one flat JSON object whose string values have no
/// escapes (what API Gateway's presets write). Keys are matched against the key map and only
/// the values of known keys are kept, borrowed from the line; everything else is skipped at
/// memchr speed. Anything unusual (escapes, nesting, arrays, syntax errors) returns `None`
/// and the full serde path decides, so both paths accept and reject the same lines.
fn fast_flat_object<'a>(line: &'a [u8], keys: &mut KeyMap) -> Option<RawRecord<'a>> {
    let text = std::str::from_utf8(line).ok()?;
    let mut record = RawRecord::default();
    let start = skip_ws(text.as_bytes(), 0);
    let mut scan = Scan {
        position: 0,
        // Control characters are invalid inside strings; most lines have none at all, and
        // then no value needs checking.
        check_controls: any_byte(line, |b| b < 0x20),
    };
    let end = fast_object(text, start, None, keys, &mut record, 0, &mut scan)?;
    (skip_ws(text.as_bytes(), end) == text.len()).then_some(record)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The state of one line's scan.
struct Scan {
    /// Values seen so far (the key map's position).
    position: usize,
    /// Whether string values must be checked for control characters.
    check_controls: bool,
}

/// Parses the object at `i` (which must be `{`) into `record`, keys prefixed by `prefix`
/// (nested objects count as dotted keys); returns the index after its `}`. Objects nest at
/// most 4 deep here; deeper ones go to serde.
fn fast_object<'a>(
    text: &'a str,
    mut i: usize,
    prefix: Option<&str>,
    keys: &mut KeyMap,
    record: &mut RawRecord<'a>,
    depth: u8,
    scan: &mut Scan,
) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'{') || depth > 4 {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        // The key of the previous line at this position, when it is the key here too (it
        // has no quote or backslash, so it ends where the expected key ends).
        let expected = match (prefix, keys.expected_at(scan.position)) {
            (None, Some((key, field)))
                if b[i + 1..].starts_with(key.as_bytes())
                    && b.get(i + 1 + key.len()) == Some(&b'"') =>
            {
                Some((i + 1 + key.len(), field))
            }
            _ => None,
        };
        let key_end = match expected {
            Some((end, _)) => end,
            None => i + 1 + memchr::memchr2(b'"', b'\\', &b[i + 1..])?,
        };
        if b[key_end] != b'"' {
            return None;
        }
        let key = &text[i + 1..key_end];
        let full_key: Cow<'_, str> = match prefix {
            Some(p) => Cow::Owned(format!("{p}.{key}")),
            None => Cow::Borrowed(key),
        };
        i = skip_ws(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let value: Option<&'a str> = match *b.get(i)? {
            b'"' => {
                let end = i + 1 + memchr::memchr2(b'"', b'\\', &b[i + 1..])?;
                if b[end] != b'"' {
                    return None;
                }
                let v = &text[i + 1..end];
                if scan.check_controls && v.bytes().any(|c| c < 0x20) {
                    return None;
                }
                i = end + 1;
                Some(v)
            }
            b'{' => {
                i = fast_object(text, i, Some(&full_key), keys, record, depth + 1, scan)?;
                None
            }
            b'[' => return None,
            _ => {
                let start = i;
                while i < b.len() && !matches!(b[i], b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                }
                let token = &text[start..i];
                let json_number = token
                    .bytes()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == b'-')
                    && token.bytes().all(|c| {
                        c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                    })
                    && !(token.len() > 1
                        && token.starts_with('0')
                        && token.as_bytes()[1].is_ascii_digit())
                    && token.parse::<f64>().is_ok();
                match token {
                    "null" | "true" | "false" => None,
                    t if json_number => Some(t),
                    _ => return None,
                }
            }
        };
        if let Some(v) = value {
            let field = match expected {
                Some((_, field)) => field,
                None => keys.resolve_at(scan.position, &full_key),
            };
            if let Some(field) = field {
                record.set(field, Cow::Borrowed(v));
            }
            scan.position += 1;
        }
        i = skip_ws(b, i);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(i + 1),
            _ => return None,
        }
    }
}

fn parse_into<'a>(
    line: &'a [u8],
    keys: &mut KeyMap,
    out: &mut RawRecord<'a>,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(line);
    MapSeed {
        keys,
        out,
        prefix: None,
    }
    .deserialize(&mut de)?;
    de.end()
}

/// Replaces bare `-` values (`"status":-,`) with `null`; `None` when there is none.
fn repair_bare_dashes(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut in_string = false;
    let mut escaped = false;
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'-' => {
                let before = text[..i].trim_end();
                let after = text[i + 1..].trim_start();
                if (before.ends_with(':') || before.ends_with('['))
                    && (after.starts_with(',') || after.starts_with('}'))
                {
                    out.push_str(&text[last..i]);
                    out.push_str("null");
                    last = i + 1;
                    changed = true;
                }
            }
            _ => {}
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

struct MapSeed<'r, 'a> {
    keys: &'r mut KeyMap,
    out: &'r mut RawRecord<'a>,
    prefix: Option<&'r str>,
}

impl<'de, 'r> DeserializeSeed<'de> for MapSeed<'r, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, 'r> Visitor<'de> for MapSeed<'r, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let full_key: Cow<'_, str> = match self.prefix {
                Some(prefix) => Cow::Owned(format!("{prefix}.{}", key.0)),
                None => Cow::Borrowed(&*key.0),
            };
            map.next_value_seed(ValueSeed {
                keys: &mut *self.keys,
                out: &mut *self.out,
                key: &full_key,
            })?;
        }
        Ok(())
    }
}

/// A map key, borrowed from the line unless it contains escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct ValueSeed<'r, 'a> {
    keys: &'r mut KeyMap,
    out: &'r mut RawRecord<'a>,
    key: &'r str,
}

impl<'r, 'de> ValueSeed<'r, 'de> {
    fn store(self, value: Cow<'de, str>) {
        if let Some(field) = self.keys.resolve(self.key) {
            self.out.set(field, value);
        }
    }
}

impl<'de, 'r> DeserializeSeed<'de> for ValueSeed<'r, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'r> Visitor<'de> for ValueSeed<'r, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.store(Cow::Borrowed(v));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.store(Cow::Owned(v.to_string()));
        Ok(())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.store(Cow::Owned(v));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.store(Cow::Owned(v.to_string()));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.store(Cow::Owned(v.to_string()));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.store(Cow::Owned(v.to_string()));
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<(), M::Error> {
        MapSeed {
            keys: self.keys,
            out: self.out,
            prefix: Some(self.key),
        }
        .visit_map(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fields::Field;

    fn decode(line: &str) -> Result<RawRecord<'_>, SkipReason> {
        JsonDecoder::default().decode(line.as_bytes())
    }

    /// Detection reads lines (building the key-selective decoder) before the caller says
    /// IDs are not needed; from then on the lines it reads skip them.
    #[test]
    fn ids_skipped_after_detection_are_not_read() {
        let line = |id: u32| {
            format!(
                r#"{{"requestId":"r{id}","requestTimeEpoch":"1795514400000","status":"200","apiId":"a1"}}"#
            )
        };
        let mut decoder = JsonDecoder::default();
        let detected = line(0);
        let r = decoder.decode(detected.as_bytes()).unwrap();
        assert_eq!(r.get(Field::RequestId), Some("r0"));
        let lines: Vec<String> = (1..4).map(line).collect();
        let r = decoder.decode(lines[0].as_bytes()).unwrap();
        assert_eq!(
            r.get(Field::RequestId),
            Some("r1"),
            "read by the selector, IDs kept"
        );
        decoder.skip_ids();
        for line in &lines[1..] {
            let r = decoder.decode(line.as_bytes()).unwrap();
            assert_eq!(r.get(Field::Status), Some("200"));
            if r.get(Field::RequestId).is_none() {
                assert_eq!(r.get(Field::ApiId), None);
                return;
            }
        }
        panic!("the selector still reads the IDs after skip_ids");
    }

    #[test]
    fn string_and_number_values() {
        let r =
            decode(r#"{"status":"200","responseLatency":12,"integration.latency":"-"}"#).unwrap();
        assert_eq!(r.get(Field::Status), Some("200"));
        assert_eq!(r.get(Field::ResponseLatency), Some("12"));
        assert_eq!(r.get(Field::IntegrationLatency), None);
    }

    #[test]
    fn nested_objects_are_dotted_keys() {
        let r = decode(r#"{"error":{"message":"Forbidden","responseType":"INVALID_API_KEY"},"identity":{"apiKeyId":"k1"}}"#).unwrap();
        assert_eq!(r.get(Field::ErrorMessage), Some("Forbidden"));
        assert_eq!(r.get(Field::ErrorResponseType), Some("INVALID_API_KEY"));
        assert_eq!(r.get(Field::ApiKeyId), Some("k1"));
    }

    #[test]
    fn unquoted_dash_values_are_repaired() {
        let r = decode(r#"{"status":504,"integrationLatency":-, "responseLatency": - }"#).unwrap();
        assert_eq!(r.get(Field::Status), Some("504"));
        assert_eq!(r.get(Field::IntegrationLatency), None);
        assert_eq!(r.get(Field::ResponseLatency), None);
    }

    #[test]
    fn escaped_strings_and_unknown_keys() {
        let r = decode(
            r#"{"ua":"a \"quoted\" agent","errorMessage":"bad \"thing\"","list":[1,2,{"a":1}]}"#,
        )
        .unwrap();
        assert_eq!(r.get(Field::ErrorMessage), Some("bad \"thing\""));
    }

    #[test]
    fn fast_path_agrees_with_serde_or_steps_aside() {
        let lines = [
            r#"{"status":"200","responseLatency":"12","integrationLatency":"-","stage":"prod"}"#,
            r#"{ "status" : 504 , "responseLatency": 29012.5, "x": true, "y": null }"#,
            r#"{"status":"200","ua":"a \"quoted\" agent"}"#,
            r#"{"status":"200","nested":{"a":1}}"#,
            r#"{"status":"200","error":{"message":"Forbidden","responseType":"INVALID_API_KEY"},"identity":{"apiKeyId":"k1"}}"#,
            r#"{"a":{"b":{"c":{"d":{"e":{"f":1}}}}},"status":"200"}"#,
            r#"{"status":"200","list":[1,2]}"#,
            r#"{"status":"200",}"#,
            r#"{"status":"200"} trailing"#,
            r#"{"status":NaN}"#,
            r#"{"status":01}"#,
            r#"{"status":-}"#,
            r#"{}"#,
            r#"{"requestTime":"25/Nov/2026:02:56:04 +0000","status":"429","error.responseType":"THROTTLED"}"#,
        ];
        for line in lines {
            let fast = fast_flat_object(line.as_bytes(), &mut KeyMap::default());
            let mut slow = RawRecord::default();
            let slow_ok = parse_into(line.as_bytes(), &mut KeyMap::default(), &mut slow).is_ok();
            if let Some(fast) = fast {
                assert!(slow_ok, "fast path accepted what serde rejects: {line}");
                for field in Field::ALL {
                    let numeric = |v: Option<&str>| {
                        v.map(|s| {
                            s.parse::<f64>()
                                .map(|f| f.to_string())
                                .unwrap_or(s.to_string())
                        })
                    };
                    assert_eq!(
                        numeric(fast.get(field)),
                        numeric(slow.get(field)),
                        "{field:?} in {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn broken_lines_have_reasons() {
        assert_eq!(
            decode(r#"{"status":"200""#).unwrap_err(),
            SkipReason::InvalidJson
        );
        assert_eq!(decode("hello").unwrap_err(), SkipReason::FormatMismatch);
        assert_eq!(
            JsonDecoder::default()
                .decode(b"{\"status\":\"\xff\"}")
                .unwrap_err(),
            SkipReason::InvalidUtf8
        );
    }
}
