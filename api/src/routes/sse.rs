//! Server-Sent Events read from the database: a follower yields the next event (waiting as it
//! needs) until it has nothing more to say; the stream sends them with keep-alives.

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::{convert::Infallible, future::Future};

/// What a stream follows: the next event, `None` when the stream should end.
pub trait Follow: Send + 'static {
    fn next(&mut self) -> impl Future<Output = Option<Event>> + Send;
}

/// The events of `follow` as an SSE response.
pub fn stream<F: Follow>(follow: F) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events =
        futures::stream::unfold(
            follow,
            |mut f| async move { f.next().await.map(|e| (Ok(e), f)) },
        );
    Sse::new(events).keep_alive(KeepAlive::default())
}
