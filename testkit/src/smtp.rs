//! A minimal real SMTP server on `127.0.0.1:0` (RFC 5321 subset: EHLO/HELO, MAIL FROM,
//! RCPT TO, DATA with dot-unstuffing, RSET, NOOP, QUIT), recording every message it accepts
//! with its envelope, headers and body — the stand-in for a mail relay.
//!
//! Faults, counted per DATA transaction: refuse the first `refuse_first` with `451` (before
//! the data is accepted: nothing delivered), and drop the connection after receiving the data
//! of the first `drop_after_data` without replying (the worst case: the sink has the message,
//! the client cannot know). Such messages are recorded with `acknowledged: false`.

use std::sync::{Arc, Mutex};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// What to break.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SmtpFaults {
    /// Answer `451` to the DATA command of the first N transactions.
    pub refuse_first: u32,
    /// Drop the connection after the data of the first N accepted transactions, unanswered.
    pub drop_after_data: u32,
}

/// A message the sink received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedEmail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// Header names as sent, values unfolded.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Whether the sink answered `250` (false: the connection was dropped instead).
    pub acknowledged: bool,
}

impl ReceivedEmail {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct SinkState {
    faults: SmtpFaults,
    transactions: u32,
    refused: u32,
    messages: Vec<ReceivedEmail>,
}

/// The running sink; stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<SinkState>>,
    task: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start(faults: SmtpFaults) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(SinkState {
            faults,
            ..SinkState::default()
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Self { addr, state, task }
    }

    /// `smtp://127.0.0.1:{port}` (plaintext), for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received, acknowledged or not, in order.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        self.state.lock().unwrap().messages.clone()
    }

    /// How many transactions were refused with 451.
    pub fn refused(&self) -> u32 {
        self.state.lock().unwrap().refused
    }
}

/// One transaction's envelope.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn serve(stream: TcpStream, state: Arc<Mutex<SinkState>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(b"220 smtp-sink ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut envelope = Envelope::default();
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-smtp-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 smtp-sink\r\n",
            "MAIL" => {
                envelope = Envelope {
                    from: Some(address(&command)),
                    to: Vec::new(),
                };
                b"250 2.1.0 Ok\r\n"
            }
            "RCPT" if envelope.from.is_some() => {
                envelope.to.push(address(&command));
                b"250 2.1.5 Ok\r\n"
            }
            "RCPT" => b"503 5.5.1 MAIL first\r\n",
            "DATA" if envelope.to.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                match data(
                    &mut lines,
                    &mut write,
                    &state,
                    std::mem::take(&mut envelope),
                )
                .await
                {
                    Some(reply) => reply,
                    None => return,
                }
            }
            "RSET" => {
                envelope = Envelope::default();
                b"250 2.0.0 Ok\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// The DATA exchange: `None` when the connection is to be dropped.
async fn data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    state: &Arc<Mutex<SinkState>>,
    envelope: Envelope,
) -> Option<&'static [u8]> {
    {
        let mut s = state.lock().unwrap();
        s.transactions += 1;
        if s.refused < s.faults.refuse_first {
            s.refused += 1;
            return Some(b"451 4.3.0 Try again later\r\n");
        }
    }
    write
        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        .await
        .ok()?;
    let mut raw = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let content = line.trim_end_matches(['\r', '\n']);
        if content == "." {
            break;
        }
        // Dot-unstuffing: a leading "." was doubled by the client.
        raw.push(
            content
                .strip_prefix('.')
                .filter(|_| content.starts_with(".."))
                .unwrap_or(content)
                .to_owned(),
        );
    }
    let (headers, body) = parse(&raw);
    let mut s = state.lock().unwrap();
    let drop = s.faults.drop_after_data > 0;
    if drop {
        s.faults.drop_after_data -= 1;
    }
    s.messages.push(ReceivedEmail {
        mail_from: envelope.from.unwrap_or_default(),
        rcpt_to: envelope.to,
        headers,
        body,
        acknowledged: !drop,
    });
    if drop {
        None
    } else {
        Some(b"250 2.0.0 Ok: queued\r\n")
    }
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

/// Headers (unfolded) up to the first empty line, then the body.
fn parse(lines: &[String]) -> (Vec<(String, String)>, String) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut rest = lines.iter();
    for line in rest.by_ref() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let body = rest.cloned().collect::<Vec<_>>().join("\n");
    (headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    fn client(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(&sink.url())
            .unwrap()
            .build()
    }

    fn email(body: &str) -> Message {
        Message::builder()
            .message_id(Some("<m-1@switchboard>".into()))
            .from("Switchboard <messages@example.com>".parse().unwrap())
            .to("dana@example.com".parse().unwrap())
            .subject("Message for Dana")
            .body(body.to_owned())
            .unwrap()
    }

    #[tokio::test]
    async fn a_message_sent_with_lettre_is_recorded_with_envelope_headers_and_unstuffed_body() {
        let sink = SmtpSink::start(SmtpFaults::default()).await;
        client(&sink)
            .send(email("first line\n.starts with a dot\nlast"))
            .await
            .unwrap();
        let received = sink.messages();
        assert_eq!(received.len(), 1);
        let m = &received[0];
        assert_eq!(m.mail_from, "messages@example.com");
        assert_eq!(m.rcpt_to, vec!["dana@example.com".to_owned()]);
        assert_eq!(m.header("message-id"), Some("<m-1@switchboard>"));
        assert_eq!(m.header("Subject"), Some("Message for Dana"));
        assert!(m.body.contains("\n.starts with a dot\n"), "{:?}", m.body);
        assert!(m.acknowledged);
    }

    #[tokio::test]
    async fn a_refused_transaction_is_a_transient_error_and_records_nothing() {
        let sink = SmtpSink::start(SmtpFaults {
            refuse_first: 1,
            drop_after_data: 0,
        })
        .await;
        let err = client(&sink).send(email("x")).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(sink.messages().is_empty());
        client(&sink).send(email("x")).await.unwrap();
        assert_eq!(sink.messages().len(), 1);
        assert_eq!(sink.refused(), 1);
    }

    #[tokio::test]
    async fn a_connection_dropped_after_data_fails_the_client_yet_the_sink_has_the_message() {
        let sink = SmtpSink::start(SmtpFaults {
            refuse_first: 0,
            drop_after_data: 1,
        })
        .await;
        let err = client(&sink).send(email("x")).await.unwrap_err();
        assert!(!err.is_permanent(), "{err:?}");
        let received = sink.messages();
        assert_eq!(received.len(), 1);
        assert!(!received[0].acknowledged);
    }
}
