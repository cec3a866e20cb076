//! Route modules, one per surface.

pub mod calls;
pub mod health;
pub mod media;
pub mod messages;
pub mod twilio;
