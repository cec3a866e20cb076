//! [`OggOpusWriter`]: an Ogg/Opus stream (RFC 7845) written into memory, one 20 ms frame of
//! interleaved 8 kHz PCM at a time.
//!
//! Granule positions count 48 kHz samples whatever the input rate (RFC 7845 §4), starting at
//! the encoder's pre-skip; a player subtracts the pre-skip, so the last granule minus it is
//! the recording's length. The last packet is held back until the next one (or the end)
//! arrives, so it can be written with the end-of-stream flag.

use super::RecordingError;
use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use opus::{Application, Bitrate, Channels, Encoder};
use std::sync::Mutex;

/// The MIME type of the file.
pub const OGG_OPUS_CONTENT_TYPE: &str = "audio/ogg";
/// Caller left, agent right.
pub const RECORDING_CHANNELS: u8 = 2;
/// Input rate: Twilio's μ-law is 8 kHz, and Opus encodes 8 kHz input without resampling.
const INPUT_RATE: u32 = 8_000;
/// Samples per channel in one 20 ms frame at [`INPUT_RATE`].
pub(super) const FRAME_SAMPLES: usize = 160;
/// The same 20 ms at the 48 kHz that granule positions count in.
const FRAME_GRANULES: u64 = 960;
/// Telephone speech, both sides: about 120 kB a minute.
const BITRATE_BPS: i32 = 16_000;
/// A page every second of audio: a crash loses little, and a range request finds pages.
const PACKETS_PER_PAGE: u64 = 50;
/// The largest Opus packet (RFC 6716 §3.4).
const MAX_PACKET: usize = 1_275;
/// Any value works if it is unique among the file's logical streams; there is one.
const SERIAL: u32 = 0x5357_4244;

pub struct OggOpusWriter {
    /// libopus's encoder is `Send` but not `Sync`; the bridge's stream is shared across
    /// awaits, so it must be `Sync`. Never contended: one lock per 20 ms frame.
    encoder: Mutex<Encoder>,
    pages: PacketWriter<'static, Vec<u8>>,
    pre_skip: u16,
    packets: u64,
    /// The last encoded packet, not yet written: the end-of-stream flag goes on the last one.
    held: Option<Vec<u8>>,
    scratch: Box<[u8; MAX_PACKET]>,
}

impl OggOpusWriter {
    /// A stereo stream, headers written.
    pub fn new() -> Result<Self, RecordingError> {
        let mut encoder = Encoder::new(INPUT_RATE, Channels::Stereo, Application::Voip)?;
        encoder.set_bitrate(Bitrate::Bits(BITRATE_BPS))?;
        // The encoder's lookahead is in input samples; pre-skip is in 48 kHz samples.
        let lookahead = u16::try_from(encoder.get_lookahead()?).unwrap_or(0);
        let pre_skip = lookahead * (48_000 / INPUT_RATE) as u16;
        let mut pages = PacketWriter::new(Vec::with_capacity(64 * 1024));
        pages.write_packet(opus_head(pre_skip), SERIAL, PacketWriteEndInfo::EndPage, 0)?;
        pages.write_packet(opus_tags(), SERIAL, PacketWriteEndInfo::EndPage, 0)?;
        Ok(Self {
            encoder: Mutex::new(encoder),
            pages,
            pre_skip,
            packets: 0,
            held: None,
            scratch: Box::new([0; MAX_PACKET]),
        })
    }

    /// Encodes one 20 ms frame of interleaved stereo PCM (`2 × 160` samples).
    pub fn push_frame(&mut self, interleaved: &[i16]) -> Result<(), RecordingError> {
        let n = encoder(&mut self.encoder).encode(interleaved, &mut self.scratch[..])?;
        let packet = self.scratch[..n].to_vec();
        if let Some(previous) = self.held.replace(packet) {
            self.write(previous, false)?;
        }
        Ok(())
    }

    /// Milliseconds of audio encoded so far.
    pub fn duration_ms(&self) -> u64 {
        (self.packets + u64::from(self.held.is_some())) * 20
    }

    /// Ends the stream: the Ogg/Opus bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, RecordingError> {
        let last = match self.held.take() {
            Some(packet) => packet,
            None => {
                // A stream needs at least one audio packet to be playable: 20 ms of silence.
                let silence = [0i16; 2 * FRAME_SAMPLES];
                let n = encoder(&mut self.encoder).encode(&silence, &mut self.scratch[..])?;
                self.scratch[..n].to_vec()
            }
        };
        self.write(last, true)?;
        Ok(self.pages.into_inner())
    }

    fn write(&mut self, packet: Vec<u8>, last: bool) -> Result<(), RecordingError> {
        self.packets += 1;
        let granule = u64::from(self.pre_skip) + self.packets * FRAME_GRANULES;
        let end = if last {
            PacketWriteEndInfo::EndStream
        } else if self.packets.is_multiple_of(PACKETS_PER_PAGE) {
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        self.pages.write_packet(packet, SERIAL, end, granule)?;
        Ok(())
    }
}

/// The encoder, lock-free: `&mut` proves no one else holds it.
fn encoder(lock: &mut Mutex<Encoder>) -> &mut Encoder {
    lock.get_mut()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The identification header (RFC 7845 §5.1).
fn opus_head(pre_skip: u16) -> Vec<u8> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(RECORDING_CHANNELS);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&INPUT_RATE.to_le_bytes()); // the original rate, informational
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // mapping family 0: mono or stereo, no table
    head
}

/// The comment header (RFC 7845 §5.2): vendor string, no comments.
fn opus_tags() -> Vec<u8> {
    let vendor = b"switchboard";
    let mut tags = Vec::with_capacity(8 + 4 + vendor.len() + 4);
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    tags
}
