//! Merchant campaigns (issue 5): which prompt to show, to whom, when, how often, with a
//! holdout group to measure the uplift, decided on the device.
//!
//! Owns the campaign config and its validation ([`Campaigns::parse`], in `config.rs`), the
//! triggers, eligibility, offers with their margin floor, caps and the one-prompt budget,
//! holdout assignment, attribution, and the decision state ([`Prompts`], persisted across
//! sessions as compact JSON). Must not touch: the clock, randomness, storage, the DOM or the
//! network. Every fact comes in as an argument — the time, the visitor's ids, the scores, the
//! page — in a [`Situation`], with the [`Cue`] that prompted the evaluation, so the same inputs
//! always give the same decision and a session can be replayed natively.
//!
//! How the shell uses it:
//! 1. On each accepted event, exit-intent signal or timer, build a [`Situation`] and call
//!    [`Prompts::decide`]. It returns at most one [`Decision`] and, when a time-based trigger
//!    (cart idle, inactivity) is not due yet, the time to evaluate again with [`Cue::Tick`].
//! 2. A treatment decision reserves the one-prompt budget. Show it (fetching a unique code
//!    first if the offer has one), then report [`Prompts::record_shown`]; if it cannot be shown
//!    (the code fetch failed or timed out), [`Prompts::record_not_shown`] (a short, stored
//!    pause of that campaign, [`NOT_SHOWN_PAUSE`]); when the visitor
//!    closes it, [`Prompts::record_dismissed`] (starts the cool-down) or acts on it,
//!    [`Prompts::record_clicked`]. Send `Prompt Shown` with [`Decision::write_properties`].
//! 3. A holdout decision shows nothing: `decide` has already counted it as a show (caps apply
//!    the same to both arms, so they stay comparable) and recorded its exposure; send
//!    `Prompt Held Out` with the same properties.
//! 4. `Order Completed` carries [`Prompts::attribution`]: the latest exposure, of either arm,
//!    within its campaign's attribution window.
//!
//! Choices where the issue is silent:
//! - Highest `priority` wins, ties go to the campaign listed first. When the winner assigns
//!   the visitor to its holdout, nothing else is shown in its place: a held-out visitor must
//!   see nothing, or the control group would be treated by another campaign.
//! - Exit intent's pointer signal counts on every device; its mobile signals (fast upward
//!   scroll, returning to the tab, inactivity) only where the device class is `mobile` or
//!   `tablet`.
//! - Cart idle counts from the later of the last cart change and the last interaction, so a
//!   visitor reading the cart page is not idle.
//! - A spend-threshold offer applies once the threshold is reached, so its margin floor is
//!   checked against the threshold, not the current cart.
//! - A free-shipping offer's `value` is the shipping cost the shop absorbs (default 0), which
//!   its margin floor counts.
//! - The prompt on screen is page state: it is not persisted, so a page that went away with a
//!   prompt open does not block the next page.

mod config;
#[cfg(test)]
mod tests;

use crate::core::config::Consent;
use crate::core::json::{self, ObjectWriter, Value, write_string};
use crate::core::num;
use crate::core::prelude::*;
use crate::core::time::Millis;

const SECOND: f64 = 1000.0;
/// After a prompt could not be shown (its unique code did not arrive), its campaign is not
/// decided again for this long: otherwise the next event would decide it again and ask a failing
/// code endpoint on every event. Stored, so that the visitor's other pages (and tabs) do not
/// retry at once either.
pub const NOT_SHOWN_PAUSE: Millis = 60.0 * SECOND;
const DAY: f64 = 86_400_000.0;
/// Show times older than the longest `perDays` window (365 days) can never count again.
const LONGEST_CAP_WINDOW: f64 = 365.0 * DAY;
/// Bounds on the persisted state: show times per campaign (the largest `perDays.count`) and
/// campaigns remembered (the oldest entries go first; a campaign removed from the config
/// otherwise stays for ever).
pub const MAX_SHOWS_KEPT: usize = 50;
pub const MAX_CAMPAIGNS_KEPT: usize = 100;

/// A validated campaign config: the campaigns that passed validation, in config order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Campaigns {
    pub list: Vec<Campaign>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    pub id: String,
    /// Higher wins; ties go to the campaign listed first.
    pub priority: f64,
    pub trigger: Trigger,
    pub eligibility: Eligibility,
    pub offer: Offer,
    pub caps: Caps,
    /// Share of visitors held out, in [0, 1].
    pub holdout: f64,
    pub start: Option<Millis>,
    /// Exclusive: the campaign no longer runs at `end`.
    pub end: Option<Millis>,
    pub attribution_window: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    ExitIntent {
        /// The pointer must leave at y ≤ this many px.
        sensitivity: f64,
        min_on_page: Millis,
        /// Mobile: an upward scroll at ≥ this many px/s.
        scroll_speed: f64,
        /// Mobile: the tab hidden and then shown again.
        tab_return: bool,
        /// Mobile: no interaction for this long; `None` disables it.
        inactivity: Option<Millis>,
    },
    AbandonmentRisk {
        min_probability: f64,
        min_cart_value: f64,
    },
    CartIdle {
        idle: Millis,
        page_types: Vec<String>,
    },
    SpendThreshold {
        threshold: f64,
        /// Fires when the cart is below the threshold by at most this much.
        within: f64,
    },
    BrowsingInterest {
        min_views: u32,
        category: Option<String>,
        product_id: Option<String>,
    },
    ReturningCart,
}

