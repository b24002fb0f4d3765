//! Column builders for the request table: one vector per field, low-cardinality strings
//! dictionary-encoded. Each parallel decode chunk fills its own builder; builders are then
//! appended in input order.

use crate::bytes::same_name;
use crate::FastMap as HashMap;

use super::request::Request;
use super::websocket::WebSocketEvent;

/// Distinct strings of one column and their codes.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    codes: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    /// Code + 1 of a name seen lately, by a cheap fingerprint of the name (its length and
    /// its first and last bytes); 0 where none. A line's route, stage and key are mostly
    /// names seen before: checking one slot costs less than hashing the whole name and
    /// comparing it again in the map. Made with the first name.
    recent: Vec<u32>,
}

/// Slots of [`Dictionary::recent`] (a power of two).
const RECENT: usize = 512;

/// [`Dictionary::recent`]'s slot for `name`.
#[inline(always)]
fn fingerprint(name: &[u8]) -> usize {
    let n = name.len();
    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8 bytes"));
    let half = |s: &[u8]| u64::from(u32::from_le_bytes(s.try_into().expect("4 bytes")));
    let (first, last) = match n {
        8.. => (word(&name[..8]), word(&name[n - 8..])),
        4.. => (half(&name[..4]), half(&name[n - 4..])),
        _ => (name.iter().fold(0, |h, b| (h << 8) | u64::from(*b)), 0),
    };
    let h = (first ^ last.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - RECENT.trailing_zeros())) as usize
}

impl Dictionary {
    /// The code of `name`, adding it if new.
    #[inline]
    pub fn code(&mut self, name: &str) -> u32 {
        let slot = fingerprint(name.as_bytes());
        if let Some(code) = self.recent.get(slot).and_then(|c| c.checked_sub(1)) {
            let known = self.names[code as usize].as_bytes();
            if known.len() == name.len() && same_name(known, name.as_bytes()) {
                return code;
            }
        }
        self.code_in_map(name, slot)
    }

    /// [`code`](Self::code) of a name not in its `recent` slot.
    fn code_in_map(&mut self, name: &str, slot: usize) -> u32 {
        if self.recent.is_empty() {
            self.recent = vec![0; RECENT];
        }
        let code = match self.codes.get(name) {
            Some(code) => *code,
            None => self.code_owned(name.into()),
        };
        if let Some(stored) = code.checked_add(1) {
            self.recent[slot] = stored;
        }
        code
    }

    /// [`code`](Self::code) of a name already owned (another dictionary's, or a new one's
    /// copy): it is moved in rather than copied again, and hashed once (at hundreds of
    /// thousands of distinct raw paths, joining the table engine's chunks is mostly this).
    fn code_owned(&mut self, name: Box<str>) -> u32 {
        let next = u32::try_from(self.names.len()).expect("fewer than 2^32 distinct values");
        match self.codes.entry(name) {
            std::collections::hash_map::Entry::Occupied(code) => *code.get(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                self.names.push(slot.key().clone());
                slot.insert(next);
                next
            }
        }
    }

    /// The string behind a code.
    pub fn name(&self, code: u32) -> &str {
        &self.names[code as usize]
    }

    /// All strings, indexed by code.
    pub fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

/// Marks a missing value in a coded column.
const NO_CODE: u32 = u32::MAX;

/// A dictionary-encoded string column.
#[derive(Debug, Clone, Default)]
pub struct CodedColumn {
    /// One code per row; [`u32::MAX`] where the log had no value (see [`code`](Self::code)).
    pub codes: Vec<u32>,
    /// The strings behind the codes.
    pub dictionary: Dictionary,
}

impl CodedColumn {
    /// The code of a row, `None` where the log had no value.
    #[inline]
    pub fn code(&self, row: usize) -> Option<u32> {
        let code = self.codes[row];
        (code != NO_CODE).then_some(code)
    }

    /// The string of a row.
    pub fn name(&self, row: usize) -> Option<&str> {
        self.code(row).map(|c| self.dictionary.name(c))
    }

    /// Renames values: `rename` returns the new name of a value, or `None` to keep it (called
    /// once per value, in code order). Values renamed alike become one value.
    pub fn rename(&mut self, mut rename: impl FnMut(&str) -> Option<String>) {
        let mut dictionary = Dictionary::default();
        let remap: Vec<u32> = self
            .dictionary
            .names
            .iter()
            .map(|name| match rename(name) {
                Some(new) => dictionary.code(&new),
                None => dictionary.code(name),
            })
            .collect();
        for code in &mut self.codes {
            if *code != NO_CODE {
                *code = remap[*code as usize];
            }
        }
        self.dictionary = dictionary;
    }

