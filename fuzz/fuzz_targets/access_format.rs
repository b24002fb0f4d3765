//! A user's `$context` format string (first line) and lines decoded with it (the rest).
#![no_main]

use gwstat::decode::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (format, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(template) = Template::parse(format) else {
        return;
    };
    let _ = template.json_keys();
    for line in rest.lines() {
        let _ = template.decode(line.as_bytes());
    }
    // A line rendered from the template decodes.
    let line = template.render(|_| "-".to_string());
    let _ = template.decode(line.as_bytes());
});