impl Trigger {
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::ExitIntent { .. } => "exit_intent",
            Trigger::AbandonmentRisk { .. } => "abandonment_risk",
            Trigger::CartIdle { .. } => "cart_idle",
            Trigger::SpendThreshold { .. } => "spend_threshold",
            Trigger::BrowsingInterest { .. } => "browsing_interest",
            Trigger::ReturningCart => "returning_cart",
        }
    }
}

/// Who may see a campaign. Each list allows any of its values; an empty list allows all; all
/// rules must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Eligibility {
    /// Lifecycle segment names (`returning`, `cart_abandoner`, `active`…): any one present.
    pub segments: Vec<String>,
    pub page_types: Vec<String>,
    /// Path patterns where `*` matches any run of characters (`/products/*`).
    pub paths: Vec<String>,
    pub devices: Vec<String>,
    pub utm_source: Vec<String>,
    pub utm_medium: Vec<String>,
    pub utm_campaign: Vec<String>,
    /// `Some(true)`: returning visitors only; `Some(false)`: new visitors only.
    pub returning: Option<bool>,
    pub min_cart_value: Option<f64>,
    pub max_cart_value: Option<f64>,
    pub consent: Vec<Consent>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferKind {
    Percent,
    Amount,
    FreeShipping,
    Message,
}

impl OfferKind {
    pub fn name(self) -> &'static str {
        match self {
            OfferKind::Percent => "percent",
            OfferKind::Amount => "amount",
            OfferKind::FreeShipping => "free_shipping",
            OfferKind::Message => "message",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Code {
    None,
    /// One code for everyone.
    Shared(String),
    /// A single-use code the shell fetches from the merchant's URL before showing the prompt;
    /// when it fails or takes longer than the timeout, the prompt is not shown.
    Unique {
        url: String,
        timeout_ms: u32,
    },
}

impl Code {
    /// The code everyone gets, if it is one.
    pub fn shared(&self) -> Option<&str> {
        match self {
            Code::Shared(code) => Some(code),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub kind: OfferKind,
    /// Percent off (0-100], amount off, or the shipping cost a free-shipping offer absorbs.
    pub value: f64,
    pub code: Code,
    pub title: String,
    pub message: String,
    /// The call-to-action button's label: the default UI shows the button only with one, and
    /// its click is `Prompt Clicked`.
    pub cta: Option<String>,
    /// The minimum net cart value: an offer that would take the cart below it is not shown.
    pub margin_floor: Option<f64>,
}

impl Offer {
    /// What the offer takes off a cart of `cart_value`.
    pub fn discount(&self, cart_value: f64) -> f64 {
        match self.kind {
            OfferKind::Percent => cart_value * self.value / 100.0,
            OfferKind::Amount => self.value.min(cart_value),
            OfferKind::FreeShipping => self.value,
            OfferKind::Message => 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Caps {
    pub per_session: u32,
    /// At most `count` shows in any `days`-day window.
    pub per_days: Option<(u32, f64)>,
    pub cooldown_after_dismiss: Millis,
}

/// What prompted an evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cue {
    /// An event was accepted.
    Event,
    /// The pointer left the window through the top edge at this y, in px.
    PointerLeftTop { y: f64 },
    /// An upward scroll at this speed, in px/s.
    ScrolledUp { speed: f64 },
    /// The tab was hidden and then shown again.
    TabReturned,
    /// A timer the shell set from [`Evaluation::wake`] went off.
    Tick,
}

impl Cue {
    /// The shell's name for a cue (`event`, `exit`, `scroll`, `return`, `tick`), with its
    /// number: the pointer's y for `exit`, the scroll speed for `scroll`.
    pub fn parse(name: &str, n: f64) -> Option<Cue> {
        Some(match name {
            "event" => Cue::Event,
            "exit" => Cue::PointerLeftTop { y: n },
            "scroll" => Cue::ScrolledUp { speed: n },
            "return" => Cue::TabReturned,
            "tick" => Cue::Tick,
            _ => return None,
        })
    }
}

/// Every fact a decision needs, borrowed from the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct Situation<'a> {
    pub now: Millis,
    pub session_id: &'a str,
    pub anonymous_id: &'a str,
    /// The shop's page type (`home`, `product`, `category`, `cart`, `checkout`…).
    pub page_type: &'a str,
    pub path: &'a str,
    /// `desktop`, `tablet` or `mobile`.
    pub device: &'a str,
    pub utm_source: &'a str,
    pub utm_medium: &'a str,
    pub utm_campaign: &'a str,
    pub returning: bool,
    pub consent: Consent,
    /// The visitor's lifecycle segment names.
    pub segments: &'a [&'a str],
    pub cart_value: f64,
    pub currency: &'a str,
    pub cart_items: u32,
    pub intent: f64,
    /// `None` when there is no abandonment score (no model, or no cart).
    pub abandonment: Option<f64>,
    /// Views this session, per category and per product id.
    pub category_views: &'a [(&'a str, u32)],
    pub product_views: &'a [(&'a str, u32)],
    /// Whether anything was added to the cart this session.
    pub added_to_cart: bool,
    /// When the current page was shown.
    pub page_shown_at: Millis,
    pub last_cart_change: Option<Millis>,
    pub last_interaction: Millis,
    /// Whether the visitor's previous session ended with a non-empty cart.
    pub last_session_left_cart: bool,
}