    fn push(&mut self, value: Option<&str>) {
        let code = value.map_or(NO_CODE, |v| self.dictionary.code(v));
        self.codes.push(code);
    }

    /// Gives a row without a value `value`; whether it did.
    fn fill(&mut self, row: usize, value: Option<&str>) -> bool {
        match value {
            Some(v) if self.codes[row] == NO_CODE => {
                self.codes[row] = self.dictionary.code(v);
                true
            }
            _ => false,
        }
    }

    fn append(&mut self, other: CodedColumn) {
        if self.dictionary.names.is_empty() {
            // No value of ours to remap to: theirs are taken whole.
            self.dictionary = other.dictionary;
            join(&mut self.codes, other.codes);
            return;
        }
        let remap: Vec<u32> = other
            .dictionary
            .names
            .into_iter()
            .map(|name| self.dictionary.code_owned(name))
            .collect();
        self.codes.extend(other.codes.into_iter().map(|code| {
            if code == NO_CODE {
                NO_CODE
            } else {
                remap[code as usize]
            }
        }));
    }
}

/// Appends `more` to `into`; taken whole when `into` is empty and has no room for it (a
/// decode worker's columns are joined without a copy).
fn join<T>(into: &mut Vec<T>, more: Vec<T>) {
    if into.is_empty() && into.capacity() < more.len() {
        *into = more;
    } else {
        into.extend(more);
    }
}

/// The request table under construction.
#[derive(Debug, Clone, Default)]
pub struct RequestColumns {
    /// Request time, epoch ms.
    pub time_ms: Vec<i64>,
    /// Status code; 0 where not logged (see [`status`](Self::status)).
    pub status: Vec<u16>,
    /// Response latency, ms; NaN where not logged (see [`latency`](Self::latency)).
    pub latency_ms: Vec<f64>,
    /// Integration latency, ms; NaN where not logged.
    pub integration_latency_ms: Vec<f64>,
    /// HTTP method.
    pub method: CodedColumn,
    /// Route (`METHOD resource` or route key).
    pub route: CodedColumn,
    /// Stage.
    pub stage: CodedColumn,
    /// API key ID.
    pub api_key: CodedColumn,
    /// Gateway response type.
    pub error_type: CodedColumn,
    /// Gateway error message.
    pub error_message: CodedColumn,
    /// API id (`$context.apiId`), kept only with the request IDs (`keep_request_ids`).
    pub api_id: CodedColumn,
    /// Request IDs, kept only when asked for (replay, explain): they are unique per row.
    pub request_id: Vec<Option<Box<str>>>,
    /// X-Ray trace IDs, kept with the request IDs.
    pub xray_trace_id: Vec<Option<Box<str>>>,
    /// Whether [`request_id`](Self::request_id) and [`xray_trace_id`](Self::xray_trace_id)
    /// are filled.
    pub keep_request_ids: bool,
    /// The WebSocket facts of the rows that have them, by row in ascending order (sparse:
    /// most logs have none).
    pub websocket: Vec<(usize, WebSocketEvent<'static>)>,
}

impl RequestColumns {
    /// An empty builder that also keeps request IDs when `keep_request_ids`.
    pub fn new(keep_request_ids: bool) -> Self {
        RequestColumns {
            keep_request_ids,
            ..RequestColumns::default()
        }
    }

    /// The status of a row.
    #[inline]
    pub fn status(&self, row: usize) -> Option<u16> {
        let s = self.status[row];
        (s != 0).then_some(s)
    }

    /// The response latency of a row.
    #[inline]
    pub fn latency(&self, row: usize) -> Option<f64> {
        let v = self.latency_ms[row];
        (!v.is_nan()).then_some(v)
    }

