//! Replays a [`Dataset`] through the core: one real [`Engine`] per visitor, events in time
//! order, exactly the `track` calls the page would have made. Owns the labels and the
//! evaluation moments:
//!
//! - sessions are the Engine's own (30 minutes of inactivity, as in the browser);
//! - a session's intent label is whether it contains an `Order Completed`;
//! - a [`Sample`] is taken after every event strictly before the session's first order: the
//!   features the model sees then (`Intelligence::features`) and the page's predictions then
//!   (`Intelligence::insight`), read through [`Engine::intelligence`];
//! - abandonment samples are those with a non-empty cart, labelled "the session ends without
//!   an order".

use cartsense::core::config::Config;
use cartsense::core::intent::{FEATURES, Model, N_FEATURES};
use cartsense::core::tracker::Engine;

use crate::adapters::{DataError, Dataset, Problems};

/// Index of a feature in [`FEATURES`] (a name the core does not know is a lab bug).
pub fn feature(name: &str) -> usize {
    FEATURES
        .iter()
        .position(|f| *f == name)
        .unwrap_or_else(|| panic!("the core has no feature `{name}`"))
}

/// The event that is a purchase.
pub const ORDER: &str = "Order Completed";

/// The features and the page's predictions at one evaluation moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Index into [`Replay::sessions`].
    pub session: usize,
    pub x: [f64; N_FEATURES],
    /// `insight().intent` then.
    pub page_intent: f64,
    /// `insight().abandonment` then (`None` with an empty cart).
    pub page_abandonment: Option<f64>,
}

impl Sample {
    pub fn cart_nonempty(&self) -> bool {
        self.x[feature("cart_nonempty")] > 0.5
    }
}

/// One session as the Engine split it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    /// Index into [`Dataset::visitors`].
    pub visitor: usize,
    /// The Engine's session id.
    pub id: String,
    pub start: f64,
    pub end: f64,
    pub events: usize,
    /// It contains an order.
    pub purchased: bool,
    /// Its samples: `samples[first..first + len]` of the [`Replay`].
    pub first: usize,
    pub len: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Replay {
    /// In replay order: visitor by visitor, each visitor's sessions in time order.
    pub sessions: Vec<SessionInfo>,
    pub samples: Vec<Sample>,
    /// Events the engines counted.
    pub events: usize,
    /// Orders the engine ignored as repeats of an order id already seen.
    pub repeated_orders: usize,
}

impl Replay {
    /// Whether sample `i` is a positive for intent (its session contains an order).
    pub fn purchased(&self, sample: &Sample) -> bool {
        self.sessions[sample.session].purchased
    }
}

/// The options of the replay engines: memory storage and summary mode, so nothing but
/// summaries is queued; the visitors' local time `timezone_offset` minutes east of UTC.
pub fn engine_options(timezone_offset: f64) -> String {
    format!(
        "{{\"endpoint\":\"/lab\",\"storage\":\"memory\",\"mode\":\"summary\",\"sessionTimeout\":1800000,\"timezoneOffset\":{timezone_offset}}}"
    )
}

/// The order events are replayed in, as indices into `data.events`: visitor by visitor, each
/// in time order; equal times keep file order.
pub fn replay_order(data: &Dataset) -> Vec<usize> {
    let mut order: Vec<usize> = (0..data.events.len()).collect();
    order.sort_by(|a, b| {
        let (ea, eb) = (&data.events[*a], &data.events[*b]);
        ea.visitor
            .cmp(&eb.visitor)
            .then(ea.time.total_cmp(&eb.time))
            .then(a.cmp(b))
    });
    order
}

