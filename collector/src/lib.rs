//! cartsense-collector: the reference collector for cartsense. It receives Segment HTTP
//! Tracking API batches (`POST /v1/batch`), checks them with the same wire rules the tracker
//! is tested against (`cartsense::core::wire`), stores them durably in SQLite, and reports what
//! each prompt campaign added against its holdout.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the command line: flags, usage text, usage errors |
//! | [`store`] | SQLite: schema and migration, one transaction per batch, export |
//! | [`report`] | the campaign report: each prompt campaign's treatment against its holdout |
//! | [`server`] | HTTP: router, handlers, CORS, write keys, static files, shutdown |
//!
//! The binary (`main.rs`) only dispatches: it maps outcomes to exit codes (0 success,
//! 1 runtime failure, 2 bad command line).

pub mod cli;
pub mod report;
pub mod server;
pub mod store;
