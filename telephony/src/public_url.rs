//! Our public base URL (`PUBLIC_URL`), as Twilio sees it: the URLs we hand Twilio for
//! webhooks and media streams, exactly as Twilio will sign its requests to them.

/// `PUBLIC_URL`, e.g. `https://voice.example.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

impl PublicUrl {
    pub fn new(base: url::Url) -> Self {
        Self(base)
    }

    pub fn base(&self) -> &url::Url {
        &self.0
    }

    /// The public URL of `path_and_query`.
    pub fn http(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.0.as_str().trim_end_matches('/'))
    }

    /// The WebSocket URL of `path_and_query` on our public host: `ws://` when the base is
    /// `http://`, else `wss://`.
    pub fn ws(&self, path_and_query: &str) -> String {
        let scheme = if self.0.scheme() == "http" {
            "ws"
        } else {
            "wss"
        };
        let host = self.0.host_str().unwrap_or("localhost");
        match self.0.port() {
            Some(port) => format!("{scheme}://{host}:{port}{path_and_query}"),
            None => format!("{scheme}://{host}{path_and_query}"),
        }
    }

    /// `…/twilio/media`: where Twilio opens a call's media stream.
    pub fn media_stream(&self) -> String {
        self.ws(MEDIA_STREAM_PATH)
    }
}

/// The path of the media stream WebSocket.
pub const MEDIA_STREAM_PATH: &str = "/twilio/media";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_scheme_and_port() {
        let local = PublicUrl::new(url::Url::parse("http://127.0.0.1:8080/").unwrap());
        assert_eq!(
            local.http("/twilio/voice"),
            "http://127.0.0.1:8080/twilio/voice"
        );
        assert_eq!(local.media_stream(), "ws://127.0.0.1:8080/twilio/media");
        let public = PublicUrl::new(url::Url::parse("https://voice.example.com").unwrap());
        assert_eq!(public.ws("/x?a=1"), "wss://voice.example.com/x?a=1");
    }
}