/// Replays every visitor of `data`. `model`, if given, is set on every engine (the page's
/// predictions are then that model's); otherwise the compiled-in default model is used.
/// An event the engine refuses (ndjson properties that fail validation) is a row error.
pub fn replay(
    data: &Dataset,
    timezone_offset: f64,
    model: Option<&Model>,
    problems: &mut Problems,
) -> Result<Replay, DataError> {
    let config = Config::parse(&engine_options(timezone_offset))
        .map_err(|e| DataError::new(0, format!("replay options: {}", e.message())))?;
    let order = replay_order(data);
    let mut out = Replay::default();
    let mut engine: Option<Engine> = None;
    let mut current_visitor = usize::MAX;
    for index in order {
        let event = &data.events[index];
        if event.visitor != current_visitor {
            current_visitor = event.visitor;
            let seed = [event.visitor as u32, (event.visitor >> 32) as u32, 0x1ab, 0xca7];
            let mut fresh = Engine::new(config.clone(), Vec::new(), seed, event.time, false);
            if let Some(model) = model {
                fresh.intelligence_mut().set_model(model.clone());
            }
            engine = Some(fresh);
        }
        let Some(engine) = engine.as_mut() else { continue };
        let before = engine.session().map(|s| (s.started_at, s.events));
        if let Err(error) = engine.track(event.time, "{}", &event.name, &event.properties) {
            problems.handle(DataError::new(event.line, error.message()))?;
            continue;
        }
        let Some(session) = engine.session() else { continue };
        if before == Some((session.started_at, session.events)) {
            // not counted: an order id seen before (a reloaded confirmation page)
            out.repeated_orders += 1;
            continue;
        }
        out.events += 1;
        if session.events == 1 || out.sessions.is_empty() {
            out.sessions.push(SessionInfo {
                visitor: event.visitor,
                id: session.id.clone(),
                start: session.started_at,
                end: event.time,
                events: 0,
                purchased: false,
                first: out.samples.len(),
                len: 0,
            });
        }
        let number = out.sessions.len() - 1;
        let info = &mut out.sessions[number];
        info.events += 1;
        info.end = event.time;
        if info.purchased {
            continue;
        }
        if event.name == ORDER {
            info.purchased = true;
            continue;
        }
        let intelligence = engine.intelligence();
        let insight = intelligence.insight();
        out.samples.push(Sample {
            session: number,
            x: intelligence.features(event.time),
            page_intent: insight.intent,
            page_abandonment: insight.abandonment,
        });
        info.len += 1;
    }
    Ok(out)
}

/// Session indices sorted by start time (ties: replay order).
pub fn by_start(replay: &Replay) -> Vec<usize> {
    let mut order: Vec<usize> = (0..replay.sessions.len()).collect();
    order.sort_by(|a, b| {
        replay.sessions[*a]
            .start
            .total_cmp(&replay.sessions[*b].start)
            .then(a.cmp(b))
    });
    order
}

/// The time split: sessions sorted by start time, the earliest `fraction` (rounded down) first,
/// the rest second. Every session of the first part starts no later than any of the second.
pub fn time_split(replay: &Replay, fraction: f64) -> (Vec<usize>, Vec<usize>) {
    let mut order = by_start(replay);
    let cut = ((order.len() as f64) * fraction).floor() as usize;
    let later = order.split_off(cut.min(order.len()));
    (order, later)
}

/// The samples of `sessions`, in that order.
pub fn samples_of<'a>(replay: &'a Replay, sessions: &'a [usize]) -> impl Iterator<Item = &'a Sample> + 'a {
    sessions.iter().flat_map(move |s| {
        let info = &replay.sessions[*s];
        &replay.samples[info.first..info.first + info.len]
    })
}

#[cfg(test)]
impl Replay {
    /// Test fixtures: appends a session of one event with the one sample `x` (no page scores).
    pub(crate) fn push_one_event_session(
        &mut self,
        visitor: usize,
        id: String,
        start: f64,
        end: f64,
        purchased: bool,
        x: [f64; N_FEATURES],
    ) {
        self.sessions.push(SessionInfo {
            visitor,
            id,
            start,
            end,
            events: 1,
            purchased,
            first: self.samples.len(),
            len: 1,
        });
        self.samples.push(Sample {
            session: self.sessions.len() - 1,
            x,
            page_intent: 0.0,
            page_abandonment: None,
        });
    }
}

#[cfg(test)]
mod tests;