impl Default for Situation<'_> {
    fn default() -> Self {
        Situation {
            now: 0.0,
            session_id: "",
            anonymous_id: "",
            page_type: "",
            path: "",
            device: "desktop",
            utm_source: "",
            utm_medium: "",
            utm_campaign: "",
            returning: false,
            consent: Consent::Granted,
            segments: &[],
            cart_value: 0.0,
            currency: "",
            cart_items: 0,
            intent: 0.0,
            abandonment: None,
            category_views: &[],
            product_views: &[],
            added_to_cart: false,
            page_shown_at: 0.0,
            last_cart_change: None,
            last_interaction: 0.0,
            last_session_left_cart: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    Treatment,
    Holdout,
}

impl Arm {
    pub fn name(self) -> &'static str {
        match self {
            Arm::Treatment => "treatment",
            Arm::Holdout => "holdout",
        }
    }
}

/// One decision to prompt (or, in the holdout arm, to record that a prompt would have shown),
/// with why.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub campaign_id: String,
    pub arm: Arm,
    pub trigger: &'static str,
    /// The rule that fired, with its numbers: `abandonment 0.71 ≥ 0.6 and cart 120 ≥ 50`.
    pub rule: String,
    pub intent: f64,
    pub abandonment: Option<f64>,
    pub cart_value: f64,
    pub currency: String,
    pub offer_kind: OfferKind,
    /// The configured value: percent, amount or shipping cost.
    pub offer_value: f64,
    /// What the offer takes off the cart (for spend thresholds: off a cart at the threshold).
    pub discount: f64,
    /// Spend thresholds: how much more the visitor must add.
    pub to_threshold: Option<f64>,
    pub code: Code,
    pub title: String,
    pub message: String,
    pub cta: Option<String>,
    /// Deterministic: from the visitor, session, campaign and time.
    pub prompt_id: String,
}

impl Decision {
    /// The track event this decision is sent as.
    pub fn event_name(&self) -> &'static str {
        match self.arm {
            Arm::Treatment => "Prompt Shown",
            Arm::Holdout => "Prompt Held Out",
        }
    }

    /// The event's properties. `coupon` is the shared code, else `unique_code` (a unique code is
    /// only known once the shell has fetched it).
    pub fn write_properties(&self, w: &mut ObjectWriter, unique_code: Option<&str>) {
        self.write_ids(w);
        w.string("rule", &self.rule).number("intent", round4(self.intent));
        match self.abandonment {
            Some(p) => w.number("abandonment", round4(p)),
            None => w.raw("abandonment", "null"),
        };
        w.money("cart_value", self.cart_value);
        if !self.currency.is_empty() {
            w.string("currency", &self.currency);
        }
        w.string("offer_kind", self.offer_kind.name())
            .number("offer_value", self.offer_value)
            .money("discount", self.discount);
        if let Some(more) = self.to_threshold {
            w.money("to_threshold", more);
        }
        self.write_coupon(w, unique_code);
    }

    /// Which prompt: what every prompt event's properties begin with.
    fn write_ids(&self, w: &mut ObjectWriter) {
        w.string("campaign_id", &self.campaign_id)
            .string("arm", self.arm.name())
            .string("trigger", self.trigger)
            .string("prompt_id", &self.prompt_id);
    }

    /// What the prompt UI needs, as JSON: `{"promptId", "campaignId", "title", "message",
    /// "cta"?, "offerKind", "discount", "toThreshold"?, "code"? | "codeUrl" and
    /// "codeTimeoutMs"?}`.
    pub fn prompt_json(&self) -> String {
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        w.string("promptId", &self.prompt_id)
            .string("campaignId", &self.campaign_id)
            .string("title", &self.title)
            .string("message", &self.message);
        if let Some(cta) = &self.cta {
            w.string("cta", cta);
        }
        w.string("offerKind", self.offer_kind.name())
            .money("discount", self.discount);
        if let Some(more) = self.to_threshold {
            w.money("toThreshold", more);
        }
        match &self.code {
            Code::None => {}
            Code::Shared(code) => {
                w.string("code", code);
            }
            Code::Unique { url, timeout_ms } => {
                w.string("codeUrl", url).uint("codeTimeoutMs", u64::from(*timeout_ms));
            }
        }
        w.finish();
        out
    }
}

