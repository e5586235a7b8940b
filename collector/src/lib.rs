//! cartsense-collector: the reference collector for cartsense. It receives Segment HTTP
//! Tracking API batches (`POST /v1/batch`), checks them with the same wire rules the tracker
//! is tested against (`cartsense::core::wire`), and stores them durably in SQLite.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the command line: flags, usage text, usage errors |
//! | [`store`] | SQLite: schema and migration, one transaction per batch, export |
//! | [`server`] | HTTP: router, handlers, CORS, write keys, static files, shutdown |
//!
//! The binary (`main.rs`) only dispatches: it maps outcomes to exit codes (0 success,
//! 1 runtime failure, 2 bad command line).

pub mod cli;
pub mod server;
pub mod store;
