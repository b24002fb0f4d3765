//! Any bytes as access-log lines: format detection, then every decoder (JSON, XML, the CLF and
//! CSV presets) on every line. Nothing may panic; a line decodes or gets a skip reason.
#![no_main]

use gwstat::decode::presets::{preset, PresetName};
use gwstat::decode::{detect, DecodeOptions, InputFormat, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    for input_format in [
        InputFormat::Auto,
        InputFormat::Json,
        InputFormat::Xml,
        InputFormat::Clf,
        InputFormat::Csv,
    ] {
        let options = DecodeOptions {
            input_format,
            ..DecodeOptions::default()
        };
        if let Ok(mut detected) = detect("fuzz", &lines[..lines.len().min(50)], &options) {
            for line in &lines {
                let _ = detected.decoder.decode(line);
            }
        }
    }
    for name in [
        PresetName::RestClf,
        PresetName::RestJson,
        PresetName::HttpCsv,
    ] {
        let template = Template::parse(preset(name)).expect("presets parse");
        for line in &lines {
            let _ = template.decode(line);
        }
    }
});