/// Replaces each `{name}` of `values` that has a value in `template`, as plain text: the
/// prompt UI inserts text with `textContent`, so nothing is escaped here and nothing in a value
/// is read as a placeholder again. Braces that name nothing filled stay as written.
fn fill(template: &str, values: &[(&str, Option<&str>)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    // A byte search, not `str::find`: its char searcher pulls slicing panics into the wasm.
    while let Some(at) = rest.as_bytes().iter().position(|&b| b == b'{') {
        out.push_str(rest.get(..at).unwrap_or(""));
        rest = rest.get(at..).unwrap_or("");
        let (text, skip) = values
            .iter()
            .find_map(|(name, value)| Some((value.filter(|_| rest.starts_with(name))?, name.len())))
            .unwrap_or(("{", 1));
        out.push_str(text);
        rest = rest.get(skip..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// An amount as a shopper reads it: whole, or with two decimals (`15`, `12.50`).
fn amount_text(x: f64) -> String {
    let cents = num::round(x.max(0.0) * 100.0) as u64;
    let mut out = String::new();
    json::push_u64(&mut out, cents / 100);
    if !cents.is_multiple_of(100) {
        out.push('.');
        out.push(json::digit((cents / 10 % 10) as u8));
        out.push(json::digit((cents % 10) as u8));
    }
    out
}

impl Decision {
    /// Fills the title's and message's placeholders: `{product}` (the product on screen or
    /// viewed last, empty when none), `{discount}`, `{toThreshold}` (spend thresholds) and
    /// `{code}` (a shared code). A unique code is known only once the shell has fetched it, so
    /// its `{code}` is left for the shell to fill.
    pub fn fill_templates(&mut self, product: &str) {
        let discount = amount_text(self.discount);
        let to_threshold = self.to_threshold.map(amount_text);
        let values = [
            ("{product}", Some(product)),
            ("{discount}", Some(discount.as_str())),
            ("{toThreshold}", to_threshold.as_deref()),
            ("{code}", self.code.shared()),
        ];
        self.title = fill(&self.title, &values);
        self.message = fill(&self.message, &values);
        self.cta = self.cta.as_deref().map(|cta| fill(cta, &values));
    }

    /// The properties of what the visitor did with the prompt (`Prompt Clicked`, `Prompt
    /// Dismissed`, `Coupon Copied`): which prompt, and the code when one is known (`coupon`: a
    /// unique code the shell fetched).
    pub fn write_outcome_properties(&self, w: &mut ObjectWriter, coupon: Option<&str>) {
        self.write_ids(w);
        self.write_coupon(w, coupon);
    }

    /// `coupon`: the shared code, else the unique one the shell fetched, if any.
    fn write_coupon(&self, w: &mut ObjectWriter, coupon: Option<&str>) {
        if let Some(code) = self.code.shared().or(coupon) {
            w.string("coupon", code);
        }
    }
}

fn round4(x: f64) -> f64 {
    num::round(x * 10_000.0) / 10_000.0
}

/// What an evaluation gives the shell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub decision: Option<Decision>,
    /// When a time-based trigger becomes due: evaluate again then with [`Cue::Tick`].
    pub wake: Option<Millis>,
}

/// One campaign's history with this visitor.
#[derive(Clone, Debug, Default, PartialEq)]
struct History {
    campaign_id: String,
    session_shows: u32,
    /// Show times, oldest first, for the per-N-days cap.
    shows: Vec<Millis>,
    last_dismissed: Option<Millis>,
    /// When its prompt last could not be shown (see [`NOT_SHOWN_PAUSE`]).
    not_shown_at: Option<Millis>,
    /// The latest exposure: when, which arm, and the campaign's attribution window then.
    exposure: Option<(Millis, Arm, Millis)>,
}

/// The prompt the shell is showing, or about to show.
#[derive(Clone, Debug, PartialEq)]
struct OnScreen {
    campaign_id: String,
    attribution_window: Millis,
    /// Reported shown already: a repeated report must not count twice.
    shown: bool,
}

/// The decision state: what each campaign has shown this visitor, and the prompt on screen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prompts {
    session_id: String,
    histories: Vec<History>,
    on_screen: Option<OnScreen>,
}

enum Check {
    Fired,
    /// Not yet; due at this time if nothing changes.
    Due(Millis),
    No,
}

impl Prompts {
    /// Starts a session: per-session counts go back to zero. [`Prompts::decide`] calls this
    /// itself when the situation's session id changes. A prompt on screen stays there: the
    /// screen belongs to the page, and a session that timed out under an open prompt must
    /// neither let a second one in nor lose the first one's dismissal.
    pub fn start_session(&mut self, session_id: &str) {
        self.session_id = session_id.into();
        for history in &mut self.histories {
            history.session_shows = 0;
        }
    }

    /// The campaign whose prompt is on screen (or being prepared), if any.
    pub fn on_screen(&self) -> Option<&str> {
        self.on_screen.as_ref().map(|o| o.campaign_id.as_str())
    }

    /// Decides whether to prompt now: the highest-priority campaign that runs now, is eligible,
    /// has fired, is within its caps and whose offer keeps the margin floor. Nothing while a
    /// prompt is on screen (the global budget): evaluate again with [`Cue::Tick`] once it is
    /// closed.
    pub fn decide(&mut self, campaigns: &Campaigns, s: &Situation, cue: Cue) -> Evaluation {
        if s.session_id != self.session_id {
            self.start_session(s.session_id);
        }
        let mut evaluation = Evaluation::default();
        if self.on_screen.is_some() {
            return evaluation;
        }
        let mut best: Option<(&Campaign, f64)> = None;
        for campaign in &campaigns.list {
            if best.is_some_and(|(b, _)| b.priority >= campaign.priority)
                && !matches!(campaign.trigger, Trigger::CartIdle { .. } | Trigger::ExitIntent { .. })
            {
                continue; // cannot win, and has no timer to report
            }
            if campaign.start.is_some_and(|start| s.now < start) || campaign.end.is_some_and(|end| s.now >= end) {
                continue;
            }
            if !eligible(&campaign.eligibility, s) {
                continue;
            }
            match check(&campaign.trigger, s, cue) {
                Check::No => continue,
                Check::Due(at) => {
                    // a capped campaign would not show when due: no timer for it
                    if !self.capped(campaign, s.now) {
                        evaluation.wake = Some(evaluation.wake.map_or(at, |w: f64| w.min(at)));
                    }
                    continue;
                }
                Check::Fired => {}
            }
            if best.is_some_and(|(b, _)| b.priority >= campaign.priority) || self.capped(campaign, s.now) {
                continue;
            }
            let base = match campaign.trigger {
                Trigger::SpendThreshold { threshold, .. } => threshold.max(s.cart_value),
                _ => s.cart_value,
            };
            let discount = campaign.offer.discount(base);
            if campaign.offer.margin_floor.is_some_and(|floor| base - discount < floor) {
                continue;
            }
            best = Some((campaign, discount));
        }
        let Some((campaign, discount)) = best else {
            return evaluation;
        };
        let arm = if holdout_draw(s.anonymous_id, &campaign.id) < campaign.holdout {
            Arm::Holdout
        } else {
            Arm::Treatment
        };
        let to_threshold = match campaign.trigger {
            Trigger::SpendThreshold { threshold, .. } => Some(threshold - s.cart_value),
            _ => None,
        };
        let decision = Decision {
            campaign_id: campaign.id.clone(),
            arm,
            trigger: campaign.trigger.name(),
            rule: rule(&campaign.trigger, s, cue),
            intent: s.intent,
            abandonment: s.abandonment,
            cart_value: s.cart_value,
            currency: s.currency.into(),
            offer_kind: campaign.offer.kind,
            offer_value: campaign.offer.value,
            discount,
            to_threshold,
            code: campaign.offer.code.clone(),
            title: campaign.offer.title.clone(),
            message: campaign.offer.message.clone(),
            cta: campaign.offer.cta.clone(),
            prompt_id: prompt_id(s, &campaign.id),
        };
        match arm {
            // Counted now as a show, so caps treat both arms the same.
            Arm::Holdout => self.count_show(&campaign.id, s.now, Arm::Holdout, campaign.attribution_window),
            Arm::Treatment => {
                self.on_screen = Some(OnScreen {
                    campaign_id: campaign.id.clone(),
                    attribution_window: campaign.attribution_window,
                    shown: false,
                });
            }
        }
        evaluation.decision = Some(decision);
        evaluation
    }

    fn capped(&self, campaign: &Campaign, now: Millis) -> bool {
        let Some(history) = self.histories.iter().find(|h| h.campaign_id == campaign.id) else {
            return false;
        };
        let caps = &campaign.caps;
        if history.session_shows >= caps.per_session {
            return true;
        }
        if let Some((count, days)) = caps.per_days {
            let since = now - days * DAY;
            if history.shows.iter().filter(|&&at| at > since).count() >= count as usize {
                return true;
            }
        }
        history
            .last_dismissed
            .is_some_and(|at| now < at + caps.cooldown_after_dismiss)
            || history.not_shown_at.is_some_and(|at| now < at + NOT_SHOWN_PAUSE)
    }

    fn history(&mut self, campaign_id: &str) -> &mut History {
        let index = match self.histories.iter().position(|h| h.campaign_id == campaign_id) {
            Some(index) => index,
            None => {
                if self.histories.len() >= MAX_CAMPAIGNS_KEPT {
                    self.histories.remove(0);
                }
                self.histories.push(History {
                    campaign_id: campaign_id.into(),
                    ..History::default()
                });
                self.histories.len() - 1
            }
        };
        &mut self.histories[index]
    }

    fn count_show(&mut self, campaign_id: &str, now: Millis, arm: Arm, window: Millis) {
        let history = self.history(campaign_id);
        history.session_shows = history.session_shows.saturating_add(1);
        history.shows.retain(|&at| at > now - LONGEST_CAP_WINDOW);
        if history.shows.len() >= MAX_SHOWS_KEPT {
            history.shows.remove(0);
        }
        history.shows.push(now);
        history.exposure = Some((now, arm, window));
    }

    /// Takes the prompt on screen if it is `campaign_id`'s; `None` otherwise (a late or
    /// mistaken report changes nothing).
    fn take_on_screen(&mut self, campaign_id: &str) -> Option<OnScreen> {
        if self.on_screen.as_ref().is_some_and(|o| o.campaign_id == campaign_id) {
            self.on_screen.take()
        } else {
            None
        }
    }

    /// The prompt of `campaign_id` is now on screen: it counts against the caps and its
    /// exposure starts attribution.
    pub fn record_shown(&mut self, campaign_id: &str, now: Millis) {
        if let Some(on_screen) = &mut self.on_screen
            && on_screen.campaign_id == campaign_id
            && !on_screen.shown
        {
            on_screen.shown = true;
            let window = on_screen.attribution_window;
            self.count_show(campaign_id, now, Arm::Treatment, window);
        }
    }

    /// The prompt could not be shown (its unique code did not arrive in time): it frees the
    /// budget and counts for nothing against the caps, and pauses the campaign for
    /// [`NOT_SHOWN_PAUSE`].
    pub fn record_not_shown(&mut self, campaign_id: &str, now: Millis) {
        if self.take_on_screen(campaign_id).is_some() {
            self.history(campaign_id).not_shown_at = Some(now);
        }
    }

    /// The visitor closed the prompt: the budget is free and the cool-down starts.
    pub fn record_dismissed(&mut self, campaign_id: &str, now: Millis) {
        if self.take_on_screen(campaign_id).is_some() {
            self.history(campaign_id).last_dismissed = Some(now);
        }
    }

    /// The page removed the prompt without the visitor closing it: the budget is free, and
    /// nothing else is recorded (no dismissal, so no cool-down).
    pub fn record_closed(&mut self, campaign_id: &str) {
        self.take_on_screen(campaign_id);
    }

    /// The visitor acted on the prompt, which closes it. (Copying its code is not a click: the
    /// prompt stays open.)
    pub fn record_clicked(&mut self, campaign_id: &str) {
        self.take_on_screen(campaign_id);
    }

    /// The campaign and arm an order at `now` is attributed to: the latest exposure within its
    /// campaign's attribution window.
    pub fn attribution(&self, now: Millis) -> Option<(&str, Arm)> {
        let mut latest: Option<(&str, Arm, Millis)> = None;
        for history in &self.histories {
            if let Some((at, arm, window)) = history.exposure
                && at <= now
                && now - at <= window
                && latest.is_none_or(|(_, _, best)| at > best)
            {
                latest = Some((&history.campaign_id, arm, at));
            }
        }
        latest.map(|(id, arm, _)| (id, arm))
    }

    /// The state to persist, compactly: `{"s": session id, "c": [[campaign id, shows this
    /// session, dismissed at, exposed at, exposure arm (1: holdout), attribution window, show
    /// times…]], "n": [[campaign id, last not shown at]]}`, times in whole ms, 0 for never;
    /// `"n"` only once a prompt could not be shown (a member of its own, so that states stored
    /// before it existed read the same). The prompt on screen is page
    /// state and is not kept.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"s\":");
        write_string(&mut out, &self.session_id);
        out.push_str(",\"c\":[");
        for (i, h) in self.histories.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            write_string(&mut out, &h.campaign_id);
            let (exposed_at, arm, window) = h.exposure.unwrap_or((0.0, Arm::Treatment, 0.0));
            let fixed = [
                f64::from(h.session_shows),
                h.last_dismissed.unwrap_or(0.0),
                exposed_at,
                f64::from(u8::from(arm == Arm::Holdout)),
                window,
            ];
            for &x in fixed.iter().chain(&h.shows) {
                out.push(',');
                push_ms(&mut out, x);
            }
            out.push(']');
        }
        out.push(']');
        // `,"n":[` before the first pause, `]` after the last
        let mut paused = false;
        for h in &self.histories {
            if let Some(at) = h.not_shown_at {
                out.push_str(if paused { ",[" } else { ",\"n\":[[" });
                paused = true;
                write_string(&mut out, &h.campaign_id);
                out.push(',');
                push_ms(&mut out, at);
                out.push(']');
            }
        }
        if paused {
            out.push(']');
        }
        out.push('}');
        out
    }

    /// Reads what [`Prompts::to_json`] wrote. Anything unreadable gives the empty state: a
    /// damaged entry must not break the page, and forgetting caps is the safe failure.
    pub fn from_json(text: &str) -> Prompts {
        json::parse(text).map_or_else(|_| Prompts::default(), |value| Prompts::read(&value))
    }

    /// Reads the state [`Prompts::to_json`] wrote, already parsed (as part of a larger state).
    pub fn read(value: &Value) -> Prompts {
        read_state(value).unwrap_or_default()
    }

    /// Forgets the visitor's history (consent withdrawn, a logout). The prompt on screen stays
    /// known: it is still there, and a second one must not open over it.
    pub fn forget(&mut self) {
        self.session_id.clear();
        self.histories.clear();
    }
}

