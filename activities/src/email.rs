//! Email over SMTP (lettre): the transport built from `SMTP_URL`, and one message per taken
//! message with a Message-ID that is the same on every attempt.
//!
//! What "exactly once" means here, honestly: an attempt is recorded `sending` before the SMTP
//! transaction and `delivered` with the server's reply after it. A transaction the server
//! refused (a 4xx/5xx before it accepted DATA) delivered nothing, so the retry sends again. A
//! crash after the server's 250 to DATA and before we record it cannot be told apart from a
//! refusal: the retry sends again, and the stable `Message-ID: <message-{id}@switchboard>`
//! is what lets mail servers and clients de-duplicate the second copy.

use domain::Secret;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use uuid::Uuid;

/// Where email goes out: `SMTP_URL` (`smtp://host:2525` plaintext, `smtp://…?tls=required`
/// for STARTTLS, `smtps://user:pass@host:465`) and `SMTP_FROM`.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub url: Secret<String>,
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("SMTP_URL is not a valid SMTP URL: {0}")]
    Url(String),
    #[error("SMTP_FROM is not a valid mailbox")]
    From,
    #[error("the recipient's email address is not valid")]
    To,
    #[error("cannot build the email: {0}")]
    Build(String),
    /// The server refused with a 5xx: sending again will not help.
    #[error("the SMTP server refused the message permanently ({0})")]
    Permanent(String),
    /// A 4xx, a network failure or a timeout: another attempt may succeed.
    #[error("the SMTP transaction failed ({0})")]
    Transient(String),
}

impl EmailError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// The SMTP transport and sender of message emails.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender").finish_non_exhaustive()
    }
}

/// What one email says.
#[derive(Debug, Clone)]
pub struct MessageEmail {
    pub message_id: Uuid,
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// `<message-{id}@switchboard>`: the same on every attempt.
pub fn email_message_id(message_id: Uuid) -> String {
    format!("<message-{message_id}@switchboard>")
}

impl EmailSender {
    pub fn new(config: &SmtpConfig) -> Result<Self, EmailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose())
            .map_err(|e| EmailError::Url(e.to_string()))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from = config.from.parse().map_err(|_| EmailError::From)?;
        Ok(Self { transport, from })
    }

    /// One SMTP transaction; the server's reply on success ("250 queued as …").
    pub async fn send(&self, email: &MessageEmail) -> Result<String, EmailError> {
        let to: Mailbox = email.to.parse().map_err(|_| EmailError::To)?;
        let message = Message::builder()
            .message_id(Some(email_message_id(email.message_id)))
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone())
            .map_err(|e| EmailError::Build(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => Err(EmailError::Permanent(short(&e))),
            Err(e) => Err(EmailError::Transient(short(&e))),
        }
    }
}

/// lettre's error without the server's text (which may echo addresses): its kind and code.
fn short(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("SMTP {code}"),
        None if e.is_timeout() => "timeout".to_owned(),
        None => "connection".to_owned(),
    }
}
