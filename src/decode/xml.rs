//! XML access-log lines (`<request id="…"> <status>200</status> … </request>`), read as flat
//! `<tag>value</tag>` pairs whatever the tag names, like JSON keys.

use std::borrow::Cow;

use super::fields::{Field, KeyMap};
use super::record::{RawRecord, SkipReason};

/// Decodes XML-shaped access-log lines.
#[derive(Debug, Clone, Default)]
pub struct XmlDecoder {
    keys: KeyMap,
}

impl XmlDecoder {
    /// A decoder mapping tag names through `keys`.
    pub fn new(keys: KeyMap) -> Self {
        XmlDecoder { keys }
    }

    /// Decodes one line.
    pub fn decode<'a>(&mut self, line: &'a [u8]) -> Result<RawRecord<'a>, SkipReason> {
        let text = std::str::from_utf8(line).map_err(|_| SkipReason::InvalidUtf8)?;
        let text = text.trim();
        if !text.starts_with('<') || !text.ends_with('>') {
            return Err(SkipReason::FormatMismatch);
        }
        let mut record = RawRecord::default();
        if let Some(id) = root_id(text) {
            record.set(Field::RequestId, unescape(id));
        }
        let mut rest = text;
        let mut found = 0;
        while let Some(open) = rest.find('<') {
            rest = &rest[open + 1..];
            let Some(close) = rest.find('>') else { break };
            let tag = &rest[..close];
            rest = &rest[close + 1..];
            if tag.starts_with('/') || tag.contains(' ') || tag.ends_with('/') {
                continue;
            }
            let end_tag = format!("</{tag}>");
            let Some(end) = rest.find(&end_tag) else {
                continue;
            };
            let value = &rest[..end];
            if value.contains('<') {
                continue;
            }
            found += 1;
            if let Some(field) = self.keys.resolve(tag) {
                record.set(field, unescape(value));
            }
            rest = &rest[end + end_tag.len()..];
        }
        if found == 0 {
            return Err(SkipReason::FormatMismatch);
        }
        Ok(record)
    }
}

/// The `id` attribute of the root element.
fn root_id(text: &str) -> Option<&str> {
    let head = &text[..text.find('>')?];
    let start = head.find(" id=\"")? + 5;
    let len = head[start..].find('"')?;
    Some(&head[start..start + len])
}

fn unescape(value: &str) -> Cow<'_, str> {
    if !value.contains('&') {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_xml_preset_line() {
        let line = r#"<request id="c5a56ba0-fd42-4425-b7d2-5e8836563270"> <extendedRequestId>Vts2FFmArPEFh8g=</extendedRequestId> <ip>203.0.113.17</ip> <caller>-</caller> <user>-</user> <requestTime>25/Nov/2026:02:56:04 +0000</requestTime> <httpMethod>GET</httpMethod> <resourcePath>/pets/{petId}</resourcePath> <status>200</status> <protocol>HTTP/1.1</protocol> <responseLength>49</responseLength> </request>"#;
        let r = XmlDecoder::default().decode(line.as_bytes()).unwrap();
        assert_eq!(
            r.get(Field::RequestId),
            Some("c5a56ba0-fd42-4425-b7d2-5e8836563270")
        );
        assert_eq!(r.get(Field::Status), Some("200"));
        assert_eq!(r.get(Field::ResourcePath), Some("/pets/{petId}"));
        assert_eq!(
            r.get(Field::RequestTime),
            Some("25/Nov/2026:02:56:04 +0000")
        );
    }

    #[test]
    fn entities_are_unescaped_and_junk_rejected() {
        let r = XmlDecoder::default()
            .decode(b"<r><errorMessage>a &amp; b</errorMessage></r>")
            .unwrap();
        assert_eq!(r.get(Field::ErrorMessage), Some("a & b"));
        assert_eq!(
            XmlDecoder::default().decode(b"<<>>").unwrap_err(),
            SkipReason::FormatMismatch
        );
    }
}
