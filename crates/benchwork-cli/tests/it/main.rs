//! The one integration-test binary: every test starts the real application
//! (see `helpers::spawn_app`) and, through `both_engines!`, runs on SQLite
//! and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::field_reassign_with_default
)]

mod flow;
mod helpers;

mod admin;
mod api;
mod audit;
mod auth;
mod browser;
mod calculated;
mod catalogue;
mod cli;
mod concurrency;
mod cumulative;
mod delta_rules;
mod docs;
mod incidents;
mod jobs;
mod patients;
mod qc_charts;
mod reports;
mod requests;
mod results;
mod roles;
mod storage;
mod turnaround;
mod verification;
// Issue 4: internal quality control.
mod qc;
mod qc_lots;
mod qc_setup;
// Issue 6 item 1: alert (critical) limits.
mod alert_limits;
// Issue 6: critical-result communication.
mod critical;
