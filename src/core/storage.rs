//! What the tracker keeps in first-party storage, under which keys, and the operations the
//! shell performs on its behalf.
//!
//! Every pending event has its own key (`cartsense.q.<messageId>`), written when it is queued
//! and removed when it is acknowledged or dropped. Nothing has to be rewritten in bulk when
//! the page goes away, a crashed tab loses nothing, and a reload finds every event still owed.
//! Message ids start with the time they were made, so sorting keys sorts events by age.

use crate::core::prelude::*;

/// Every key the tracker writes starts with this; clearing storage removes exactly these.
pub const PREFIX: &str = "cartsense.";
pub const ANONYMOUS_ID: &str = "cartsense.aid";
pub const USER_ID: &str = "cartsense.uid";
/// The visitor history and the current session, together.
pub const VISITOR: &str = "cartsense.visitor";
/// The session intelligence's state (interests, cart, activity, its visitor history).
pub const INSIGHT: &str = "cartsense.insight";
pub const QUEUE_PREFIX: &str = "cartsense.q.";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageOp {
    Set(String, String),
    Remove(String),
    /// Remove every key that starts with [`PREFIX`].
    Clear,
}

pub fn queue_key(message_id: &str) -> String {
    let mut key = String::from(QUEUE_PREFIX);
    key.push_str(message_id);
    key
}
