//! Audio already synthesized, spoken again without synthesizing it again.
//!
//! A greeting is the same words for every call of an agent, and a receptionist says the same
//! short lines many times a day. [`CachedTts`] wraps a provider: a text (and voice) it has
//! synthesized to the end is kept, and the next request for it streams the kept audio at once.
//! With flite that is CPU not spent while calls start together; with a cloud service, a request
//! and its latency not made. What is kept is bounded ([`CACHE_ENTRIES`] texts of at most
//! [`MAX_CACHED_BYTES`] each, least recently used first out), and a synthesis that broke off or
//! was cancelled (the caller barged in) is not kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::{TtsError, TtsProvider, TtsStream};

/// Texts kept per provider.
pub const CACHE_ENTRIES: usize = 64;
/// Longest audio kept: 30 s of μ-law 8 kHz.
pub const MAX_CACHED_BYTES: usize = 30 * 8000;
/// Chunks a kept text is replayed in: 100 ms, as providers stream.
const REPLAY_CHUNK: usize = 800;

type Key = (Option<String>, String);
/// Kept audio, most recently used first.
type Kept = Mutex<VecDeque<(Key, Arc<Vec<u8>>)>>;

/// See the module documentation.
pub struct CachedTts {
    inner: Arc<dyn TtsProvider>,
    kept: Arc<Kept>,
}

impl CachedTts {
    pub fn new(inner: Arc<dyn TtsProvider>) -> Self {
        Self {
            inner,
            kept: Arc::default(),
        }
    }

    fn lookup(&self, key: &Key) -> Option<Arc<Vec<u8>>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let at = kept.iter().position(|(k, _)| k == key)?;
        let entry = kept.remove(at)?;
        let audio = Arc::clone(&entry.1);
        kept.push_front(entry);
        Some(audio)
    }
}

fn keep(kept: &Kept, key: Key, audio: Vec<u8>) {
    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
    kept.retain(|(k, _)| *k != key);
    kept.push_front((key, Arc::new(audio)));
    kept.truncate(CACHE_ENTRIES);
}

#[async_trait::async_trait]
impl TtsProvider for CachedTts {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<TtsStream, TtsError> {
        let key = (voice.map(str::to_owned), text.to_owned());
        if let Some(audio) = self.lookup(&key) {
            let chunks = audio.len().div_ceil(REPLAY_CHUNK).max(1);
            let (tx, stream) = TtsStream::channel(chunks);
            for chunk in audio.chunks(REPLAY_CHUNK) {
                // The channel holds every chunk: this never waits or fails.
                let _ = tx.try_send(Ok(chunk.to_vec()));
            }
            return Ok(stream);
        }
        let mut upstream = self.inner.synthesize(text, voice).await?;
        let (tx, stream) = TtsStream::channel(16);
        let kept = Arc::clone(&self.kept);
        tokio::spawn(async move {
            let mut audio = Vec::new();
            loop {
                let chunk = tokio::select! {
                    chunk = upstream.next() => chunk,
                    // The listener went away (cancelled): dropping `upstream` cancels the
                    // synthesis, and what it made so far is not kept.
                    () = tx.closed() => return,
                };
                let Some(chunk) = chunk else { break };
                let failed = chunk.is_err();
                if let Ok(bytes) = &chunk
                    && audio.len() <= MAX_CACHED_BYTES
                {
                    audio.extend_from_slice(bytes);
                }
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
            if !audio.is_empty() && audio.len() <= MAX_CACHED_BYTES {
                keep(&kept, key, audio);
            }
        });
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Says every text as its bytes, in chunks of 3, then ends, fails, or hangs on (a long
    /// synthesis) until cancelled; counts its syntheses.
    struct Counting {
        calls: AtomicUsize,
        ending: Ending,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Ending {
        Done,
        Fail,
        Hang,
    }

    #[async_trait::async_trait]
    impl TtsProvider for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }

        async fn synthesize(
            &self,
            text: &str,
            _voice: Option<&str>,
        ) -> Result<TtsStream, TtsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let (tx, stream) = TtsStream::channel(64);
            for chunk in text.as_bytes().chunks(3) {
                tx.send(Ok(chunk.to_vec())).await.unwrap();
            }
            match self.ending {
                Ending::Done => {}
                Ending::Fail => tx
                    .send(Err(TtsError::Transport("cut".into())))
                    .await
                    .unwrap(),
                Ending::Hang => {
                    tokio::spawn(async move { tx.closed().await });
                }
            }
            Ok(stream)
        }
    }

    fn counting(ending: Ending) -> Arc<Counting> {
        Arc::new(Counting {
            calls: AtomicUsize::new(0),
            ending,
        })
    }

    async fn say(tts: &CachedTts, text: &str, voice: Option<&str>) -> Result<Vec<u8>, TtsError> {
        tts.synthesize(text, voice).await?.collect().await
    }

    /// The forwarding task keeps the audio after the listener has read the end.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_text_said_again_is_not_synthesized_again() {
        let inner = counting(Ending::Done);
        let tts = CachedTts::new(inner.clone());
        assert_eq!(
            say(&tts, "Hello there", None).await.unwrap(),
            b"Hello there"
        );
        settle().await;
        assert_eq!(
            say(&tts, "Hello there", None).await.unwrap(),
            b"Hello there"
        );
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        say(&tts, "Hello there", Some("slt")).await.unwrap();
        settle().await;
        assert_eq!(
            inner.calls.load(Ordering::SeqCst),
            2,
            "another voice is another text"
        );
    }

    #[tokio::test]
    async fn a_broken_or_cancelled_synthesis_is_not_kept() {
        let inner = counting(Ending::Fail);
        let tts = CachedTts::new(inner.clone());
        assert!(say(&tts, "Hello", None).await.is_err());
        settle().await;
        assert!(say(&tts, "Hello", None).await.is_err());
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);

        let inner = counting(Ending::Hang);
        let tts = CachedTts::new(inner.clone());
        let mut stream = tts.synthesize("a longer line to cut", None).await.unwrap();
        stream.next().await.unwrap().unwrap();
        drop(stream);
        settle().await;
        let mut again = tts.synthesize("a longer line to cut", None).await.unwrap();
        again.next().await.unwrap().unwrap();
        assert_eq!(
            inner.calls.load(Ordering::SeqCst),
            2,
            "half a synthesis is not kept"
        );
    }

    #[tokio::test]
    async fn the_least_recently_used_text_goes_first() {
        let inner = counting(Ending::Done);
        let tts = CachedTts::new(inner.clone());
        for i in 0..=CACHE_ENTRIES {
            say(&tts, &format!("line {i}"), None).await.unwrap();
            settle().await;
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), CACHE_ENTRIES + 1);
        say(&tts, &format!("line {CACHE_ENTRIES}"), None)
            .await
            .unwrap();
        assert_eq!(
            inner.calls.load(Ordering::SeqCst),
            CACHE_ENTRIES + 1,
            "kept"
        );
        say(&tts, "line 0", None).await.unwrap();
        assert_eq!(
            inner.calls.load(Ordering::SeqCst),
            CACHE_ENTRIES + 2,
            "pushed out"
        );
    }
}
