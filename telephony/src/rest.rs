//! The Twilio REST client (calls, SMS, buying and releasing numbers). One concrete client pointed at a configurable base URL: production
//! uses `https://api.twilio.com`, the simulator and test fakes serve the same paths locally.

use domain::Secret;
use serde::Deserialize;
use std::time::Duration;

/// How we authenticate to Twilio: the account's auth token, or an API key + secret.
#[derive(Clone, Debug)]
pub enum TwilioAuth {
    AuthToken(Secret<String>),
    ApiKey { sid: String, secret: Secret<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error body (`code`, `message`, `more_info`).
    #[error("Twilio error {code} (HTTP {status}): {message}")]
    Api {
        status: u16,
        code: u32,
        message: String,
        more_info: Option<String>,
    },
    #[error("could not reach Twilio: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected Twilio response: {0}")]
    Decode(String),
}

impl TwilioError {
    /// Worth retrying: rate limiting, Twilio-side failures, network trouble.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status == 429 || *status >= 500,
            Self::Transport(_) => true,
            Self::Decode(_) => false,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

/// A call resource as Twilio returns it (the fields we use).
#[derive(Debug, Clone, Deserialize)]
pub struct CallResource {
    pub sid: String,
    pub status: String,
    pub to: Option<String>,
    pub from: Option<String>,
    pub direction: Option<String>,
}

/// A message resource as Twilio returns it (the fields we use).
#[derive(Debug, Clone, Deserialize)]
pub struct MessageResource {
    pub sid: String,
    pub status: String,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessagePage {
    messages: Vec<MessageResource>,
}

/// A number Twilio offers for sale (`AvailablePhoneNumbers/{Country}/Local.json`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct AvailableNumber {
    pub phone_number: String,
    pub friendly_name: String,
    #[serde(default)]
    pub locality: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub iso_country: Option<String>,
    /// `{"voice": true, "SMS": true, "MMS": true, "fax": false}` (Twilio's own casing).
    #[serde(default)]
    pub capabilities: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct AvailablePage {
    available_phone_numbers: Vec<AvailableNumber>,
}

/// A number the account owns (`IncomingPhoneNumbers/{Sid}.json`), the fields we use.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct IncomingNumber {
    /// `PN…`
    pub sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    #[serde(default)]
    pub voice_url: Option<String>,
    #[serde(default)]
    pub status_callback: Option<String>,
    #[serde(default)]
    pub capabilities: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct IncomingPage {
    incoming_phone_numbers: Vec<IncomingNumber>,
}

/// What to search for among the numbers for sale.
#[derive(Debug, Clone, Default)]
pub struct NumberSearch {
    /// ISO country (`US`).
    pub country: String,
    pub area_code: Option<String>,
    /// Digits (or Twilio's `*` wildcards) the number must contain.
    pub contains: Option<String>,
    pub limit: u32,
}

/// A number to buy, and where its calls go.
#[derive(Debug, Clone)]
pub struct BuyNumber {
    pub phone_number: String,
    pub voice_url: String,
    pub status_callback: String,
    pub friendly_name: Option<String>,
}

/// What the new call does once answered.
#[derive(Debug, Clone)]
pub enum CallInstructions {
    Url(String),
    Twiml(String),
}

#[derive(Debug, Clone)]
pub struct CreateCall {
    pub to: String,
    pub from: String,
    pub instructions: CallInstructions,
    pub status_callback: Option<String>,
    pub status_callback_events: Vec<String>,
    pub machine_detection: Option<String>,
    pub timeout_secs: Option<u32>,
}

#[derive(Debug, Clone)]
pub enum UpdateCall {
    Twiml(String),
    Url(String),
    /// End the call (`Status=completed`).
    Hangup,
    /// Cancel a call that has not been answered (`Status=canceled`).
    Cancel,
}

#[derive(Clone, Debug)]
pub struct TwilioClient {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth: TwilioAuth,
}

impl TwilioClient {
    pub fn new(base_url: &str, account_sid: &str, auth: TwilioAuth) -> Result<Self, TwilioError> {
        Self::with_timeout(base_url, account_sid, auth, Duration::from_secs(15))
    }