fn push_ms(out: &mut String, at: Millis) {
    json::push_u64(out, if at.is_finite() && at > 0.0 { at as u64 } else { 0 });
}

fn read_state(value: &Value) -> Option<Prompts> {
    let mut prompts = Prompts {
        session_id: value.get("s")?.as_str()?.into(),
        ..Prompts::default()
    };
    for entry in value.get("c")?.as_array()?.iter().take(MAX_CAMPAIGNS_KEPT) {
        let (id, numbers) = entry.as_array()?.split_first()?;
        // Every number is checked, the show times beyond the kept ones too; one loop, without
        // collecting into an `Option<Vec>` first, keeps the wasm smaller.
        let skipped = numbers.len().saturating_sub(MAX_SHOWS_KEPT);
        let mut fixed = [0.0; 5];
        let mut shows = Vec::new();
        for (i, n) in numbers.iter().enumerate() {
            let x = n.as_f64().filter(|t| t.is_finite() && *t >= 0.0)?;
            match fixed.get_mut(i) {
                Some(slot) => *slot = x,
                None if i >= skipped => shows.push(x),
                None => {}
            }
        }
        if numbers.len() < 5 {
            return None;
        }
        let [session_shows, dismissed_at, exposed_at, arm, window] = fixed;
        let ever = |at: f64| (at > 0.0).then_some(at);
        prompts.histories.push(History {
            campaign_id: id.as_str()?.into(),
            session_shows: session_shows.min(1e6) as u32,
            shows,
            last_dismissed: ever(dismissed_at),
            not_shown_at: None,
            exposure: match arm {
                0.0 => ever(exposed_at).map(|at| (at, Arm::Treatment, window)),
                1.0 => ever(exposed_at).map(|at| (at, Arm::Holdout, window)),
                _ => return None,
            },
        });
    }
    // Pauses after a prompt not shown: an entry that is not [known campaign id, time] is
    // skipped (a lost pause only lets the campaign be tried again).
    let paused = value.get("n").and_then(Value::as_array).unwrap_or(&[]);
    for entry in paused {
        let Some([id, at]) = entry.as_array() else {
            continue;
        };
        let (Some(id), Some(at)) = (id.as_str(), at.as_f64()) else {
            continue;
        };
        if let Some(history) = prompts.histories.iter_mut().find(|h| h.campaign_id == id)
            && at.is_finite()
            && at > 0.0
        {
            history.not_shown_at = Some(at);
        }
    }
    Some(prompts)
}

