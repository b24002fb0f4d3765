//! CloudWatch envelopes: detection on any head, and unwrapping as every envelope kind.
#![no_main]

use gwstat::decode::envelope::{detect, unwrap, Envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = detect(data);
    let _ = unwrap(detected, data);
    for kind in Envelope::ALL {
        let _ = unwrap(kind, data);
    }
});