    /// Like [`TwilioClient::new`], with the whole-request timeout given.
    pub fn with_timeout(
        base_url: &str,
        account_sid: &str,
        auth: TwilioAuth,
        timeout: Duration,
    ) -> Result<Self, TwilioError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(TwilioError::Transport)?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth,
        })
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    fn url(&self, resource: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.base_url, self.account_sid
        )
    }

    pub async fn create_call(&self, call: &CreateCall) -> Result<CallResource, TwilioError> {
        let mut form = vec![("To", call.to.clone()), ("From", call.from.clone())];
        match &call.instructions {
            CallInstructions::Url(url) => form.push(("Url", url.clone())),
            CallInstructions::Twiml(twiml) => form.push(("Twiml", twiml.clone())),
        }
        if let Some(cb) = &call.status_callback {
            form.push(("StatusCallback", cb.clone()));
        }
        for event in &call.status_callback_events {
            form.push(("StatusCallbackEvent", event.clone()));
        }
        if let Some(amd) = &call.machine_detection {
            form.push(("MachineDetection", amd.clone()));
        }
        if let Some(timeout) = call.timeout_secs {
            form.push(("Timeout", timeout.to_string()));
        }
        self.post("Calls.json", &form).await
    }

    pub async fn update_call(
        &self,
        call_sid: &str,
        update: &UpdateCall,
    ) -> Result<CallResource, TwilioError> {
        let form = match update {
            UpdateCall::Twiml(twiml) => vec![("Twiml", twiml.clone())],
            UpdateCall::Url(url) => vec![("Url", url.clone())],
            UpdateCall::Hangup => vec![("Status", "completed".to_owned())],
            UpdateCall::Cancel => vec![("Status", "canceled".to_owned())],
        };
        self.post(&format!("Calls/{call_sid}.json"), &form).await
    }

    pub async fn fetch_call(&self, call_sid: &str) -> Result<CallResource, TwilioError> {
        let request = self.http.get(self.url(&format!("Calls/{call_sid}.json")));
        self.send(request).await
    }