/// FNV-1a 64 of the bytes, then a finaliser (murmur3's fmix64): FNV alone leaves ids that
/// differ only in their last characters poorly spread in the top bits the draw uses.
fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0x1f).wrapping_mul(0x0100_0000_01b3); // a separator: ("ab","c") ≠ ("a","bc")
        }
        for &byte in part.as_bytes() {
            h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The visitor's draw for a campaign, uniform in [0, 1) and the same in every session: the
/// visitor is held out when it is below the campaign's holdout share.
pub fn holdout_draw(anonymous_id: &str, campaign_id: &str) -> f64 {
    (hash(&[anonymous_id, campaign_id]) >> 11) as f64 / (1u64 << 53) as f64
}

fn prompt_id(s: &Situation, campaign_id: &str) -> String {
    let mut now = String::new();
    push_ms(&mut now, s.now);
    let h = hash(&[s.anonymous_id, s.session_id, campaign_id, &now]);
    let mut out = String::from("pr-");
    for shift in (0..16).rev() {
        out.push(json::digit((h >> (shift * 4)) as u8 & 15));
    }
    out
}

fn allows(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|allowed| allowed == value)
}

fn eligible(e: &Eligibility, s: &Situation) -> bool {
    allows(&e.page_types, s.page_type)
        && allows(&e.devices, s.device)
        && allows(&e.utm_source, s.utm_source)
        && allows(&e.utm_medium, s.utm_medium)
        && allows(&e.utm_campaign, s.utm_campaign)
        && (e.paths.is_empty() || e.paths.iter().any(|p| path_matches(p.as_bytes(), s.path.as_bytes())))
        && (e.segments.is_empty() || e.segments.iter().any(|wanted| s.segments.contains(&wanted.as_str())))
        && e.returning.is_none_or(|returning| returning == s.returning)
        && e.min_cart_value.is_none_or(|min| s.cart_value >= min)
        && e.max_cart_value.is_none_or(|max| s.cart_value <= max)
        && (e.consent.is_empty() || e.consent.contains(&s.consent))
}

