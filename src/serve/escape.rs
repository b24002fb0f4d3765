//! Access-log values escaped for the format of the line they go into, so that a value a
//! client controls (path, User-Agent, API key, …) can never end its field early, add
//! fields or start a new line. API Gateway itself does not escape (docs/commands/serve.md
//! says where serve differs); a forged status or line would make every report wrong.

/// The syntax of an access-log template, from its literal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogSyntax {
    /// `{ "key":"$context.x", … }`: JSON string escapes.
    Json,
    /// `<request id="$context.x"> … </request>`: XML entities.
    Xml,
    /// Values separated by commas only.
    Csv,
    /// Anything else (Common Log Format and custom text): Apache-style backslash escapes.
    Clf,
}

impl LogSyntax {
    /// The syntax of a template, given its literal text (the template rendered with every
    /// variable empty).
    pub(crate) fn of_skeleton(skeleton: &str) -> LogSyntax {
        let trimmed = skeleton.trim_start();
        if trimmed.starts_with('{') {
            LogSyntax::Json
        } else if trimmed.starts_with('<') {
            LogSyntax::Xml
        } else if skeleton.contains(',') && !skeleton.contains([' ', '"', '[']) {
            LogSyntax::Csv
        } else {
            LogSyntax::Clf
        }
    }

    /// Whether `byte` must be escaped in this syntax.
    fn special(self, byte: u8) -> bool {
        byte < 0x20
            || byte == 0x7f
            || match self {
                LogSyntax::Json => byte == b'"' || byte == b'\\',
                LogSyntax::Xml => matches!(byte, b'&' | b'<' | b'>' | b'"' | b'\''),
                LogSyntax::Csv => matches!(byte, b',' | b'"' | b'\\'),
                LogSyntax::Clf => byte == b'"' || byte == b'\\',
            }
    }

    /// Appends `value` to `out`, made safe for a field of this syntax.
    pub(crate) fn escape_into(self, value: &str, out: &mut String) {
        let mut rest = value;
        while let Some(at) = rest.bytes().position(|b| self.special(b)) {
            // Special bytes are ASCII: `at` is a character boundary.
            out.push_str(&rest[..at]);
            let c = rest.as_bytes()[at] as char;
            rest = &rest[at + 1..];
            match (self, c) {
                (LogSyntax::Json, '"') => out.push_str("\\\""),
                (LogSyntax::Json, '\\') => out.push_str("\\\\"),
                (LogSyntax::Json, '\n') => out.push_str("\\n"),
                (LogSyntax::Json, '\r') => out.push_str("\\r"),
                (LogSyntax::Json, '\t') => out.push_str("\\t"),
                (LogSyntax::Json, c) => push_hex(out, "\\u00", c),
                (LogSyntax::Xml, '&') => out.push_str("&amp;"),
                (LogSyntax::Xml, '<') => out.push_str("&lt;"),
                (LogSyntax::Xml, '>') => out.push_str("&gt;"),
                (LogSyntax::Xml, '"') => out.push_str("&quot;"),
                (LogSyntax::Xml, '\'') => out.push_str("&apos;"),
                (LogSyntax::Csv | LogSyntax::Clf, '"') => out.push_str("\\\""),
                (LogSyntax::Csv | LogSyntax::Clf, '\\') => out.push_str("\\\\"),
                // Control characters (XML 1.0 cannot carry them even as references) and
                // the CSV separator.
                (_, c) => push_hex(out, "\\x", c),
            }
        }
        out.push_str(rest);
    }
}

/// `prefix` and the two hex digits of an ASCII character.
fn push_hex(out: &mut String, prefix: &str, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = c as u8;
    out.push_str(prefix);
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::presets::{preset, PresetName};
    use crate::decode::Template;

    impl LogSyntax {
        fn escape(self, value: &str) -> String {
            let mut out = String::new();
            self.escape_into(value, &mut out);
            out
        }
    }

    fn syntax(name: PresetName) -> LogSyntax {
        let template = Template::parse(preset(name)).unwrap();
        LogSyntax::of_skeleton(&template.render(|_| String::new()))
    }

    #[test]
    fn presets_get_their_syntax() {
        assert_eq!(syntax(PresetName::RestJson), LogSyntax::Json);
        assert_eq!(syntax(PresetName::HttpJson), LogSyntax::Json);
        assert_eq!(syntax(PresetName::RestXml), LogSyntax::Xml);
        assert_eq!(syntax(PresetName::RestCsv), LogSyntax::Csv);
        assert_eq!(syntax(PresetName::HttpCsv), LogSyntax::Csv);
        assert_eq!(syntax(PresetName::RestClf), LogSyntax::Clf);
        assert_eq!(syntax(PresetName::HttpClf), LogSyntax::Clf);
    }

    const HOSTILE: &str = "/a\",\"status\":\"200\"}\n{\"x\":\"<b>&'\\\r\t\u{1}é";

    #[test]
    fn json_values_stay_one_string() {
        let escaped = LogSyntax::Json.escape(HOSTILE);
        let line = format!("{{\"path\":\"{escaped}\",\"status\":\"403\"}}");
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["path"], HOSTILE);
        assert_eq!(parsed["status"], "403");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn xml_values_have_no_markup_or_controls() {
        let escaped = LogSyntax::Xml.escape(HOSTILE);
        assert!(!escaped.contains(['<', '>', '"', '\'', '\n', '\r', '\u{1}']));
        assert!(escaped.contains("&lt;b&gt;&amp;&apos;"));
        assert!(escaped.ends_with("\\x0d\\x09\\x01é"));
    }

    #[test]
    fn csv_values_have_no_separator_quote_or_newline() {
        let escaped = LogSyntax::Csv.escape(HOSTILE);
        assert!(!escaped.contains([',', '\n', '\r']));
        assert!(!escaped.replace("\\\"", "").contains('"'));
    }

    #[test]
    fn clf_values_cannot_close_their_quotes() {
        let escaped = LogSyntax::Clf.escape(HOSTILE);
        assert!(!escaped.contains(['\n', '\r', '\u{1}']));
        assert!(!escaped
            .replace("\\\\", "")
            .replace("\\\"", "")
            .contains('"'));
    }

    #[test]
    fn clean_values_are_copied_unchanged_and_appended() {
        let mut out = "x=".to_string();
        LogSyntax::Json.escape_into("/prod/pets/42", &mut out);
        LogSyntax::Json.escape_into("\u{1}é\"", &mut out);
        assert_eq!(out, "x=/prod/pets/42\\u0001é\\\"");
    }
}
