//! The command line of `switchboard sim`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use sim::{FaultConfig, RestFailure};

use super::{DEFAULT_SIM_BIND, DEMO_NUMBER};

/// Where `call` and `load` find the simulator unless told otherwise.
const DEFAULT_SIM_URL: &str = "http://127.0.0.1:8089";
/// Who calls, unless told otherwise.
const DEFAULT_CALLER: &str = "+14155550123";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the simulator listens.
    #[arg(long, env = "SIM_BIND", default_value = DEFAULT_SIM_BIND)]
    pub bind: SocketAddr,
    /// A number the simulated account owns; calls to it go to PUBLIC_URL/twilio/voice.
    #[arg(long = "number", default_value = DEMO_NUMBER)]
    pub numbers: Vec<String>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Faults the simulator injects, as Twilio produces them in production.
#[derive(Debug, Clone, Args)]
pub struct FaultArgs {
    /// Fraction of REST requests that fail: 429, 500 or a timeout, in equal parts.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// How long a timed-out REST request is held (it still takes effect, as at Twilio).
    #[arg(long, default_value_t = 20_000)]
    pub timeout_hold_ms: u64,
    /// Delay before every webhook.
    #[arg(long, default_value_t = 0)]
    pub webhook_delay_ms: u64,
    /// Cut every media stream after this long.
    #[arg(long)]
    pub drop_stream_after_ms: Option<u64>,
    /// Seed of the fault RNG (same seed, same faults).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl FaultArgs {
    pub fn config(&self) -> FaultConfig {
        FaultConfig {
            seed: self.seed,
            rest_failure_rate: self.fail_rate.clamp(0.0, 1.0),
            rest_failure_kinds: vec![
                RestFailure::TooManyRequests,
                RestFailure::ServerError,
                RestFailure::Timeout,
            ],
            timeout_hold_ms: self.timeout_hold_ms,
            webhook_delay_ms: self.webhook_delay_ms,
            drop_stream_after_ms: self.drop_stream_after_ms,
            ..FaultConfig::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The simulator's URL.
    #[arg(long, env = "SIM_URL", default_value = DEFAULT_SIM_URL)]
    pub sim: String,
    /// The number to call (one of the simulated account's numbers).
    #[arg(long, default_value = DEMO_NUMBER)]
    pub to: String,
    /// The caller's number.
    #[arg(long, default_value = DEFAULT_CALLER)]
    pub from: String,
    /// Something the caller says, after the agent has finished talking (repeatable).
    #[arg(long)]
    pub say: Vec<String>,
    /// Keys the caller presses after speaking.
    #[arg(long)]
    pub digits: Option<String>,
    /// After the last line, stay on the line this many seconds before hanging up (to be
    /// transferred, or put on hold).
    #[arg(long, default_value_t = 0)]
    pub stay_secs: u32,
    /// Save what the caller heard as a WAV file.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Give up waiting for the call to end after this many seconds.
    #[arg(long, default_value_t = 180)]
    pub timeout_secs: u64,
    /// The product's API, to print what the agent said as text after the call (the caller only
    /// hears audio). `switchboard dev` listens here by default.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// An API key of the called number's tenant; default: the demo key `switchboard dev` keeps
    /// in `.data/demo-api-key`.
    #[arg(long, env = "SWITCHBOARD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// The simulator's URL.
    #[arg(long, env = "SIM_URL", default_value = DEFAULT_SIM_URL)]
    pub sim: String,
    /// The product's API (`switchboard dev` listens here by default).
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// An API key with `campaigns:write`; default: the demo key `switchboard dev` keeps in
    /// `.data/demo-api-key`.
    #[arg(long, env = "SWITCHBOARD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Recipients of each kind (books Tuesday at ten, asks not to be called, declines, busy,
    /// no answer, answering machine).
    #[arg(long, default_value_t = 2)]
    pub each: usize,
    /// Calls at once.
    #[arg(long, default_value_t = 3)]
    pub concurrency: u32,
    /// Give up waiting for the campaign after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The simulator's URL.
    #[arg(long, env = "SIM_URL", default_value = DEFAULT_SIM_URL)]
    pub sim: String,
    #[arg(long, default_value = DEMO_NUMBER)]
    pub to: String,
    /// How many calls in all.
    #[arg(long, default_value_t = 20)]
    pub calls: usize,
    /// How many at once.
    #[arg(long, default_value_t = 5)]
    pub concurrency: usize,
    /// How long each caller stays on the line, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// What each caller says, 500 ms after answering. Repeat it for more turns: each further
    /// line is said once the agent has talked and gone quiet (`wait_quiet`).
    #[arg(long, default_value = "Hi, I would like to book a cleaning next week.")]
    pub say: Vec<String>,
    /// Also report the CPU time and memory (RSS) of this process (e.g. `switchboard dev`)
    /// during the run.
    #[arg(long)]
    pub product_pid: Option<u32>,
    /// Spread the first calls' starts evenly over this many seconds (0: all at once, every
    /// caller's first words in the same instant — the worst case for the speech-to-text).
    #[arg(long, default_value_t = 0.0)]
    pub ramp_secs: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn load_args_keep_the_default_line_and_repeat_say() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            load: LoadArgs,
        }
        let default = Cli::parse_from(["load"]).load;
        assert_eq!(
            default.say,
            ["Hi, I would like to book a cleaning next week."]
        );
        assert_eq!(default.to, DEMO_NUMBER);
        let two = Cli::parse_from(["load", "--say", "one", "--say", "two"]).load;
        assert_eq!(two.say, ["one", "two"]);
    }

    #[test]
    fn fault_args_make_the_fault_config() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            faults: FaultArgs,
        }
        let config = Cli::parse_from(["serve", "--fail-rate", "2.5", "--seed", "7"])
            .faults
            .config();
        assert_eq!(config.rest_failure_rate, 1.0, "clamped");
        assert_eq!(config.seed, 7);
        assert_eq!(config.rest_failure_kinds.len(), 3);
        assert_eq!(config.drop_stream_after_ms, None);
    }
}