/// Whether `path` matches `pattern`, where `*` matches any run of characters (slashes too).
/// Greedy with one backtrack point: linear for the patterns shops write.
fn path_matches(pattern: &[u8], path: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = path.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&want) if want == c => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Exit intent's mobile signals count on phones and tablets; an unknown device class gets
/// only the pointer signal, which a touch screen never sends.
fn is_mobile(s: &Situation) -> bool {
    matches!(s.device, "mobile" | "tablet")
}

/// Whether the visitor has been idle on a page type the trigger watches, with a cart: the time
/// idleness began.
fn cart_idle_since(page_types: &[String], s: &Situation) -> Option<Millis> {
    (s.cart_items > 0 && allows(page_types, s.page_type))
        .then(|| s.last_cart_change.unwrap_or(s.last_interaction).max(s.last_interaction))
}

/// The views behind a browsing-interest trigger: of the product, of the category, or the most
/// of any one category or product.
fn interest_views(category: &Option<String>, product_id: &Option<String>, s: &Situation) -> u32 {
    let views_of = |list: &[(&str, u32)], name: &str| list.iter().find(|(k, _)| *k == name).map_or(0, |(_, n)| *n);
    match (product_id, category) {
        (Some(product), _) => views_of(s.product_views, product),
        (None, Some(category)) => views_of(s.category_views, category),
        // two plain loops: a chained iterator's fold costs more wasm
        (None, None) => {
            let most = |list: &[(&str, u32)]| list.iter().fold(0, |most, (_, n)| most.max(*n));
            most(s.category_views).max(most(s.product_views))
        }
    }
}

