//! G.711 μ-law: Twilio Media Streams carry 8 kHz mono μ-law, one byte per sample.
//!
//! Encoding follows ITU-T G.711 (bias 0x84, clip at 32635, bits inverted on the wire);
//! decoding goes through a 256-entry table built at compile time.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// One 16-bit linear PCM sample → one μ-law byte.
pub fn encode_sample(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample);
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    let biased = magnitude.min(CLIP) + BIAS;
    // `biased` is at least 0x84, so its highest set bit is bit 7 or above.
    let exponent = (31 - (biased as u32).leading_zeros()) as i32 - 7;
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

const fn decode_formula(byte: u8) -> i16 {
    let inverted = !byte;
    let exponent = ((inverted >> 4) & 0x07) as i32;
    let mantissa = (inverted & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    if inverted & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const DECODE_TABLE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = decode_formula(i as u8);
        i += 1;
    }
    table
};

/// One μ-law byte → one 16-bit linear PCM sample.
pub fn decode_sample(byte: u8) -> i16 {
    DECODE_TABLE[byte as usize]
}

/// Appends the PCM samples of a μ-law payload to `out`.
pub fn decode(payload: &[u8], out: &mut Vec<i16>) {
    out.extend(payload.iter().map(|&b| decode_sample(b)));
}

/// Appends the μ-law bytes of PCM `samples` to `out`.
pub fn encode(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| encode_sample(s)));
}

/// μ-law digital silence: the byte Twilio sends for a quiet line.
pub const SILENCE: u8 = 0xFF;

/// `ms` milliseconds of μ-law silence at 8 kHz.
pub fn silence(ms: u32) -> Vec<u8> {
    vec![SILENCE; (ms * 8) as usize]
}

/// `ms` milliseconds of a sine at `freq_hz`, 8 kHz μ-law, its peak at `amplitude` of full scale.
pub fn tone(freq_hz: f32, ms: u32, amplitude: f32) -> Vec<u8> {
    let pcm = crate::pcm::sine(freq_hz, 8000, ms, amplitude);
    let mut out = Vec::with_capacity(pcm.len());
    encode(&pcm, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_full_scale_match_g711() {
        assert_eq!(encode_sample(0), 0xFF);
        assert_eq!(decode_sample(0xFF), 0);
        assert_eq!(decode_sample(0x7F), 0, "negative zero");
        assert_eq!(encode_sample(i16::MAX), 0x80);
        assert_eq!(encode_sample(i16::MIN), 0x00);
        assert_eq!(decode_sample(0x80), 32124);
        assert_eq!(decode_sample(0x00), -32124);
    }

    #[test]
    fn every_code_survives_decode_then_encode() {
        for byte in 0..=255u8 {
            if byte == 0x7F {
                continue; // negative zero decodes to 0, which encodes as positive zero
            }
            assert_eq!(encode_sample(decode_sample(byte)), byte, "code {byte:#04x}");
        }
    }

    #[test]
    fn round_trip_error_stays_within_the_segment_step() {
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let back = i32::from(decode_sample(encode_sample(sample)));
            let clipped = i32::from(sample).clamp(-CLIP, CLIP);
            // The quantisation step doubles per segment; half a step of the top one is 512.
            let allowed = (clipped.abs() / 16).max(8);
            assert!((back - clipped).abs() <= allowed, "{sample} → {back}");
        }
    }

    #[test]
    fn frames_encode_and_decode_sample_for_sample() {
        let pcm: Vec<i16> = (0..160)
            .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
            .collect();
        let mut ulaw = Vec::new();
        encode(&pcm, &mut ulaw);
        assert_eq!(ulaw.len(), 160, "20 ms at 8 kHz is 160 bytes");
        let mut back = Vec::new();
        decode(&ulaw, &mut back);
        assert_eq!(back.len(), 160);
    }
}
