//! The Twilio simulator — not built yet.
//!
//! It will serve Twilio's REST paths, send signed webhooks, interpret TwiML and run simulated
//! phones over Media Streams, seeing the product only over HTTP and WebSocket. Today the
//! integration tests use a small local fake of the REST API (`tests/…/helpers.rs`) and
//! `switchboard demo-call` posts signed webhooks by hand.
