//! The report's aggregates, folded one request at a time: counts by time bin, route, stage
//! and status; requests and 429s per second; exact latency histograms per route × stage,
//! per bin and per bin × route (response latency only), the detail the sections report and
//! no finer; API keys, gateway response types, messages, timeouts and the cache pattern. Each decode chunk fills its own accumulator and the chunks' accumulators
//! are merged, so memory follows the data's cardinality (routes, stages, statuses, seconds
//! spanned, distinct latencies), never the number of requests.

use std::sync::Arc;

use super::bins::{auto_bin_seconds, bin_granularity, same_width_up_to};
use super::histogram::{whole_ms, Histogram};
use super::rules::{cache_hit, timeout_reached};
use super::templates::{note_source, RouteTemplates};
use super::websocket::WebSocketAggregates;
use crate::filter::{RequestFilter, Window};
use crate::model::{Dictionary, Request};
use crate::report::TemplateSource;
use crate::FastMap;

/// Marks a missing value among dictionary codes.
pub const NONE: u32 = u32::MAX;
/// The route code of the routes folded together because no section can show them
/// (`crate::analyze`).
pub const OTHER: u32 = u32::MAX - 1;

/// A new name for a route (`None`: keep it).
pub type Rename<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What the accumulators need to know, shared by all of them.
#[derive(Debug, Clone, Default)]
pub struct AggregateOptions {
    /// Requests to keep (relative bounds already resolved into `window`).
    pub filter: RequestFilter,
    /// The filter's time window.
    pub window: Window,
    /// Integration timeout, ms (the timeouts rule).
    pub timeout_ms: u64,
    /// A fixed timeline bin width, seconds (`None`: chosen from the range at the end).
    pub bin_seconds: Option<i64>,
    /// Route templates for raw paths (`None`: routes are counted as logged).
    pub templates: Option<Arc<RouteTemplates>>,
}

/// Requests by status (0: no status logged), in order of first appearance. The first status
/// is held inline: at high route cardinality most groups see one.
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    first: (u16, u64),
    // Boxed: one word in every group instead of three for a list most groups never need.
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<(u16, u64)>>>,
}

impl Statuses {
    /// Adds `n` requests of `status`.
    pub(crate) fn count(&mut self, status: u16, n: u64) {
        if self.first.1 == 0 || self.first.0 == status {
            self.first = (status, self.first.1 + n);
            return;
        }
        let more = self.more.get_or_insert_with(Box::default);
        match more.iter_mut().find(|(s, _)| *s == status) {
            Some((_, count)) => *count += n,
            None => more.push((status, n)),
        }
    }

    /// `(status, requests)` pairs, in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        let first = (self.first.1 > 0).then_some(self.first);
        first
            .into_iter()
            .chain(self.more.iter().flat_map(|m| m.iter().copied()))
    }

    /// Whether no request was counted.
    pub fn is_empty(&self) -> bool {
        self.first.1 == 0
    }
}
/// `seconds` entries below which they are not sorted and summed before the end.
const MIN_SECONDS_COMPACTED: usize = 4096;

/// Groups and per-bin histograms of a merged accumulator from which its groups and its
/// histograms are merged on two threads.
const PARALLEL_MERGE: usize = 20_000;

/// Most raw routes an accumulator remembers the template code of (then it starts afresh):
/// the cache saves templating each line, and stays small at any number of distinct paths.
const ROUTE_CACHE: usize = 1 << 16;

/// The counts of one time bin × route × stage (its latencies are in [`LatencyDetail`]).
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Requests by status.
    pub statuses: Statuses,
    /// GET 2xx answered without integration latency (inferred cache hits).
    pub hits: u64,
    /// GET 2xx with integration latency (inferred cache misses).
    pub misses: u64,
}

impl Group {
    pub(crate) fn count_status(&mut self, status: u16, n: u64) {
        if n > 0 {
            self.statuses.count(status, n);
        }
    }

    /// Adds everything `other` counted.
    pub(crate) fn merge(&mut self, other: &Group) {
        for (status, n) in other.statuses.iter() {
            self.count_status(status, n);
        }
        self.hits += other.hits;
        self.misses += other.misses;
    }

    /// Requests in the group.
    pub fn requests(&self) -> u64 {
        self.statuses.iter().map(|(_, n)| n).sum()
    }
}

/// The latency histograms of some requests: response latency, integration latency and
/// overhead, and how many requests they came from.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Response latency.
    pub latency: Histogram,
    /// Integration latency.
    pub integration: Histogram,
    /// Latency − integration latency, where both are logged.
    pub overhead: Histogram,
    /// Requests, with or without values.
    pub requests: u64,
}

impl Latencies {
    /// Adds one request's values.
    #[inline]
    pub(crate) fn push(&mut self, latency: Option<f64>, integration: Option<f64>) {
        self.requests += 1;
        if let Some(latency) = latency {
            self.latency.add(latency);
        }
        if let Some(integration) = integration {
            self.integration.add(integration);
            if let Some(latency) = latency {
                self.overhead.add(latency - integration);
            }
        }
    }

    /// Empty latencies whose histograms have room listed for about as many values as
    /// these have (see [`Histogram::with_room`]).
    fn with_room(&self) -> Latencies {
        Latencies {
            latency: Histogram::with_room(self.latency.count()),
            integration: Histogram::with_room(self.integration.count()),
            overhead: Histogram::with_room(self.overhead.count()),
            requests: 0,
        }
    }

    /// Adds everything `other` counted.
    pub(crate) fn merge(&mut self, other: &Latencies) {
        self.latency.merge(&other.latency);
        self.integration.merge(&other.integration);
        self.overhead.merge(&other.overhead);
        self.requests += other.requests;
    }

    /// Requests without a value in `histogram` (polars ranks them first; see
    /// [`Histogram::quantiles`]).
    pub(crate) fn missing(&self, histogram: &Histogram) -> u64 {
        self.requests - histogram.count()
    }

    /// The statistics of the three measures.
    pub(crate) fn stats(&self) -> crate::report::LatencyStats {
        let of = |h: &Histogram| h.stats(self.missing(h));
        crate::report::LatencyStats {
            latency_ms: of(&self.latency),
            integration_latency_ms: of(&self.integration),
            overhead_ms: of(&self.overhead),
        }
    }
}

/// Response latency of some requests, and how many requests it came from.
#[derive(Debug, Clone, Default)]
pub struct ResponseLatency {
    /// Response latency.
    pub latency: Histogram,
    /// Requests, with or without a latency.
    pub requests: u64,
}

impl ResponseLatency {
    /// Adds everything `other` counted.
    pub(crate) fn merge(&mut self, other: &ResponseLatency) {
        self.latency.merge(&other.latency);
        self.requests += other.requests;
    }
}

/// Exact latency histograms at the detail the report's sections show, and no finer: the
/// three measures per route × stage (latency section, overall statistics, near-timeout
/// routes, histogram buckets) and per time bin (the timeline's percentiles), and response
/// latency per time bin × route (the timeline's busiest routes). A histogram per bin ×
/// route × stage would hold every value three times over in ten times as many histograms.
#[derive(Debug, Clone, Default)]
pub struct LatencyDetail {
    /// Per (route, stage).
    pub by_route: FastMap<(u32, u32), Latencies>,
    /// Per bin start (epoch seconds, in the groups' bins).
    pub by_bin: FastMap<i64, Latencies>,
    /// Per (bin start, route), over the route's stages.
    pub by_bin_route: FastMap<(i64, u32), ResponseLatency>,
}

