//! Serving an axum router on an ephemeral local port.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

/// A running server; stops accepting connections when dropped.
#[derive(Debug)]
pub(crate) struct LocalServer {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LocalServer {
    pub(crate) async fn start(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        // Providers send each event as it happens (no Nagle batching).
        use axum::serve::ListenerExt as _;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(error = %e, "fake server stopped");
            }
        });
        Self { addr, task }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
