//! Conference mixing, one 20 ms tick at a time (160 μ-law samples at 8 kHz).
//!
//! Each tick, participants [`Mixer::push`] the frame they spoke and [`Mixer::mix`] returns what
//! each one hears: the saturating sum of every *other* participant who spoke, except those
//! who are muted or on hold. A participant on hold hears hold music instead (and is not heard).
//! A coach (Twilio's `coaching`/`callSidToCoach`) is heard only by the participant it coaches,
//! while it hears everybody. A participant who pushed nothing this tick is silent.

pub(crate) mod task;

pub(crate) use task::{ConfOut, MixCmd, spawn_mixer};

/// Samples per tick: 20 ms at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// Why a mixer call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixerError {
    #[error("no participant {0:?} in the conference")]
    UnknownParticipant(String),
    #[error("participant {0:?} is already in the conference")]
    DuplicateParticipant(String),
    #[error("a frame must be {FRAME_SAMPLES} μ-law bytes, got {0}")]
    BadFrameLength(usize),
}

#[derive(Debug, Clone)]
struct Participant {
    id: String,
    muted: bool,
    on_hold: bool,
    /// The participant this one coaches, if it is a coach.
    coaching: Option<String>,
    /// Decoded frame pushed this tick.
    frame: Option<Vec<i16>>,
}

/// A conference's audio mixer. Participants are kept in the order they joined.
#[derive(Debug, Clone, Default)]
pub struct Mixer {
    participants: Vec<Participant>,
    /// Custom hold music (μ-law, looped); `None` = the built-in chime.
    hold_music: Option<Vec<u8>>,
    /// Position in the hold music, in samples; advances on every tick.
    hold_pos: usize,
}

impl Mixer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a participant (unmuted, not on hold, not coaching).
    pub fn add(&mut self, id: &str) -> Result<(), MixerError> {
        if self.find(id).is_some() {
            return Err(MixerError::DuplicateParticipant(id.to_owned()));
        }
        self.participants.push(Participant {
            id: id.to_owned(),
            muted: false,
            on_hold: false,
            coaching: None,
            frame: None,
        });
        Ok(())
    }

    /// Removes a participant; its frame for this tick is dropped.
    pub fn remove(&mut self, id: &str) -> Result<(), MixerError> {
        let i = self.index(id)?;
        self.participants.remove(i);
        Ok(())
    }

    /// Ids of the participants, in joining order.
    pub fn participants(&self) -> Vec<&str> {
        self.participants.iter().map(|p| p.id.as_str()).collect()
    }

    pub fn set_muted(&mut self, id: &str, muted: bool) -> Result<(), MixerError> {
        let i = self.index(id)?;
        self.participants[i].muted = muted;
        Ok(())
    }

    pub fn set_on_hold(&mut self, id: &str, on_hold: bool) -> Result<(), MixerError> {
        let i = self.index(id)?;
        self.participants[i].on_hold = on_hold;
        Ok(())
    }

    /// Makes `id` a coach of `target` (heard only by `target`), or a normal participant with
    /// `None`. The target must be in the conference.
    pub fn set_coaching(&mut self, id: &str, target: Option<&str>) -> Result<(), MixerError> {
        if let Some(t) = target {
            self.index(t)?;
        }
        let i = self.index(id)?;
        self.participants[i].coaching = target.map(str::to_owned);
        Ok(())
    }

    /// Replaces the built-in hold music with a μ-law loop (empty restores the built-in one).
    pub fn set_hold_music(&mut self, mulaw_loop: Vec<u8>) {
        self.hold_music = Some(mulaw_loop).filter(|m| !m.is_empty());
        self.hold_pos = 0;
    }

    /// What `id` said during this tick: exactly [`FRAME_SAMPLES`] μ-law bytes. A second push in
    /// the same tick replaces the first.
    pub fn push(&mut self, id: &str, frame_mulaw: &[u8]) -> Result<(), MixerError> {
        if frame_mulaw.len() != FRAME_SAMPLES {
            return Err(MixerError::BadFrameLength(frame_mulaw.len()));
        }
        let i = self.index(id)?;
        let mut pcm = Vec::with_capacity(FRAME_SAMPLES);
        voice::mulaw::decode(frame_mulaw, &mut pcm);
        self.participants[i].frame = Some(pcm);
        Ok(())
    }

    /// Ends the tick: what each participant hears (160 μ-law bytes each, joining order).
    /// Pushed frames are consumed.
    pub fn mix(&mut self) -> Vec<(String, Vec<u8>)> {
        let hold = self.hold_frame();
        let mut out = Vec::with_capacity(self.participants.len());
        for listener in &self.participants {
            let pcm: Vec<i16> = if listener.on_hold {
                hold.clone()
            } else {
                let mut acc = [0i32; FRAME_SAMPLES];
                for speaker in &self.participants {
                    if !audible(speaker, listener) {
                        continue;
                    }
                    if let Some(frame) = &speaker.frame {
                        for (a, &s) in acc.iter_mut().zip(frame) {
                            *a += i32::from(s);
                        }
                    }
                }
                acc.iter()
                    .map(|&a| a.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
                    .collect()
            };
            let mut mulaw = Vec::with_capacity(FRAME_SAMPLES);
            voice::mulaw::encode(&pcm, &mut mulaw);
            out.push((listener.id.clone(), mulaw));
        }
        for p in &mut self.participants {
            p.frame = None;
        }
        out
    }

    fn hold_frame(&mut self) -> Vec<i16> {
        let start = self.hold_pos;
        self.hold_pos += FRAME_SAMPLES;
        match &self.hold_music {
            Some(music) => {
                let mut pcm = Vec::with_capacity(FRAME_SAMPLES);
                let bytes: Vec<u8> = (start..start + FRAME_SAMPLES)
                    .map(|i| music[i % music.len()])
                    .collect();
                voice::mulaw::decode(&bytes, &mut pcm);
                pcm
            }
            None => (start..start + FRAME_SAMPLES).map(chime_sample).collect(),
        }
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.participants.iter().position(|p| p.id == id)
    }

    fn index(&self, id: &str) -> Result<usize, MixerError> {
        self.find(id)
            .ok_or_else(|| MixerError::UnknownParticipant(id.to_owned()))
    }
}