fn check(trigger: &Trigger, s: &Situation, cue: Cue) -> Check {
    let fired = |yes: bool| if yes { Check::Fired } else { Check::No };
    match trigger {
        Trigger::ExitIntent {
            sensitivity,
            min_on_page,
            scroll_speed,
            tab_return,
            inactivity,
        } => {
            let settled = s.now - s.page_shown_at >= *min_on_page;
            match cue {
                Cue::PointerLeftTop { y } => fired(settled && y <= *sensitivity),
                Cue::ScrolledUp { speed } => fired(settled && is_mobile(s) && speed >= *scroll_speed),
                Cue::TabReturned => fired(settled && is_mobile(s) && *tab_return),
                Cue::Event | Cue::Tick => match inactivity {
                    Some(inactivity) if is_mobile(s) => {
                        let due = (s.last_interaction + inactivity).max(s.page_shown_at + min_on_page);
                        if s.now >= due { Check::Fired } else { Check::Due(due) }
                    }
                    _ => Check::No,
                },
            }
        }
        Trigger::AbandonmentRisk {
            min_probability,
            min_cart_value,
        } => fired(s.abandonment.is_some_and(|p| p >= *min_probability) && s.cart_value >= *min_cart_value),
        Trigger::CartIdle { idle, page_types } => match cart_idle_since(page_types, s) {
            Some(since) if s.now >= since + idle => Check::Fired,
            Some(since) => Check::Due(since + idle),
            None => Check::No,
        },
        Trigger::SpendThreshold { threshold, within } => {
            fired(s.cart_items > 0 && s.cart_value < *threshold && s.cart_value >= threshold - within)
        }
        Trigger::BrowsingInterest {
            min_views,
            category,
            product_id,
        } => fired(!s.added_to_cart && interest_views(category, product_id, s) >= *min_views),
        Trigger::ReturningCart => fired(s.returning && s.last_session_left_cart),
    }
}

/// Appends `x` rounded to hundredths, without a float formatter.
pub(super) fn push_number(out: &mut String, x: f64) {
    match json::Number::from_f64(num::round(x * 100.0) / 100.0) {
        Some(n) => out.push_str(n.as_str()),
        None => out.push('?'),
    }
}

/// Why a fired trigger fired, with its numbers. Only called for the winning campaign. Each
/// rule is a template whose `#`s take the numbers in order, then fixed tail pieces: one
/// formatting loop instead of one per rule keeps the wasm small.
fn rule(trigger: &Trigger, s: &Situation, cue: Cue) -> String {
    let on_page = (s.now - s.page_shown_at) / SECOND;
    let mut tail = ["", ""];
    let (template, numbers): (&str, [f64; 4]) = match trigger {
        Trigger::ExitIntent {
            sensitivity,
            scroll_speed,
            inactivity,
            ..
        } => match cue {
            Cue::PointerLeftTop { y } => ("pointer left at y # ≤ # after # s", [y, *sensitivity, on_page, 0.0]),
            Cue::ScrolledUp { speed } => (
                "scrolled up at # ≥ # px/s after # s",
                [speed, *scroll_speed, on_page, 0.0],
            ),
            Cue::TabReturned => ("returned to the tab after # s", [on_page; 4]),
            Cue::Event | Cue::Tick => (
                "inactive # s ≥ #",
                [
                    (s.now - s.last_interaction) / SECOND,
                    inactivity.unwrap_or(0.0) / SECOND,
                    0.0,
                    0.0,
                ],
            ),
        },
        Trigger::AbandonmentRisk {
            min_probability,
            min_cart_value,
        } => (
            "abandonment # ≥ # and cart # ≥ #",
            [
                s.abandonment.unwrap_or(0.0),
                *min_probability,
                s.cart_value,
                *min_cart_value,
            ],
        ),
        Trigger::CartIdle { idle, page_types } => {
            let since = cart_idle_since(page_types, s).unwrap_or(s.now);
            tail[0] = s.page_type;
            (
                "cart idle # s ≥ # on ",
                [(s.now - since) / SECOND, idle / SECOND, 0.0, 0.0],
            )
        }
        Trigger::SpendThreshold { threshold, within } => (
            "cart # is # below # (within #)",
            [s.cart_value, threshold - s.cart_value, *threshold, *within],
        ),
        Trigger::BrowsingInterest {
            min_views,
            category,
            product_id,
        } => {
            let views = f64::from(interest_views(category, product_id, s));
            let template = match (product_id, category) {
                (Some(product), _) => {
                    tail[0] = product;
                    "# views ≥ # of product "
                }
                (None, Some(category)) => {
                    tail[0] = category;
                    "# views ≥ # of category "
                }
                (None, None) => "# views ≥ # of one category or product",
            };
            tail[1] = ", nothing added to cart";
            (template, [views, f64::from(*min_views), 0.0, 0.0])
        }
        Trigger::ReturningCart => ("returning visitor whose last session left a cart", [0.0; 4]),
    };
    let mut out = String::new();
    let mut rest = template;
    let mut numbers = numbers.iter();
    while let Some(at) = rest.as_bytes().iter().position(|&b| b == b'#') {
        out.push_str(rest.get(..at).unwrap_or(""));
        push_number(&mut out, numbers.next().copied().unwrap_or(0.0));
        rest = rest.get(at + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out.push_str(tail[0]);
    out.push_str(tail[1]);
    out
}