    pub async fn send_sms(
        &self,
        to: &str,
        from: &str,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<MessageResource, TwilioError> {
        let mut form = vec![
            ("To", to.to_owned()),
            ("From", from.to_owned()),
            ("Body", body.to_owned()),
        ];
        if let Some(cb) = status_callback {
            form.push(("StatusCallback", cb.to_owned()));
        }
        self.post("Messages.json", &form).await
    }

    /// The most recent messages (one page, up to 50) sent `from` → `to`.
    pub async fn list_messages(
        &self,
        to: &str,
        from: &str,
    ) -> Result<Vec<MessageResource>, TwilioError> {
        let request = self.http.get(self.url("Messages.json")).query(&[
            ("To", to),
            ("From", from),
            ("PageSize", "50"),
        ]);
        let page: MessagePage = self.send(request).await?;
        Ok(page.messages)
    }

    /// Numbers for sale in `search.country`, local ones, up to `search.limit`.
    pub async fn available_numbers(
        &self,
        search: &NumberSearch,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        let mut query = vec![("PageSize", search.limit.to_string())];
        if let Some(area) = &search.area_code {
            query.push(("AreaCode", area.clone()));
        }
        if let Some(contains) = &search.contains {
            query.push(("Contains", contains.clone()));
        }
        let resource = format!("AvailablePhoneNumbers/{}/Local.json", search.country);
        let request = self.http.get(self.url(&resource)).query(&query);
        let page: AvailablePage = self.send(request).await?;
        Ok(page.available_phone_numbers)
    }

    /// The account's numbers equal to `phone_number` (E.164): none, or the one it owns.
    pub async fn incoming_numbers(
        &self,
        phone_number: &str,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        let request = self
            .http
            .get(self.url("IncomingPhoneNumbers.json"))
            .query(&[("PhoneNumber", phone_number)]);
        let page: IncomingPage = self.send(request).await?;
        // Twilio matches `PhoneNumber` as a pattern; only the exact number is ours to adopt.
        Ok(page
            .incoming_phone_numbers
            .into_iter()
            .filter(|n| n.phone_number == phone_number)
            .collect())
    }

    /// Buys `number.phone_number`; its calls post to `voice_url`, its status to
    /// `status_callback`.
    pub async fn buy_number(&self, number: &BuyNumber) -> Result<IncomingNumber, TwilioError> {
        let mut form = vec![
            ("PhoneNumber", number.phone_number.clone()),
            ("VoiceUrl", number.voice_url.clone()),
            ("VoiceMethod", "POST".to_owned()),
            ("StatusCallback", number.status_callback.clone()),
            ("StatusCallbackMethod", "POST".to_owned()),
        ];
        if let Some(name) = &number.friendly_name {
            form.push(("FriendlyName", name.clone()));
        }
        self.post("IncomingPhoneNumbers.json", &form).await
    }

    /// The number `number.phone_number` as the account owns it: adopted when the account has
    /// it already (a purchase whose answer was lost, retried), bought otherwise. So a retried
    /// purchase never buys twice.
    pub async fn own_or_buy(&self, number: &BuyNumber) -> Result<IncomingNumber, TwilioError> {
        if let Some(owned) = self
            .incoming_numbers(&number.phone_number)
            .await?
            .into_iter()
            .next()
        {
            tracing::info!(
                number = %domain::phone::mask_phone(&number.phone_number),
                "adopting a number the account already owns"
            );
            return Ok(owned);
        }
        self.buy_number(number).await
    }

    /// Releases the number `sid` (`PN…`): the account no longer owns it.
    pub async fn release_number(&self, sid: &str) -> Result<(), TwilioError> {
        let request = self
            .http
            .delete(self.url(&format!("IncomingPhoneNumbers/{sid}.json")));
        self.send_empty(request).await
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        resource: &str,
        form: &[(&str, String)],
    ) -> Result<T, TwilioError> {
        let request = self.http.post(self.url(resource)).form(form);
        self.send(request).await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, TwilioError> {
        let bytes = self.send_raw(request).await?;
        serde_json::from_slice(&bytes).map_err(|e| TwilioError::Decode(e.to_string()))
    }

    /// For answers without a body (`204 No Content`).
    async fn send_empty(&self, request: reqwest::RequestBuilder) -> Result<(), TwilioError> {
        self.send_raw(request).await.map(drop)
    }

    /// The body of a successful answer, or Twilio's error.
    async fn send_raw(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, TwilioError> {
        let request = match &self.auth {
            TwilioAuth::AuthToken(token) => {
                request.basic_auth(&self.account_sid, Some(token.expose()))
            }
            TwilioAuth::ApiKey { sid, secret } => request.basic_auth(sid, Some(secret.expose())),
        };
        let response = request.send().await.map_err(TwilioError::Transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(TwilioError::Transport)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or(ErrorBody {
            code: None,
            message: None,
            more_info: None,
        });
        Err(TwilioError::Api {
            status: status.as_u16(),
            code: body.code.unwrap_or(0),
            message: body
                .message
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
            more_info: body.more_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_auth_token_or_key_secret() {
        let token = TwilioAuth::AuthToken("tok-123".into());
        let key = TwilioAuth::ApiKey {
            sid: "SK0123".into(),
            secret: "shh-456".into(),
        };
        let client = TwilioClient::new("http://127.0.0.1:1", "AC1", token.clone()).unwrap();
        for shown in [
            format!("{token:?}"),
            format!("{key:?}"),
            format!("{client:?}"),
        ] {
            assert!(
                !shown.contains("tok-123") && !shown.contains("shh-456"),
                "{shown}"
            );
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert!(format!("{key:?}").contains("SK0123"));
    }
}
