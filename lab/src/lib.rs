//! cartsense-lab: the native lab of cartsense. It replays real recorded shop sessions through
//! the very core the browser runs, trains the purchase-intent and cart-abandonment model the
//! tracker ships with, and evaluates it against baselines.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the command line |
//! | [`adapters`] | data files → spec events, row validation, `--on-error` |
//! | [`replay`] | one Engine per visitor; sessions, labels, evaluation samples, the time split |
//! | [`learn`] | L2 logistic regression by IRLS, λ chosen on a validation part |
//! | [`boost`] | shallow trees boosted on the regression's logit, their count chosen likewise |
//! | [`metrics`] | ROC AUC, PR AUC, log loss, Brier, ECE, bootstrap intervals, the seeded RNG |
//! | [`train`] | `train-intent`: the two tasks' training sets and the model file |
//! | [`eval`] | `eval-intent`: baselines and the report |
//! | [`uci`] | `eval-uci`: the learner on the UCI Online Shoppers data |
//! | [`bench`] | `bench`: time per `track`, profile and storage sizes |
//! | [`run`] | each command end to end: files in, report out |
//! | [`recs`] | `build-recs` and `eval-recs`: the recommendations model and its evaluation |

pub mod adapters;
pub mod bench;
pub mod boost;
pub mod cli;
pub mod eval;
pub mod learn;
pub mod metrics;
pub mod recs;
pub mod replay;
pub mod run;
pub mod train;
pub mod uci;