impl LatencyDetail {
    /// Re-keys the bins not aligned to granularity `g`.
    fn coarsen(&mut self, g: i64) {
        if self.by_bin.keys().any(|bin| bin.rem_euclid(g) != 0) {
            for (bin, l) in std::mem::take(&mut self.by_bin) {
                add_latencies(&mut self.by_bin, bin.div_euclid(g) * g, l);
            }
        }
        if self
            .by_bin_route
            .keys()
            .any(|(bin, _)| bin.rem_euclid(g) != 0)
        {
            for ((bin, route), l) in std::mem::take(&mut self.by_bin_route) {
                add_response_latency(&mut self.by_bin_route, (bin.div_euclid(g) * g, route), l);
            }
        }
    }
}

/// Adds `latencies` under `key`.
pub(crate) fn add_latencies<K: std::hash::Hash + Eq>(
    map: &mut FastMap<K, Latencies>,
    key: K,
    latencies: Latencies,
) {
    match map.get_mut(&key) {
        Some(mine) => mine.merge(&latencies),
        None => {
            map.insert(key, latencies);
        }
    }
}

/// Adds `latency` under `key`.
pub(crate) fn add_response_latency(
    map: &mut FastMap<(i64, u32), ResponseLatency>,
    key: (i64, u32),
    latency: ResponseLatency,
) {
    match map.get_mut(&key) {
        Some(mine) => mine.merge(&latency),
        None => {
            map.insert(key, latency);
        }
    }
}

/// How many requests [`Pair::both`] lists before they are counted: a few KiB of counts
/// touched in one burst, with the list itself 1 KiB.
const BOTH_LIMIT: usize = 256;

/// Counts the latencies `pair` listed (see [`Pair::both`]) into its histograms, its bin's
/// (`bin`) and its route's in the bin (`route`), and empties the list.
fn count_both(pair: &mut Pair, bin: &mut Latencies, route: &mut ResponseLatency) {
    let mut latency = [0u16; BOTH_LIMIT];
    let mut integration = [0u16; BOTH_LIMIT];
    let mut overhead = [0u16; BOTH_LIMIT];
    let mut overheads = 0;
    for (at, both) in pair.both.iter().enumerate() {
        let (l, i) = ((both >> 16) as u16, *both as u16);
        latency[at] = l;
        integration[at] = i;
        match l.checked_sub(i) {
            Some(o) => {
                overhead[overheads] = o;
                overheads += 1;
            }
            // Integration latency above response latency: a negative overhead, which only
            // the histogram's map holds.
            None => {
                let o = f64::from(l) - f64::from(i);
                pair.latencies.overhead.add(o);
                bin.overhead.add(o);
            }
        }
    }
    let n = pair.both.len();
    let (latency, integration, overhead) =
        (&latency[..n], &integration[..n], &overhead[..overheads]);
    for histograms in [&mut pair.latencies, bin] {
        histograms.latency.add_wholes(latency);
        histograms.integration.add_wholes(integration);
        histograms.overhead.add_wholes(overhead);
    }
    route.latency.add_wholes(latency);
    pair.both.clear();
}

/// One route × stage's state while requests are pushed: its latencies, and its counts in
/// the bin being counted.
#[derive(Debug, Clone, Default)]
struct Pair {
    /// Route and stage codes.
    key: (u32, u32),
    /// The route's index in [`Hot::routes`].
    route: u32,
    /// Whether `group` holds counts (the pair is in [`Hot::touched_pairs`]).
    in_bin: bool,
    /// Latencies, moved into [`LatencyDetail::by_route`] by [`Accumulator::flush`].
    latencies: Latencies,
    /// The current bin's requests whose response and integration latencies are both whole
    /// milliseconds below 65,536 (most requests), not yet in any histogram: response
    /// latency in the high 16 bits, integration latency in the low ones. Counted into the
    /// seven histograms they go to (`latencies`, the bin's, the route's) in one burst when
    /// the list is full or the bin ends ([`count_both`]), rather than seven adds a request.
    both: Vec<u32>,
    /// Counts in the current bin, moved into [`Accumulator::groups`] when the bin changes.
    group: Group,
    /// Requests in the current bin by status index (see [`Hot::status_index`]), not yet in
    /// `group`: counted without looking for the status in the group's list.
    status_counts: Vec<u64>,
    /// The status indexes of `status_counts` in the order the bin first saw them (the
    /// order `group` lists its statuses in).
    status_order: Vec<u16>,
}

impl Pair {
    /// Counts a request of the status with index `at`.
    #[inline]
    fn count_status(&mut self, at: usize) {
        if self.status_counts.len() <= at {
            self.status_counts.resize(at + 1, 0);
        }
        let count = &mut self.status_counts[at];
        if *count == 0 {
            self.status_order.push(at as u16);
        }
        *count += 1;
    }

    /// Moves the counts of `status_counts` into `group` (`statuses`: the status of each
    /// index).
    fn group_statuses(&mut self, statuses: &[u16]) {
        for at in self.status_order.drain(..) {
            let n = std::mem::take(&mut self.status_counts[usize::from(at)]);
            self.group.count_status(statuses[usize::from(at)], n);
        }
    }
}

/// A route's response latency in the bin being counted.
#[derive(Debug, Clone, Default)]
struct HotRoute {
    /// Route code.
    code: u32,
    /// Whether `latency` holds counts (the route is in [`Hot::touched_routes`]).
    in_bin: bool,
    /// Moved into [`LatencyDetail::by_bin_route`] when the bin changes.
    latency: ResponseLatency,
}

/// What the requests of the current time bin change, kept out of the maps: a chunk's lines
/// come in time order, so most requests land in the bin before, and one lookup of the route
/// × stage pair (a few hundred, or as many as there are routes) replaces five lookups in
/// maps as large as bins × routes × stages. Moved into the maps when the bin or the
/// granularity changes, and by [`Accumulator::flush`].
#[derive(Debug, Clone, Default)]
struct Hot {
    /// Index in `pairs` + 1 per route (`slot`) and stage slot (see [`Hot::pair`]); 0 where
    /// no pair is listed. Most pairs are found here with one load.
    direct: Vec<[u32; DIRECT_STAGES]>,
    /// Index in `pairs` per (route, stage), for the pairs `direct` has no slot for.
    pair_index: FastMap<(u32, u32), u32>,
    /// The pairs seen.
    pairs: Vec<Pair>,
    /// Index in `routes` per route code.
    route_index: FastMap<u32, u32>,
    /// The routes seen.
    routes: Vec<HotRoute>,
    /// The current bin's start (meaningful while anything below holds counts).
    bin: i64,
    /// The request times (epoch ms) in bin `bin` at the current granularity, `start..end`;
    /// empty when unknown (a request in it is placed without dividing by the granularity).
    bin_ms: (i64, i64),
    /// The current bin's latencies.
    bin_latencies: Latencies,
    /// Requests per API key slot (see [`slot`]) and status index (see `status_index`), not
    /// yet in [`Accumulator::api_keys`]: counted without hashing the pair.
    key_counts: Vec<Vec<u64>>,
    /// 1 + the index of a status (below [`STATUS_SLOTS`]) in each of `key_counts`' lists, by
    /// status; 0 for a status not seen yet.
    status_index: Vec<u16>,
    /// The statuses, by index.
    statuses: Vec<u16>,
    /// Pairs with counts in the current bin.
    touched_pairs: Vec<u32>,
    /// Routes with latencies in the current bin.
    touched_routes: Vec<u32>,
}