/// Whether `listener` hears `speaker` this tick.
fn audible(speaker: &Participant, listener: &Participant) -> bool {
    if speaker.id == listener.id || speaker.muted || speaker.on_hold {
        return false;
    }
    match &speaker.coaching {
        Some(target) => *target == listener.id,
        None => true,
    }
}

/// The built-in hold music: a gentle four-note arpeggio, 400 ms per note, sample `i`.
fn chime_sample(i: usize) -> i16 {
    const NOTES: [f64; 4] = [523.25, 659.25, 783.99, 659.25];
    const NOTE_SAMPLES: usize = 3200;
    let note = NOTES[(i / NOTE_SAMPLES) % NOTES.len()];
    let within = (i % NOTE_SAMPLES) as f64 / NOTE_SAMPLES as f64;
    let env = (1.0 - within).powi(2); // plucked: decays over the note
    let t = i as f64 / 8000.0;
    (0.2 * env * f64::from(i16::MAX) * (2.0 * std::f64::consts::PI * note * t).sin()) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use voice::pcm::{goertzel_power, rms_dbfs};

    fn frame_of(pcm: &[i16]) -> Vec<u8> {
        let mut out = Vec::new();
        voice::mulaw::encode(pcm, &mut out);
        out
    }

    fn tone_frame(freq: f32, amplitude: f32) -> Vec<u8> {
        voice::mulaw::tone(freq, 20, amplitude)
    }

    fn heard(mix: &[(String, Vec<u8>)], id: &str) -> Vec<i16> {
        let bytes = &mix.iter().find(|(p, _)| p == id).unwrap().1;
        assert_eq!(bytes.len(), FRAME_SAMPLES);
        let mut pcm = Vec::new();
        voice::mulaw::decode(bytes, &mut pcm);
        pcm
    }

    fn power(pcm: &[i16], f: f32) -> f64 {
        goertzel_power(pcm, f, 8000)
    }

    fn conference(ids: &[&str]) -> Mixer {
        let mut m = Mixer::new();
        for id in ids {
            m.add(id).unwrap();
        }
        m
    }

    #[test]
    fn two_speakers_hear_each_other_not_themselves() {
        let mut m = conference(&["a", "b"]);
        m.push("a", &tone_frame(400.0, 0.3)).unwrap();
        m.push("b", &tone_frame(1000.0, 0.3)).unwrap();
        let mix = m.mix();
        assert_eq!(mix.len(), 2);
        let a = heard(&mix, "a");
        let b = heard(&mix, "b");
        assert!(power(&a, 1000.0) > 100.0 * power(&a, 400.0));
        assert!(power(&b, 400.0) > 100.0 * power(&b, 1000.0));
        // Frames are consumed: the next tick is silent.
        let mix = m.mix();
        assert!(heard(&mix, "a").iter().all(|&s| s == 0));
    }

    #[test]
    fn third_party_hears_the_sum() {
        let mut m = conference(&["a", "b", "c"]);
        m.push("a", &tone_frame(400.0, 0.2)).unwrap();
        m.push("b", &tone_frame(1000.0, 0.2)).unwrap();
        let c = heard(&m.mix(), "c");
        let (p400, p1000) = (power(&c, 400.0), power(&c, 1000.0));
        assert!(p400 > 0.5 * p1000 && p1000 > 0.5 * p400, "{p400} {p1000}");
    }

    #[test]
    fn muted_participants_are_not_heard_but_hear() {
        let mut m = conference(&["a", "b"]);
        m.set_muted("a", true).unwrap();
        m.push("a", &tone_frame(400.0, 0.3)).unwrap();
        m.push("b", &tone_frame(1000.0, 0.3)).unwrap();
        let mix = m.mix();
        assert!(heard(&mix, "b").iter().all(|&s| s == 0));
        assert!(rms_dbfs(&heard(&mix, "a")) > -20.0);
    }

    #[test]
    fn on_hold_hears_music_and_is_not_heard() {
        let mut m = conference(&["a", "b"]);
        m.set_on_hold("a", true).unwrap();
        m.push("a", &tone_frame(400.0, 0.3)).unwrap();
        m.push("b", &tone_frame(1000.0, 0.3)).unwrap();
        let mix = m.mix();
        assert!(heard(&mix, "b").iter().all(|&s| s == 0));
        let a = heard(&mix, "a");
        assert!(rms_dbfs(&a) > -30.0);
        assert!(power(&a, 1000.0) < power(&a, 523.25) / 10.0);
        // Custom hold music loops.
        m.set_hold_music(tone_frame(700.0, 0.3));
        let a = heard(&m.mix(), "a");
        assert!(power(&a, 700.0) > 100.0 * power(&a, 1000.0));
        m.set_on_hold("a", false).unwrap();
        m.push("b", &tone_frame(1000.0, 0.3)).unwrap();
        assert!(power(&heard(&m.mix(), "a"), 1000.0) > 0.0);
    }

    #[test]
    fn coach_is_heard_only_by_the_coached_participant() {
        let mut m = conference(&["customer", "agent", "coach"]);
        m.set_coaching("coach", Some("agent")).unwrap();
        m.push("coach", &tone_frame(700.0, 0.3)).unwrap();
        m.push("customer", &tone_frame(400.0, 0.3)).unwrap();
        m.push("agent", &tone_frame(1000.0, 0.3)).unwrap();
        let mix = m.mix();
        let agent = heard(&mix, "agent");
        let customer = heard(&mix, "customer");
        let coach = heard(&mix, "coach");
        assert!(power(&agent, 700.0) > 0.3 * power(&agent, 400.0));
        assert!(power(&customer, 700.0) < power(&customer, 1000.0) / 100.0);
        // The coach hears both others.
        assert!(power(&coach, 400.0) > 0.3 * power(&coach, 1000.0));
        assert!(power(&coach, 1000.0) > 0.3 * power(&coach, 400.0));
        assert_eq!(
            m.set_coaching("coach", Some("nobody")),
            Err(MixerError::UnknownParticipant("nobody".into()))
        );
    }

    #[test]
    fn loud_sum_saturates_instead_of_wrapping() {
        let mut m = conference(&["a", "b", "c"]);
        let loud = frame_of(&[30000i16; FRAME_SAMPLES]);
        m.push("a", &loud).unwrap();
        m.push("b", &loud).unwrap();
        let c = heard(&m.mix(), "c");
        // 30000 + 30000 clamps at full scale (μ-law's largest value), never wraps negative.
        assert!(c.iter().all(|&s| s > 30000), "{:?}", &c[..4]);
        let quiet_neg = frame_of(&[-30000i16; FRAME_SAMPLES]);
        m.push("a", &quiet_neg).unwrap();
        m.push("b", &quiet_neg).unwrap();
        assert!(heard(&m.mix(), "c").iter().all(|&s| s < -30000));
    }

    #[test]
    fn errors_and_membership() {
        let mut m = conference(&["a"]);
        assert_eq!(
            m.add("a"),
            Err(MixerError::DuplicateParticipant("a".into()))
        );
        assert_eq!(
            m.push("zz", &[0xFF; 160]),
            Err(MixerError::UnknownParticipant("zz".into()))
        );
        assert_eq!(
            m.push("a", &[0xFF; 80]),
            Err(MixerError::BadFrameLength(80))
        );
        m.add("b").unwrap();
        assert_eq!(m.participants(), ["a", "b"]);
        m.remove("a").unwrap();
        assert_eq!(m.participants(), ["b"]);
        assert_eq!(m.mix().len(), 1);
    }
}