    /// The integration latency of a row.
    #[inline]
    pub fn integration_latency(&self, row: usize) -> Option<f64> {
        let v = self.integration_latency_ms[row];
        (!v.is_nan()).then_some(v)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// Adds one request.
    pub fn push(&mut self, request: &Request<'_>) {
        let route = request
            .route
            .as_deref()
            .map(|r| self.route.dictionary.code(r));
        self.push_routed(request, route);
    }

    /// Adds one request under another route than its own: `route`, a code of the route
    /// column's dictionary (`None`: no route).
    pub fn push_routed(&mut self, request: &Request<'_>, route: Option<u32>) {
        self.time_ms.push(request.time_ms);
        self.status.push(request.status.unwrap_or(0));
        self.latency_ms.push(request.latency_ms.unwrap_or(f64::NAN));
        self.integration_latency_ms
            .push(request.integration_latency_ms.unwrap_or(f64::NAN));
        self.method.push(request.method.as_deref());
        self.route.codes.push(route.unwrap_or(NO_CODE));
        self.stage.push(request.stage.as_deref());
        self.api_key.push(request.api_key.as_deref());
        self.error_type.push(request.error_type.as_deref());
        self.error_message.push(request.error_message.as_deref());
        if let Some(ws) = &request.websocket {
            self.websocket
                .push((self.time_ms.len() - 1, ws.clone().into_owned()));
        }
        // Kept with the request IDs (replay matches requests to APIs by it); a report
        // leaves it out, whichever decoder path read it.
        self.api_id
            .push(request.api_id.as_deref().filter(|_| self.keep_request_ids));
        if self.keep_request_ids {
            self.request_id
                .push(request.request_id.as_deref().map(Box::from));
            self.xray_trace_id
                .push(request.xray_trace_id.as_deref().map(Box::from));
        }
    }

    /// The rows `keep` keeps (`None`: all) that are HTTP-style requests, as a row mask:
    /// `keep` itself when no row is a WebSocket event. For what compares requests route by
    /// route (baselines, CloudWatch request counts), where WebSocket events are no requests.
    pub fn http_rows(&self, keep: Option<&[bool]>) -> Option<Vec<bool>> {
        if self.websocket.is_empty() {
            return keep.map(<[bool]>::to_vec);
        }
        let mut mask = keep.map_or_else(|| vec![true; self.len()], <[bool]>::to_vec);
        for (row, _) in &self.websocket {
            mask[*row] = false;
        }
        Some(mask)
    }

    /// Completes a row with the values of `request` that the row lacks (status, method,
    /// route, stage, integration latency, gateway response type): what another log of the
    /// same request (its execution log) knows. Whether any value was added.
    pub fn complete(&mut self, row: usize, request: &Request<'_>) -> bool {
        let mut added = false;
        if let (0, Some(status)) = (self.status[row], request.status) {
            self.status[row] = status;
            added = true;
        }
        if let (true, Some(ms)) = (
            self.integration_latency_ms[row].is_nan(),
            request.integration_latency_ms,
        ) {
            self.integration_latency_ms[row] = ms;
            added = true;
        }
        added |= self.method.fill(row, request.method.as_deref());
        added |= self.route.fill(row, request.route.as_deref());
        added |= self.stage.fill(row, request.stage.as_deref());
        added |= self.error_type.fill(row, request.error_type.as_deref());
        added
    }

    /// Makes room for `additional` more rows in every column (avoids the slack and copies of
    /// doubling growth when the row count can be estimated).
    pub fn reserve(&mut self, additional: usize) {
        self.time_ms.reserve(additional);
        self.status.reserve(additional);
        self.latency_ms.reserve(additional);
        self.integration_latency_ms.reserve(additional);
        for coded in [
            &mut self.method,
            &mut self.route,
            &mut self.stage,
            &mut self.api_key,
            &mut self.error_type,
            &mut self.error_message,
            &mut self.api_id,
        ] {
            coded.codes.reserve(additional);
        }
    }

    /// Appends another builder's rows after this one's.
    pub fn append(&mut self, other: RequestColumns) {
        let offset = self.len();
        self.websocket.extend(
            other
                .websocket
                .into_iter()
                .map(|(row, ws)| (row + offset, ws)),
        );
        join(&mut self.time_ms, other.time_ms);
        join(&mut self.status, other.status);
        join(&mut self.latency_ms, other.latency_ms);
        join(
            &mut self.integration_latency_ms,
            other.integration_latency_ms,
        );
        self.method.append(other.method);
        self.route.append(other.route);
        self.stage.append(other.stage);
        self.api_key.append(other.api_key);
        self.error_type.append(other.error_type);
        self.error_message.append(other.error_message);
        self.api_id.append(other.api_id);
        join(&mut self.request_id, other.request_id);
        join(&mut self.xray_trace_id, other.xray_trace_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Codes are given in order of first appearance, whatever the recent slots hold
        /// (names of every length, many sharing their ends and so their slots).
        #[test]
        fn codes_are_first_appearances(
            names in proptest::collection::vec("(ab|a|b|GET /x|GET /y/id/x|GET /y/iq/x){0,6}", 0..400),
        ) {
            let mut dictionary = Dictionary::default();
            let mut seen: Vec<String> = Vec::new();
            for name in &names {
                let expected = match seen.iter().position(|s| s == name) {
                    Some(i) => i,
                    None => {
                        seen.push(name.clone());
                        seen.len() - 1
                    }
                };
                proptest::prop_assert_eq!(dictionary.code(name), expected as u32);
                proptest::prop_assert_eq!(dictionary.name(expected as u32), name.as_str());
            }
        }
    }
    use std::borrow::Cow;

    fn request(route: &str) -> Request<'_> {
        Request {
            time_ms: 1,
            route: Some(Cow::Borrowed(route)),
            ..Request::default()
        }
    }

    #[test]
    fn renaming_merges_values() {
        let mut c = CodedColumn::default();
        for v in [Some("GET /a/1"), None, Some("GET /a/2"), Some("GET /b")] {
            c.push(v);
        }
        c.rename(|name| name.starts_with("GET /a/").then(|| "GET /a/*".to_string()));
        let names: Vec<Option<&str>> = (0..4).map(|i| c.name(i)).collect();
        assert_eq!(
            names,
            [Some("GET /a/*"), None, Some("GET /a/*"), Some("GET /b")]
        );
        assert_eq!(c.dictionary.names().len(), 2);
    }

    #[test]
    fn appending_keeps_websocket_facts_on_their_rows() {
        let ws = |id: &'static str| super::super::WebSocketEvent {
            connection_id: Some(Cow::Borrowed(id)),
            ..Default::default()
        };
        let mut a = RequestColumns::default();
        a.push(&request("GET /a"));
        a.push(&Request {
            websocket: Some(ws("x")),
            ..request("$connect")
        });
        let mut b = RequestColumns::default();
        b.push(&request("GET /b"));
        b.push(&Request {
            websocket: Some(ws("y")),
            ..request("$default")
        });
        a.append(b);
        let rows: Vec<(usize, &str)> = a
            .websocket
            .iter()
            .map(|(row, ws)| (*row, ws.connection_id.as_deref().unwrap()))
            .collect();
        assert_eq!(rows, [(1, "x"), (3, "y")]);
    }