impl Hot {
    /// The index of a route × stage pair, adding it if new.
    #[inline]
    fn pair(&mut self, key: (u32, u32)) -> usize {
        // Codes are dense from 0, and `NONE` + 1 is 0: the first stages have a slot.
        let (route, stage) = (slot(key.0), slot(key.1));
        if let Some(index) = self
            .direct
            .get(route)
            .and_then(|slots| slots.get(stage))
            .and_then(|index| index.checked_sub(1))
        {
            return index as usize;
        }
        self.pair_in_map(key)
    }

    /// [`pair`](Self::pair) of a pair not found in `direct`.
    fn pair_in_map(&mut self, key: (u32, u32)) -> usize {
        let index = match self.pair_index.get(&key) {
            Some(index) => *index as usize,
            None => self.add_pair(key),
        };
        let (route, stage) = (slot(key.0), slot(key.1));
        if stage < DIRECT_STAGES && route < MAX_DIRECT_ROUTES {
            if self.direct.len() <= route {
                self.direct.resize(route + 1, [0; DIRECT_STAGES]);
            }
            self.direct[route][stage] = index as u32 + 1;
        }
        index
    }

    /// The index of `status` in the lists of `key_counts`, giving it one if new; `None` for
    /// a status past [`STATUS_SLOTS`] (counted in the map at once).
    #[inline]
    fn status_index(&mut self, status: u16) -> Option<usize> {
        if self.status_index.is_empty() {
            self.status_index = vec![0; STATUS_SLOTS];
        }
        let index = self.status_index.get_mut(usize::from(status))?;
        if *index == 0 {
            self.statuses.push(status);
            *index = self.statuses.len() as u16;
        }
        Some(usize::from(*index) - 1)
    }

    /// Lists a new route × stage pair.
    fn add_pair(&mut self, key: (u32, u32)) -> usize {
        let routes = &mut self.routes;
        let route = *self.route_index.entry(key.0).or_insert_with(|| {
            routes.push(HotRoute {
                code: key.0,
                ..HotRoute::default()
            });
            (routes.len() - 1) as u32
        });
        self.pairs.push(Pair {
            key,
            route,
            ..Pair::default()
        });
        let index = self.pairs.len() - 1;
        self.pair_index.insert(key, index as u32);
        index
    }
}

/// Statuses below this have an index in [`Hot::key_counts`]' lists: every plausible status
/// and 0 (none).
const STATUS_SLOTS: usize = 600;

/// Stage slots per route in [`Hot::direct`]: no stage and the first three stages.
const DIRECT_STAGES: usize = 4;

/// Routes [`Hot::direct`] has slots for (16 bytes a route); the others are found in the map.
const MAX_DIRECT_ROUTES: usize = 1 << 20;

/// A code's slot in dense tables: `NONE` first, then each code.
#[inline(always)]
fn slot(code: u32) -> usize {
    code.wrapping_add(1) as usize
}

/// The dictionaries behind the codes.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Routes.
    pub routes: Dictionary,
    /// Stages.
    pub stages: Dictionary,
    /// API keys.
    pub api_keys: Dictionary,
    /// Gateway response types.
    pub types: Dictionary,
    /// Gateway error messages.
    pub messages: Dictionary,
}

