//! `--redact`: masks client IPs, API key ids and user identities in what gwstat outputs, so a
//! report can be shared outside the team. Keys and identities become stable pseudonyms
//! (`key-3f9a1c`), the same for the same value within and across runs, so counts per key stay
//! meaningful; IPv4 addresses keep their /16 (`203.0.x.x`), IPv6 their first three groups.

/// FNV-1a: stable, no dependency; 24 bits of it name a pseudonym.
fn hash(text: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h & 0x00ff_ffff
}

/// An API key id (or key) as a pseudonym.
pub fn api_key(id: &str) -> String {
    format!("key-{:06x}", hash(id))
}

#[cfg(feature = "cli")]
/// An IP address with its host part masked; other text is returned as a pseudonym.
pub fn ip(address: &str) -> String {
    if let Ok(v4) = address.parse::<std::net::Ipv4Addr>() {
        let [a, b, _, _] = v4.octets();
        return format!("{a}.{b}.x.x");
    }
    if let Ok(v6) = address.parse::<std::net::Ipv6Addr>() {
        let s = v6.segments();
        return format!("{:x}:{:x}:{:x}::x", s[0], s[1], s[2]);
    }
    format!("addr-{:06x}", hash(address))
}

#[cfg(feature = "cli")]
/// Masks every IPv4 address and every `API Key: …`/`apiKey` value in free text (execution-log
/// lines, messages).
pub fn text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, token) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let trimmed = token
            .trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '"' | '\''));
        if trimmed.parse::<std::net::Ipv4Addr>().is_ok()
            || trimmed.parse::<std::net::Ipv6Addr>().is_ok()
        {
            out.push_str(&token.replace(trimmed, &ip(trimmed)));
        } else {
            out.push_str(token);
        }
    }
    // "API Key: **********…4ju6hy" keeps a key's tail even in AWS's own masking.
    let mut result = String::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("API Key") {
        let (before, after) = rest.split_at(at);
        result.push_str(before);
        let label = "API Key".len();
        let value_start = after[label..]
            .find(|c: char| c.is_ascii_alphanumeric() || c == '*')
            .map_or(after.len(), |i| label + i);
        let value_end = after[value_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '*'))
            .map_or(after.len(), |e| value_start + e);
        result.push_str(&after[..value_start]);
        if value_end > value_start {
            result.push_str(&api_key(&after[value_start..value_end]));
        }
        rest = &after[value_end..];
    }
    result.push_str(rest);
    result
}

/// Masks the API keys a report names (throttled keys); the report holds no IPs or user
/// identities.
pub fn report(report: &mut crate::report::Report) {
    for k in &mut report.throttling.by_api_key {
        k.api_key = k.api_key.as_deref().map(api_key);
    }
    // Findings quote the key they concentrate on, in their sentence and next command.
    for f in &mut report.findings {
        if let Some(key) = f.api_key.take() {
            let masked = api_key(&key);
            f.text = f.text.replace(&key, &masked);
            f.next_command = f.next_command.replace(&key, &masked);
            f.api_key = Some(masked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_and_ips_keep_their_network() {
        assert_eq!(api_key("p0lk4ju6hy"), api_key("p0lk4ju6hy"));
        assert_ne!(api_key("p0lk4ju6hy"), api_key("k7dq2mx9pa"));
        assert!(api_key("p0lk4ju6hy").starts_with("key-"));
        assert_eq!(ip("203.0.113.17"), "203.0.x.x");
        assert_eq!(ip("2001:db8:85a3::8a2e:370:7334"), "2001:db8:85a3::x");
        let line = "Verifying Usage Plan for request: abc. API Key: **********4ju6hy API Stage: x/prod from 198.51.100.7, ok";
        let masked = text(line);
        assert!(!masked.contains("4ju6hy"), "{masked}");
        assert!(!masked.contains("198.51.100.7"), "{masked}");
        assert!(masked.contains("198.51.x.x,"), "{masked}");
        assert!(masked.contains("API Key: key-"), "{masked}");
        assert!(masked.contains("API Stage: x/prod"), "{masked}");
    }
}