    #[test]
    fn http_rows_leave_websocket_events_out() {
        let mut c = RequestColumns::default();
        c.push(&request("GET /a"));
        c.push(&Request {
            websocket: Some(Default::default()),
            ..request("$connect")
        });
        c.push(&request("GET /b"));
        assert_eq!(c.http_rows(None), Some(vec![true, false, true]));
        assert_eq!(
            c.http_rows(Some(&[false, true, true])),
            Some(vec![false, false, true])
        );
        c.websocket.clear();
        assert_eq!(c.http_rows(None), None);
    }

    #[test]
    fn completing_a_row_fills_only_what_it_lacks() {
        let mut c = RequestColumns::default();
        c.push(&Request {
            time_ms: 1,
            status: Some(200),
            stage: Some(Cow::Borrowed("prod")),
            ..Request::default()
        });
        let other = Request {
            time_ms: 2,
            status: Some(502),
            route: Some(Cow::Borrowed("GET /a")),
            stage: Some(Cow::Borrowed("dev")),
            integration_latency_ms: Some(7.0),
            ..Request::default()
        };
        assert!(c.complete(0, &other));
        assert_eq!((c.time_ms[0], c.status(0)), (1, Some(200)));
        assert_eq!(
            (c.route.name(0), c.stage.name(0)),
            (Some("GET /a"), Some("prod"))
        );
        assert_eq!(c.integration_latency(0), Some(7.0));
        assert!(!c.complete(0, &other), "nothing left to add");
    }

    #[test]
    fn appending_remaps_dictionary_codes() {
        let mut a = RequestColumns::default();
        a.push(&request("GET /a"));
        let mut b = RequestColumns::default();
        b.push(&request("GET /b"));
        b.push(&request("GET /a"));
        a.append(b);
        let names: Vec<&str> = (0..a.len()).map(|row| a.route.name(row).unwrap()).collect();
        assert_eq!(names, ["GET /a", "GET /b", "GET /a"]);
    }
}