/// The aggregates of some requests.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    options: Arc<AggregateOptions>,
    /// Requests seen (before filtering).
    pub records: u64,
    /// Requests kept by the filter.
    pub kept: u64,
    /// Earliest and latest kept request time, epoch ms.
    pub bounds: Option<(i64, i64)>,
    /// Width of the bins the groups are keyed by, seconds; it grows with the range, and
    /// every width the timeline may finally use is a multiple of it.
    pub granularity: i64,
    /// The longest range (seconds) the current granularity fits: it is refitted once the
    /// range grows past it.
    fitted_up_to: i64,
    /// The latest request time that keeps the range within `fitted_up_to` from the current
    /// first request: a later `last` up to it needs no refitting (nor the divisions that
    /// measure the range).
    fits_up_to_ms: i64,
    /// The longest range (seconds) the requests are known to span before they are all in
    /// ([`expect_span`](Self::expect_span)); 0 if none is known.
    expected_span: i64,
    /// Whether the options filter requests at all.
    filtering: bool,
    /// Dictionaries.
    pub names: Names,
    /// Per (bin start in epoch seconds, route, stage).
    pub groups: FastMap<(i64, u32, u32), Group>,
    /// Latency histograms.
    pub latencies: LatencyDetail,
    /// Requests and 429s per epoch second, appended as the seconds come; sorted with one
    /// entry per second once [`finish`](Self::finish)ed.
    pub seconds: Vec<(i64, [u64; 2])>,
    /// How many entries `seconds` had when it was last sorted and summed.
    seconds_compacted: usize,
    /// The second being counted, not yet in `seconds`.
    current: (i64, [u64; 2]),
    /// The current bin's counts and every pair's latencies, not yet in the maps.
    hot: Hot,
    /// Requests per (API key, status).
    pub api_keys: FastMap<(u32, u16), u64>,
    /// Requests per (gateway response type, status).
    pub types: FastMap<(u32, u16), u64>,
    /// Requests per gateway error message.
    pub messages: FastMap<u32, u64>,
    /// 504s that reached the integration timeout, per route.
    pub timeouts: FastMap<u32, u64>,
    /// WebSocket events (`None` until one is seen); they count nowhere else.
    pub websocket: Option<Box<WebSocketAggregates>>,
    /// Routes made from raw paths by a template, and how (routes the log named: absent).
    pub route_sources: FastMap<u32, TemplateSource>,
    /// Raw route → its templated route's code (with templates only).
    route_cache: FastMap<Box<str>, u32>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new(options: Arc<AggregateOptions>) -> Self {
        Accumulator {
            granularity: options.bin_seconds.unwrap_or(1).max(1),
            filtering: options.filter.is_active(),
            options,
            ..Accumulator::default()
        }
    }

    /// The options it was made with.
    pub fn options(&self) -> &AggregateOptions {
        &self.options
    }

    /// Adds one request (if the filter keeps it).
    pub fn push(&mut self, request: &Request<'_>) {
        self.records += 1;
        if self.filtering && !self.keeps(request) {
            return;
        }
        self.kept += 1;
        if let Some(ws) = &request.websocket {
            // Messages and connections are not HTTP requests to routes: they have a section
            // of their own (see `crate::analyze::websocket`).
            self.websocket.get_or_insert_default().push(request, ws);
            return;
        }
        let t = request.time_ms;
        match &mut self.bounds {
            Some((first, last)) if *first <= t && t <= *last => {}
            // Lines mostly come in time order: a later one within the fitted range only
            // moves `last`.
            Some((_, last)) if t > *last && t <= self.fits_up_to_ms => *last = t,
            Some((first, last)) => {
                *first = (*first).min(t);
                *last = (*last).max(t);
                self.fit_granularity();
            }
            None => {
                self.bounds = Some((t, t));
                // The next request that widens the range fits it.
                self.fits_up_to_ms = i64::MIN;
            }
        }
        let second = t.div_euclid(1000);
        let status = request.status.unwrap_or(0);
        if self.current.0 != second {
            self.flush_second();
            self.current.0 = second;
        }
        self.current.1[0] += 1;
        if status == 429 {
            self.current.1[1] += 1;
        }
        let route = self.route_code(request.route.as_deref());
        let stage = code(&mut self.names.stages, request.stage.as_deref());
        let (start, end) = self.hot.bin_ms;
        if !(start..end).contains(&t) {
            let g = self.granularity;
            let bin = second.div_euclid(g) * g;
            if bin != self.hot.bin {
                self.flush_bin();
                self.hot.bin = bin;
            }
            let ms = |s: i64| s.saturating_mul(1000);
            self.hot.bin_ms = (ms(bin), ms(bin.saturating_add(g)));
        }
        let (latency, integration) = (request.latency_ms, request.integration_latency_ms);
        let hot = &mut self.hot;
        let p = hot.pair((route, stage));
        let status_at = hot.status_index(status);
        let pair = &mut hot.pairs[p];
        if !pair.in_bin {
            pair.in_bin = true;
            hot.touched_pairs.push(p as u32);
        }
        match status_at {
            Some(at) => pair.count_status(at),
            None => pair.group.statuses.count(status, 1),
        }
        match cache_hit(request.method.as_deref(), status, latency, integration) {
            Some(true) => pair.group.hits += 1,
            Some(false) => pair.group.misses += 1,
            None => {}
        }
        let r = pair.route as usize;
        let by_route = &mut hot.routes[r];
        if !by_route.in_bin {
            by_route.in_bin = true;
            hot.touched_routes.push(r as u32);
        }
        by_route.latency.requests += 1;
        match (latency.and_then(whole_ms), integration.and_then(whole_ms)) {
            (Some(l), Some(i)) => {
                pair.latencies.requests += 1;
                hot.bin_latencies.requests += 1;
                pair.both.push(u32::from(l) << 16 | u32::from(i));
                if pair.both.len() == BOTH_LIMIT {
                    count_both(pair, &mut hot.bin_latencies, &mut by_route.latency);
                }
            }
            _ => {
                pair.latencies.push(latency, integration);
                hot.bin_latencies.push(latency, integration);
                if let Some(latency) = latency {
                    by_route.latency.latency.add(latency);
                }
            }
        }
        let key = code(&mut self.names.api_keys, request.api_key.as_deref());
        match status_at {
            Some(at) => {
                let key = slot(key);
                if hot.key_counts.len() <= key {
                    hot.key_counts.resize_with(key + 1, Vec::new);
                }
                let counts = &mut hot.key_counts[key];
                if counts.len() <= at {
                    counts.resize(at + 1, 0);
                }
                counts[at] += 1;
            }
            None => *self.api_keys.entry((key, status)).or_default() += 1,
        }
        if let Some(kind) = request.error_type.as_deref() {
            let kind = self.names.types.code(kind);
            *self.types.entry((kind, status)).or_default() += 1;
        }
        if let Some(message) = request.error_message.as_deref() {
            let message = self.names.messages.code(message);
            *self.messages.entry(message).or_default() += 1;
        }
        let reached = timeout_reached(
            status,
            request.integration_latency_ms,
            request.error_type.as_deref(),
            self.options.timeout_ms,
        );
        if reached {
            *self.timeouts.entry(route).or_default() += 1;
        }
    }

    /// Whether the filter keeps a request; `--route` globs match its templated route, as
    /// they do the table engine's.
    fn keeps(&self, request: &Request<'_>) -> bool {
        let options = &*self.options;
        match (&options.templates, request.route.as_deref()) {
            (Some(templates), Some(raw)) if !options.filter.routes.is_empty() => {
                let (name, _) = templates.template(raw);
                let templated = Request {
                    route: Some(std::borrow::Cow::Borrowed(&name)),
                    ..request.clone()
                };
                options.filter.keeps(&options.window, &templated)
            }
            _ => options.filter.keeps(&options.window, request),
        }
    }

    /// The code of a request's route, templated when the options hold templates.
    fn route_code(&mut self, route: Option<&str>) -> u32 {
        let (Some(templates), Some(raw)) = (&self.options.templates, route) else {
            return code(&mut self.names.routes, route);
        };
        if let Some(code) = self.route_cache.get(raw) {
            return *code;
        }
        let (name, source) = templates.template(raw);
        let code = self.names.routes.code(&name);
        if source != TemplateSource::Log {
            note_source(&mut self.route_sources, code, source);
        }
        if self.route_cache.len() >= ROUTE_CACHE {
            self.route_cache.clear();
        }
        self.route_cache.insert(raw.into(), code);
        code
    }

    /// Applies the templates' cardinality rule to the routes counted so far (call once every
    /// request is in): routes whose segment position has too many values under one parent
    /// are joined under `{id}` and marked inferred.
    pub fn collapse_routes(self) -> Accumulator {
        let Some(templates) = self.options.templates.clone() else {
            return self;
        };
        let sources = &self.route_sources;
        let names = self.names.routes.names().iter().enumerate().map(|(c, n)| {
            let source = sources.get(&(c as u32)).copied();
            (&**n, source.unwrap_or(TemplateSource::Log))
        });
        let renames = templates.collapse(names);
        if renames.is_empty() {
            return self;
        }
        let mut collapsed = Accumulator::new(self.options.clone());
        collapsed.merge(self, Some(&|name: &str| renames.get(name).cloned()));
        for name in renames.values() {
            let code = collapsed.names.routes.code(name);
            collapsed
                .route_sources
                .insert(code, TemplateSource::Inferred);
        }
        collapsed
    }

    /// Adds everything `other` counted; `rename` may rename (and so join) its routes.
    pub fn merge(&mut self, mut other: Accumulator, rename: Option<Rename<'_>>) {
        self.flush();
        other.flush();
        if self.records == 0 && rename.is_none() {
            // Nothing of ours to keep (only requests change an accumulator): taking theirs
            // whole saves re-inserting every entry, which the sinks' first join did.
            let options = std::mem::take(&mut self.options);
            let expected = self.expected_span;
            *self = other;
            self.options = options;
            self.expect_seconds(expected);
            return;
        }
        self.records += other.records;
        self.kept += other.kept;
        let other_size = other.groups.len() + other.latencies.by_bin_route.len();
        let routes = remap(&mut self.names.routes, &other.names.routes, rename);
        let stages = remap(&mut self.names.stages, &other.names.stages, None);
        let keys = remap(&mut self.names.api_keys, &other.names.api_keys, None);
        let types = remap(&mut self.names.types, &other.names.types, None);
        let messages = remap(&mut self.names.messages, &other.names.messages, None);
        let at = |codes: &[u32], c: u32| if c == NONE { NONE } else { codes[c as usize] };
        if let Some((first, last)) = other.bounds {
            self.bounds = Some(match self.bounds {
                Some((f, l)) => (f.min(first), l.max(last)),
                None => (first, last),
            });
        }
        self.fit_granularity();
        self.granularity = self.granularity.max(other.granularity);
        self.expected_span = self.expected_span.max(other.expected_span);
        let g = self.granularity;
        let (groups, latencies) = (&mut self.groups, &mut self.latencies);
        let (routes, stages) = (&routes, &stages);
        let merge_groups = move || {
            // Mostly new keys (the other part's bins): room made once, not by doublings.
            groups.reserve(other.groups.len());
            for ((bin, route, stage), group) in other.groups {
                let key = (bin.div_euclid(g) * g, at(routes, route), at(stages, stage));
                add_group(groups, key, group);
            }
        };
        let theirs = other.latencies;
        let merge_latencies = move || {
            latencies.by_bin.reserve(theirs.by_bin.len());
            latencies.by_bin_route.reserve(theirs.by_bin_route.len());
            for ((route, stage), l) in theirs.by_route {
                let key = (at(routes, route), at(stages, stage));
                add_latencies(&mut latencies.by_route, key, l);
            }
            for (bin, l) in theirs.by_bin {
                add_latencies(&mut latencies.by_bin, bin.div_euclid(g) * g, l);
            }
            for ((bin, route), l) in theirs.by_bin_route {
                let key = (bin.div_euclid(g) * g, at(routes, route));
                add_response_latency(&mut latencies.by_bin_route, key, l);
            }
        };
        // The groups and the histograms are apart: large ones are merged side by side (this
        // is the serial end of a run, while the other cores are idle).
        if other_size >= PARALLEL_MERGE {
            std::thread::scope(|scope| {
                scope.spawn(merge_latencies);
                merge_groups();
            });
        } else {
            merge_groups();
            merge_latencies();
        }
        // Our own groups may be keyed by a finer granularity than the merged one.
        self.coarsen();
        self.seconds.extend(other.seconds);
        self.compact_seconds();
        for ((key, status), n) in other.api_keys {
            *self.api_keys.entry((at(&keys, key), status)).or_default() += n;
        }
        for ((kind, status), n) in other.types {
            *self.types.entry((at(&types, kind), status)).or_default() += n;
        }
        for (message, n) in other.messages {
            *self.messages.entry(at(&messages, message)).or_default() += n;
        }
        for (route, n) in other.timeouts {
            *self.timeouts.entry(at(routes, route)).or_default() += n;
        }
        match (&mut self.websocket, other.websocket) {
            (Some(mine), Some(theirs)) => mine.merge(*theirs),
            (None, theirs) => self.websocket = theirs,
            (_, None) => {}
        }
        for (route, source) in other.route_sources {
            note_source(&mut self.route_sources, at(routes, route), source);
        }
    }

    /// Moves everything not yet in the maps into them.
    fn flush(&mut self) {
        self.flush_second();
        self.flush_bin();
        let hot = &mut self.hot;
        for (slot, counts) in hot.key_counts.iter_mut().enumerate() {
            let key = (slot as u32).wrapping_sub(1);
            for (at, n) in std::mem::take(counts).into_iter().enumerate() {
                if n > 0 {
                    *self.api_keys.entry((key, hot.statuses[at])).or_default() += n;
                }
            }
        }
        for pair in &mut hot.pairs {
            if pair.latencies.requests > 0 {
                let latencies = std::mem::take(&mut pair.latencies);
                add_latencies(&mut self.latencies.by_route, pair.key, latencies);
            }
        }
    }

    /// Moves the current bin's counts into the maps.
    fn flush_bin(&mut self) {
        let hot = &mut self.hot;
        let bin = hot.bin;
        // The next request's bin is worked out anew (the granularity may change next).
        hot.bin_ms = (0, 0);
        for p in hot.touched_pairs.drain(..) {
            let pair = &mut hot.pairs[p as usize];
            if !pair.both.is_empty() {
                let route = &mut hot.routes[pair.route as usize].latency;
                count_both(pair, &mut hot.bin_latencies, route);
            }
            pair.group_statuses(&hot.statuses);
            pair.in_bin = false;
            let (route, stage) = pair.key;
            add_group(
                &mut self.groups,
                (bin, route, stage),
                std::mem::take(&mut pair.group),
            );
        }
        for r in hot.touched_routes.drain(..) {
            let route = &mut hot.routes[r as usize];
            route.in_bin = false;
            let latency = std::mem::take(&mut route.latency);
            // The next bin's list starts as long as this one's was (not grown step by step).
            route.latency.latency = Histogram::with_room(latency.latency.count());
            add_response_latency(&mut self.latencies.by_bin_route, (bin, route.code), latency);
        }
        if hot.bin_latencies.requests > 0 {
            // The next bin's lists start as long as this one's were.
            let room = hot.bin_latencies.with_room();
            let latencies = std::mem::replace(&mut hot.bin_latencies, room);
            add_latencies(&mut self.latencies.by_bin, bin, latencies);
        }
    }

    /// Appends the counts of the current second to `seconds` (lines come mostly in time
    /// order, so most requests only touch the current second's counts, and the seconds
    /// come in order); sums the entries of each second when they have doubled since the
    /// last time, so memory follows the seconds spanned, however the lines are ordered.
    fn flush_second(&mut self) {
        let (second, [requests, throttled]) = std::mem::take(&mut self.current);
        if requests == 0 {
            return;
        }
        match self.seconds.last_mut() {
            Some((last, counts)) if *last == second => {
                counts[0] += requests;
                counts[1] += throttled;
            }
            _ => self.seconds.push((second, [requests, throttled])),
        }
        if self.seconds.len() >= 2 * self.seconds_compacted.max(MIN_SECONDS_COMPACTED) {
            self.compact_seconds();
        }
    }

    /// Sorts `seconds` and sums each second's entries into one. The sort is stable, so
    /// runs already in order (a chunk's lines, each sink's sorted part) are merged in
    /// linear time.
    fn compact_seconds(&mut self) {
        self.seconds.sort_by_key(|(second, _)| *second);
        self.seconds.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1[0] += later.1[0];
                kept.1[1] += later.1[1];
            }
            same
        });
        self.seconds_compacted = self.seconds.len();
    }

    /// Regroups the bins by a coarser width (a multiple of the current one), and completes
    /// the per-second counts: call before reading the fields.
    pub fn finish(&mut self, width: i64) {
        self.flush();
        self.compact_seconds();
        self.granularity = width.max(1);
        self.coarsen();
    }

    /// Says that the requests to come span at least `first_ms` to `last_ms` (two of them were
    /// read ahead: an input's first and last lines). The bins are then as coarse from the
    /// start as they would become once those requests are in, instead of starting at one
    /// second and being re-keyed as the range grows: a finer granularity costs a group per
    /// route × stage per bin, and re-keying costs every group again. Ignored when the bin
    /// width is fixed or requests are filtered (the two may not be kept). Should the span
    /// not come (an input cut while it is read), the timeline's bins are as wide as the
    /// span asked for: still exact, only coarser (see [`bin_seconds`](Self::bin_seconds)).
    pub fn expect_span(&mut self, first_ms: i64, last_ms: i64) {
        self.expect_seconds(seconds_spanned(
            first_ms.min(last_ms),
            first_ms.max(last_ms),
        ));
    }

    /// Expects what `other` was told to expect (for a fresh accumulator of the same input).
    pub(crate) fn expect_span_of(&mut self, other: &Accumulator) {
        // 0 (nothing expected) changes nothing: one second's bins are the finest.
        self.expect_seconds(other.expected_span);
    }

    /// [`expect_span`](Self::expect_span) of a span in whole seconds.
    fn expect_seconds(&mut self, span: i64) {
        if self.options.bin_seconds.is_some() || self.filtering {
            return;
        }
        self.expected_span = self.expected_span.max(span);
        let g = bin_granularity(span);
        if g > self.granularity {
            self.flush_bin();
            self.granularity = g;
            self.coarsen();
        }
    }

    /// The timeline's bin width for the requests counted: the fixed width, or the automatic
    /// one for their range (at least the one for the span they were expected to cover,
    /// which the groups' granularity may already be fitted to).
    pub fn bin_seconds(&self) -> i64 {
        match (self.options.bin_seconds, self.bounds) {
            (Some(width), _) => width.max(1),
            (None, Some((first, last))) => {
                auto_bin_seconds(seconds_spanned(first, last).max(self.expected_span))
            }
            (None, None) => 60,
        }
    }

    /// Raises the granularity as the range grows (unless the bin width is fixed), as soon as
    /// the range allows a coarser one: the fewer bins, the fewer groups to count, merge and
    /// re-key.
    fn fit_granularity(&mut self) {
        if self.options.bin_seconds.is_some() {
            self.fits_up_to_ms = i64::MAX;
            return;
        }
        if let Some((first, last)) = self.bounds {
            let range = seconds_spanned(first, last);
            if range > self.fitted_up_to {
                self.fitted_up_to = same_width_up_to(range);
                let g = bin_granularity(range);
                if g > self.granularity {
                    self.flush_bin();
                    self.granularity = g;
                    self.coarsen();
                }
            }
            // `seconds_spanned(first, t) <= fitted_up_to` for every t up to here.
            self.fits_up_to_ms = first
                .div_euclid(1000)
                .saturating_add(self.fitted_up_to)
                .saturating_mul(1000)
                .saturating_sub(1);
        }
    }

    /// Re-keys groups (and latencies) not aligned to the current granularity.
    fn coarsen(&mut self) {
        let g = self.granularity;
        self.latencies.coarsen(g);
        if self.groups.keys().all(|(bin, _, _)| bin.rem_euclid(g) == 0) {
            return;
        }
        let old = std::mem::take(&mut self.groups);
        for ((bin, route, stage), group) in old {
            add_group(
                &mut self.groups,
                (bin.div_euclid(g) * g, route, stage),
                group,
            );
        }
    }
}

