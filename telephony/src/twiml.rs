//! A TwiML builder. Every attribute value and text node is XML-escaped.

use std::fmt::Write;

/// A TwiML `<Response>` under construction.
#[derive(Debug, Default, Clone)]
pub struct TwiML {
    body: String,
}

/// A `<Parameter name value/>` passed to a media stream as `customParameters`.
#[derive(Debug, Clone)]
pub struct StreamParameter {
    pub name: String,
    pub value: String,
}

/// How a call joins a conference.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConferenceOptions<'a> {
    /// What a participant hears until the conference starts (hold music).
    pub wait_url: Option<&'a str>,
    pub start_on_enter: bool,
    pub end_on_exit: bool,
    /// Where `start end join leave` events go.
    pub status_callback: Option<&'a str>,
}

pub fn escape_xml(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

impl TwiML {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn say(mut self, text: &str) -> Self {
        let _ = write!(self.body, "<Say>{}</Say>", escape_xml(text));
        self
    }

    pub fn pause(mut self, seconds: u32) -> Self {
        let _ = write!(self.body, "<Pause length=\"{seconds}\"/>");
        self
    }

    /// `<Redirect method="POST">url</Redirect>`: Twilio goes on with the TwiML at `url`.
    pub fn redirect(mut self, url: &str) -> Self {
        let _ = write!(
            self.body,
            "<Redirect method=\"POST\">{}</Redirect>",
            escape_xml(url)
        );
        self
    }

    pub fn hangup(mut self) -> Self {
        self.body.push_str("<Hangup/>");
        self
    }

    /// `<Connect><Stream url=…>` with custom parameters: a bidirectional media stream.
    pub fn connect_stream(
        mut self,
        url: &str,
        status_callback: Option<&str>,
        parameters: &[StreamParameter],
    ) -> Self {
        let _ = write!(self.body, "<Connect><Stream url=\"{}\"", escape_xml(url));
        if let Some(cb) = status_callback {
            let _ = write!(self.body, " statusCallback=\"{}\"", escape_xml(cb));
        }
        self.body.push('>');
        for p in parameters {
            let _ = write!(
                self.body,
                "<Parameter name=\"{}\" value=\"{}\"/>",
                escape_xml(&p.name),
                escape_xml(&p.value)
            );
        }
        self.body.push_str("</Stream></Connect>");
        self
    }

    /// `<Dial><Conference>` into the conference `name`.
    pub fn dial_conference(mut self, name: &str, options: &ConferenceOptions<'_>) -> Self {
        self.body.push_str("<Dial><Conference");
        if let Some(wait) = options.wait_url {
            let _ = write!(self.body, " waitUrl=\"{}\"", escape_xml(wait));
        }
        let _ = write!(
            self.body,
            " startConferenceOnEnter=\"{}\" endConferenceOnExit=\"{}\" beep=\"false\"",
            options.start_on_enter, options.end_on_exit
        );
        if let Some(cb) = options.status_callback {
            let _ = write!(
                self.body,
                " statusCallback=\"{}\" statusCallbackEvent=\"start end join leave\"",
                escape_xml(cb)
            );
        }
        let _ = write!(self.body, ">{}</Conference></Dial>", escape_xml(name));
        self
    }

    /// `<Gather>` one key or a few words around a spoken prompt, posting to `action` — also
    /// when nothing came (`actionOnEmptyResult`).
    pub fn gather_one_key(mut self, action: &str, prompt: &str, timeout_secs: u32) -> Self {
        let _ = write!(
            self.body,
            "<Gather input=\"dtmf speech\" numDigits=\"1\" timeout=\"{timeout_secs}\" \
             speechTimeout=\"auto\" actionOnEmptyResult=\"true\" action=\"{}\"><Say>{}</Say></Gather>",
            escape_xml(action),
            escape_xml(prompt)
        );
        self
    }

    /// `<Play loop=…>`: an audio file (`loop="0"` repeats until the call moves on).
    pub fn play(mut self, url: &str, repeat: u32) -> Self {
        let _ = write!(
            self.body,
            "<Play loop=\"{repeat}\">{}</Play>",
            escape_xml(url)
        );
        self
    }

    pub fn build(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{}</Response>",
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn say_and_hangup_escape_text() {
        let xml = TwiML::new().say("Tom & Jerry's <shop>").hangup().build();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Tom &amp; Jerry&apos;s &lt;shop&gt;</Say><Hangup/></Response>"
        );
    }

    #[test]
    fn connect_stream_carries_parameters() {
        let xml = TwiML::new()
            .connect_stream(
                "wss://example.com/twilio/media?a=1&b=2",
                None,
                &[StreamParameter {
                    name: "callSid".into(),
                    value: "CA\"x".into(),
                }],
            )
            .build();
        assert!(
            xml.contains("<Connect><Stream url=\"wss://example.com/twilio/media?a=1&amp;b=2\">")
        );
        assert!(xml.contains("<Parameter name=\"callSid\" value=\"CA&quot;x\"/>"));
        assert!(xml.ends_with("</Stream></Connect></Response>"));
    }
}