/// The whole seconds from `first_ms` to `last_ms`, both counted.
fn seconds_spanned(first_ms: i64, last_ms: i64) -> i64 {
    last_ms.div_euclid(1000) - first_ms.div_euclid(1000) + 1
}

fn code(dictionary: &mut Dictionary, name: Option<&str>) -> u32 {
    name.map_or(NONE, |n| dictionary.code(n))
}

/// The codes in `into` of every name of `from`, renamed by `rename` where it gives a name.
fn remap(into: &mut Dictionary, from: &Dictionary, rename: Option<Rename<'_>>) -> Vec<u32> {
    from.names()
        .iter()
        .map(|name| match rename.and_then(|r| r(name)) {
            Some(new) => into.code(&new),
            None => into.code(name),
        })
        .collect()
}

/// Adds a group's aggregates under `key`.
pub(crate) fn add_group(
    groups: &mut FastMap<(i64, u32, u32), Group>,
    key: (i64, u32, u32),
    group: Group,
) {
    match groups.get_mut(&key) {
        Some(mine) => mine.merge(&group),
        None => {
            groups.insert(key, group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    /// `n` requests over one hour on 7 routes, 2 stages, 5 keys, whole-ms latencies.
    fn fill(n: u64) -> Accumulator {
        let mut acc = Accumulator::new(Arc::new(AggregateOptions {
            timeout_ms: 29_000,
            ..AggregateOptions::default()
        }));
        for i in 0..n {
            let route = format!("GET /r{}", i % 7);
            let latency = ((i * 7919) % 300) as f64;
            acc.push(&Request {
                time_ms: 1_795_514_400_000 + (i * 3_600_000 / n) as i64,
                status: Some(if i % 10 == 0 { 429 } else { 200 }),
                method: Some(Cow::Borrowed("GET")),
                route: Some(Cow::Owned(route)),
                stage: Some(Cow::Borrowed(if i % 2 == 0 { "prod" } else { "dev" })),
                api_key: Some(Cow::Owned(format!("key{}", i % 5))),
                latency_ms: Some(latency),
                integration_latency_ms: Some((latency - 5.0).max(0.0)),
                ..Request::default()
            });
        }
        acc.finish(600);
        acc
    }

    /// What the accumulator holds: groups, seconds, keyed counts and distinct latencies.
    fn size(acc: &Accumulator) -> (usize, usize, usize, usize) {
        let distinct = acc
            .latencies
            .by_bin
            .values()
            .map(|l| l.latency.sorted().len() + l.integration.sorted().len())
            .sum();
        (
            acc.groups.len(),
            acc.seconds.len(),
            acc.api_keys.len(),
            distinct,
        )
    }

    #[test]
    fn memory_follows_cardinality_not_requests() {
        let small = fill(60_000);
        let large = fill(600_000);
        assert_eq!(large.kept, 600_000);
        let (groups, seconds, keys, distinct) = size(&large);
        assert_eq!((groups, keys), (size(&small).0, size(&small).2));
        assert_eq!(seconds, 3600);
        // 6 ten-minute bins × 14 route-stages, each bin with at most 300 + 296 latencies: ten
        // times the requests, the same values to count.
        assert_eq!(groups, 6 * 14);
        assert_eq!(distinct, size(&small).3);
        assert!(distinct <= 6 * 596, "{distinct}");
        // Histograms per route × stage, per bin and per bin × route only.
        let l = &large.latencies;
        assert_eq!(
            (l.by_route.len(), l.by_bin.len(), l.by_bin_route.len()),
            (14, 6, 6 * 7)
        );
    }

    #[test]
    fn seconds_stay_bounded_by_the_seconds_spanned_in_any_order() {
        let mut acc = Accumulator::new(Arc::new(AggregateOptions::default()));
        let t0 = 1_795_514_400_000;
        for i in 0..100_000i64 {
            // Three seconds taking turns: a new entry on every line until they are summed.
            acc.push(&Request {
                time_ms: t0 + (i % 3) * 1000,
                status: Some(if i % 4 == 0 { 429 } else { 200 }),
                ..Request::default()
            });
            assert!(acc.seconds.len() <= 2 * MIN_SECONDS_COMPACTED);
        }
        acc.finish(1);
        let per_second: Vec<(i64, [u64; 2])> = (0..3)
            .map(|k| {
                let lines = (0..100_000i64).filter(|i| i % 3 == k);
                let throttled = lines.clone().filter(|i| i % 4 == 0).count() as u64;
                (t0 / 1000 + k, [lines.count() as u64, throttled])
            })
            .collect();
        assert_eq!(acc.seconds, per_second);
    }

    #[test]
    fn merging_into_an_empty_accumulator_takes_the_other_whole() {
        let part = fill(30_000);
        let mut empty = Accumulator::new(Arc::new(part.options().clone()));
        empty.merge(fill(30_000), None);
        assert_eq!((empty.records, empty.kept), (part.records, part.kept));
        assert_eq!(size(&empty), size(&part));
        assert_eq!(empty.seconds, part.seconds);
        for (key, group) in &part.groups {
            assert_eq!(empty.groups[key].requests(), group.requests());
        }
    }

    /// Requests `lines` of `total` spread over one hour, on `routes` routes, one stage,
    /// whole-ms latencies.
    fn wide(lines: impl Iterator<Item = u64>, total: u64, routes: u64) -> Accumulator {
        let mut acc = Accumulator::new(Arc::new(AggregateOptions {
            bin_seconds: Some(60),
            ..AggregateOptions::default()
        }));
        for i in lines {
            acc.push(&Request {
                time_ms: 1_795_514_400_000 + (i * 3_600_000 / total) as i64,
                status: Some(if i % 7 == 0 { 503 } else { 200 }),
                route: Some(Cow::Owned(format!("GET /r{}", (i * 31) % routes))),
                stage: Some(Cow::Borrowed("prod")),
                latency_ms: Some((i % 500) as f64),
                integration_latency_ms: Some((i % 400) as f64),
                ..Request::default()
            });
        }
        acc
    }

    #[test]
    fn large_parts_merged_side_by_side_equal_one_pass() {
        let (n, routes) = (200_000, 500);
        // Every other line each: both parts hold every key.
        let mut a = wide((0..2 * n).step_by(2), 2 * n, routes);
        let b = wide((1..2 * n).step_by(2), 2 * n, routes);
        assert!(b.groups.len() + b.latencies.by_bin_route.len() >= PARALLEL_MERGE);
        let mut whole = wide(0..2 * n, 2 * n, routes);
        a.merge(b, None);
        a.finish(60);
        whole.finish(60);
        // Route codes follow first appearance, which differs: compare by name.
        // (bin, route name) → (requests, statuses).
        type Groups = BTreeMap<(i64, String), (u64, Vec<(u16, u64)>)>;
        let groups = |acc: &Accumulator| -> Groups {
            acc.groups
                .iter()
                .map(|((bin, route, _), g)| {
                    let mut statuses: Vec<_> = g.statuses.iter().collect();
                    statuses.sort();
                    let name = acc.names.routes.name(*route).to_string();
                    ((*bin, name), (g.requests(), statuses))
                })
                .collect()
        };
        assert_eq!(groups(&a), groups(&whole));
        let bins = |acc: &Accumulator| -> BTreeMap<(i64, String), Vec<(f64, u64)>> {
            let l = &acc.latencies.by_bin_route;
            l.iter()
                .map(|((bin, route), l)| {
                    let name = acc.names.routes.name(*route).to_string();
                    ((*bin, name), l.latency.sorted())
                })
                .collect()
        };
        assert_eq!(bins(&a), bins(&whole));
        let by_route = |acc: &Accumulator| -> BTreeMap<String, Vec<(f64, u64)>> {
            let l = &acc.latencies.by_route;
            l.iter()
                .map(|((route, _), l)| {
                    let name = acc.names.routes.name(*route).to_string();
                    (name, l.overhead.sorted())
                })
                .collect()
        };
        assert_eq!(by_route(&a), by_route(&whole));
        assert_eq!(by_route(&a).len(), routes as usize);
    }

    #[test]
    fn statuses_and_keys_counted_by_index_equal_a_plain_count() {
        // Statuses (none included) and API keys (none included) in an order where each
        // bin sees them first in another order, over many route × stage pairs, some past
        // the stages with a slot of their own.
        let mut acc = Accumulator::new(Arc::new(AggregateOptions {
            bin_seconds: Some(60),
            ..AggregateOptions::default()
        }));
        let statuses = [200, 0, 503, 429, 201, 404, 599, 100];
        let mut groups: BTreeMap<(i64, String, String), Vec<(u16, u64)>> = BTreeMap::new();
        let mut keys: BTreeMap<(Option<String>, u16), u64> = BTreeMap::new();
        for i in 0..20_000u64 {
            let status = statuses[((i * 7 + i / 900) % 8) as usize];
            let route = format!("GET /r{}", i % 5);
            let stage = format!("s{}", (i / 3) % 6);
            let key = (i % 9 != 0).then(|| format!("k{}", i % 4));
            let time_ms = 1_700_000_000_000 + i as i64 * 50;
            acc.push(&Request {
                time_ms,
                status: (status != 0).then_some(status),
                route: Some(Cow::Owned(route.clone())),
                stage: Some(Cow::Owned(stage.clone())),
                api_key: key.clone().map(Cow::Owned),
                latency_ms: Some(10.0),
                ..Request::default()
            });
            let bin = (time_ms / 1000).div_euclid(60) * 60;
            let counts = groups.entry((bin, route, stage)).or_default();
            match counts.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                None => counts.push((status, 1)),
            }
            *keys.entry((key, status)).or_default() += 1;
        }
        acc.finish(60);
        let names = acc.names.clone();
        let name = |d: &Dictionary, c: u32| (c != NONE).then(|| d.name(c).to_string());
        let counted: BTreeMap<_, _> = acc
            .groups
            .iter()
            .map(|((bin, route, stage), g)| {
                let route = name(&names.routes, *route).unwrap();
                let stage = name(&names.stages, *stage).unwrap();
                ((*bin, route, stage), g.statuses.iter().collect::<Vec<_>>())
            })
            .collect();
        assert_eq!(counted, groups);
        let counted: BTreeMap<_, _> = acc
            .api_keys
            .iter()
            .map(|((key, status), n)| ((name(&names.api_keys, *key), *status), *n))
            .collect();
        assert_eq!(counted, keys);
    }

    #[test]
    fn latencies_counted_in_bursts_equal_those_added_one_by_one() {
        // Every kind of value a request can bring: whole and small, whole past the dense
        // counts and past two bytes, fractional, missing, and integration latency above
        // response latency (a negative overhead); enough requests a pair for several bursts
        // a bin, over bins that change.
        let value = |i: u64, salt: u64| -> Option<f64> {
            match (i * 7919 + salt) % 11 {
                0 => None,
                1 => Some(1500.0 + (i % 13) as f64),
                2 => Some(70_000.0 + (i % 3) as f64),
                3 => Some(12.5),
                _ => Some(((i * 31 + salt) % 400) as f64),
            }
        };
        let mut acc = Accumulator::new(Arc::new(AggregateOptions {
            bin_seconds: Some(60),
            ..AggregateOptions::default()
        }));
        let mut by_name: BTreeMap<(String, String), Latencies> = BTreeMap::new();
        let mut all = Latencies::default();
        for i in 0..30_000u64 {
            let (route, stage) = (
                format!("GET /r{}", i % 3),
                ["prod", "dev"][(i % 2) as usize],
            );
            let (latency, integration) = (value(i, 0), value(i, 5));
            acc.push(&Request {
                time_ms: 1_700_000_000_000 + i as i64 * 12,
                status: Some(200),
                route: Some(Cow::Owned(route.clone())),
                stage: Some(Cow::Borrowed(stage)),
                latency_ms: latency,
                integration_latency_ms: integration,
                ..Request::default()
            });
            let one = by_name.entry((route, stage.to_string())).or_default();
            one.push(latency, integration);
            all.push(latency, integration);
        }
        acc.finish(60);
        let names = acc.names.clone();
        let aggregates = acc.into_aggregates();
        let detail = &aggregates.latencies;
        let same = |a: &Latencies, b: &Latencies| {
            assert_eq!(a.requests, b.requests);
            assert_eq!(a.latency.sorted(), b.latency.sorted());
            assert_eq!(a.integration.sorted(), b.integration.sorted());
            assert_eq!(a.overhead.sorted(), b.overhead.sorted());
        };
        assert_eq!(detail.by_route.len(), by_name.len());
        for ((route, stage), l) in &detail.by_route {
            let name = (
                names.routes.name(*route).to_string(),
                names.stages.name(*stage).to_string(),
            );
            same(l, &by_name[&name]);
        }
        assert!(detail.by_bin.len() > 3);
        let mut bins = Latencies::default();
        for l in detail.by_bin.values() {
            bins.merge(l);
        }
        same(&bins, &all);
        let mut routes = Histogram::default();
        for l in detail.by_bin_route.values() {
            routes.merge(&l.latency);
        }
        assert_eq!(routes.sorted(), all.latency.sorted());
    }

    #[test]
    fn merged_parts_equal_one_pass() {
        let whole = fill(30_000);
        let mut a = fill(30_000);
        a.merge(fill(30_000), None);
        assert_eq!(a.kept, 2 * whole.kept);
        assert_eq!(a.groups.len(), whole.groups.len());
        for (key, group) in &whole.groups {
            assert_eq!(a.groups[key].requests(), 2 * group.requests());
        }
        let doubled = |h: &Histogram| -> Vec<(f64, u64)> {
            h.sorted().into_iter().map(|(v, n)| (v, 2 * n)).collect()
        };
        let (mine, theirs) = (&a.latencies, &whole.latencies);
        assert_eq!(mine.by_route.len(), theirs.by_route.len());
        for (key, l) in &theirs.by_route {
            let merged = &mine.by_route[key];
            assert_eq!(merged.requests, 2 * l.requests);
            assert_eq!(merged.latency.sorted(), doubled(&l.latency));
            assert_eq!(merged.overhead.sorted(), doubled(&l.overhead));
        }
        for (key, l) in &theirs.by_bin {
            assert_eq!(
                mine.by_bin[key].integration.sorted(),
                doubled(&l.integration)
            );
        }
        assert_eq!(mine.by_bin_route.len(), theirs.by_bin_route.len());
        for (key, l) in &theirs.by_bin_route {
            assert_eq!(mine.by_bin_route[key].requests, 2 * l.requests);
            assert_eq!(mine.by_bin_route[key].latency.sorted(), doubled(&l.latency));
        }
    }

    /// Requests `lines` of `n` spread from `start_ms` over `span_ms` (as [`fill`] makes
    /// them), into `acc`.
    fn push_over(
        acc: &mut Accumulator,
        lines: std::ops::Range<u64>,
        n: u64,
        start_ms: i64,
        span_ms: i64,
    ) {
        for i in lines {
            let latency = ((i * 7919) % 300) as f64;
            acc.push(&Request {
                time_ms: start_ms + (i as i64 * span_ms) / n as i64,
                status: Some(if i % 10 == 0 { 429 } else { 200 }),
                route: Some(Cow::Owned(format!("GET /r{}", i % 7))),
                stage: Some(Cow::Borrowed(if i % 2 == 0 { "prod" } else { "dev" })),
                latency_ms: Some(latency),
                integration_latency_ms: Some((latency - 5.0).max(0.0)),
                ..Request::default()
            });
        }
    }

    /// Groups and per-bin latencies, for comparing two accumulators of the same requests.
    type Binned = (
        i64,
        BTreeMap<(i64, u32, u32), Vec<(u16, u64)>>,
        BTreeMap<i64, Vec<(f64, u64)>>,
    );

    fn binned(acc: Accumulator) -> Binned {
        let aggregates = acc.into_aggregates();
        let groups = aggregates.groups.iter().map(|(k, g)| {
            let mut statuses: Vec<_> = g.statuses.iter().collect();
            statuses.sort();
            (*k, statuses)
        });
        let bins = aggregates
            .latencies
            .by_bin
            .iter()
            .map(|(k, l)| (*k, l.latency.sorted()));
        (aggregates.bin_seconds, groups.collect(), bins.collect())
    }

    #[test]
    fn an_expected_span_sizes_the_bins_from_the_start_and_changes_no_count() {
        let (t0, day) = (1_795_514_400_000, 86_400_000);
        let mut plain = Accumulator::new(Arc::new(AggregateOptions::default()));
        push_over(&mut plain, 0..50_000, 50_000, t0, day);
        let mut told = Accumulator::new(Arc::new(AggregateOptions::default()));
        told.expect_span(t0 + day - 1, t0);
        // A day's timeline has 15-minute bins: counted in them from the first request.
        assert_eq!(told.granularity, 900);
        // A fresh accumulator for another chunk of the same input is told the same.
        let mut fresh = crate::model::RequestSink::fresh(&told);
        assert_eq!(fresh.granularity, 900);
        push_over(&mut told, 0..25_000, 50_000, t0, day);
        push_over(&mut fresh, 25_000..50_000, 50_000, t0, day);
        // Half a day each, in 15-minute bins: 48 bins × 14 route-stages at most, never one
        // second's.
        assert!(told.groups.len() <= 48 * 14 && fresh.groups.len() <= 48 * 14);
        told.merge(fresh, None);
        let (told, plain) = (binned(told), binned(plain));
        assert_eq!(told.0, 900);
        assert_eq!(told, plain);
    }

    #[test]
    fn an_expected_span_that_does_not_come_keeps_counts_exact_in_its_wider_bins() {
        let t0 = 1_795_514_400_000;
        let mut told = Accumulator::new(Arc::new(AggregateOptions::default()));
        told.expect_span(t0, t0 + 86_400_000 - 1);
        // Only an hour comes (the input was cut while read): its own bins would be 30 s,
        // finer than the groups were kept in; the timeline takes the day's 15 minutes.
        push_over(&mut told, 0..10_000, 10_000, t0, 3_600_000);
        let (width, groups, _) = binned(told);
        assert_eq!(width, 900);
        assert!(groups.keys().all(|(bin, _, _)| bin % 900 == 0));
        let requests: u64 = groups.values().flatten().map(|(_, n)| n).sum();
        assert_eq!(requests, 10_000);
    }

    #[test]
    fn an_expected_span_is_ignored_with_a_fixed_width_or_a_filter() {
        let t0 = 1_795_514_400_000;
        let fixed = AggregateOptions {
            bin_seconds: Some(60),
            ..AggregateOptions::default()
        };
        let filtered = AggregateOptions {
            filter: crate::filter::RequestFilter {
                stages: vec!["prod".to_string()],
                ..Default::default()
            },
            ..AggregateOptions::default()
        };
        for options in [fixed, filtered] {
            let mut acc = Accumulator::new(Arc::new(options));
            let before = acc.granularity;
            acc.expect_span(t0, t0 + 86_400_000);
            assert_eq!(acc.granularity, before);
            assert_eq!(acc.expected_span, 0);
        }
    }
}
