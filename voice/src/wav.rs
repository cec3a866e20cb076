//! WAV files of 16-bit PCM (hound): read mono (stereo is downmixed), write mono.
//!
//! Used for fixtures, recordings and offline tests; not on the real-time path — except
//! [`parse_streamed_wav_header`] / [`parse_streamed_wav`], a lenient reader for WAV written
//! to a pipe (as `espeak-ng --stdout` does), whose chunk sizes are placeholders.

use std::io::Cursor;
use std::path::Path;

/// Why a WAV file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("WAV I/O or format error: {0}")]
    Hound(#[from] hound::Error),
    #[error(
        "unsupported WAV format: {channels} channel(s), {bits} bit {format}; \
         expected 16-bit integer PCM, mono or stereo"
    )]
    Unsupported {
        channels: u16,
        bits: u16,
        format: &'static str,
    },
    #[error("not a RIFF/WAVE stream")]
    NotWav,
}

/// Read a WAV file: `(sample_rate, mono samples)`. Stereo is averaged down to mono.
pub fn read_wav(path: impl AsRef<Path>) -> Result<(u32, Vec<i16>), WavError> {
    read_from(hound::WavReader::open(path)?)
}

/// [`read_wav`] from the bytes of a WAV file.
pub fn read_wav_bytes(bytes: &[u8]) -> Result<(u32, Vec<i16>), WavError> {
    read_from(hound::WavReader::new(Cursor::new(bytes))?)
}

/// Write mono 16-bit PCM to a WAV file (created or truncated).
pub fn write_wav(
    path: impl AsRef<Path>,
    sample_rate: u32,
    samples: &[i16],
) -> Result<(), WavError> {
    let mut writer = hound::WavWriter::create(path, mono_spec(sample_rate))?;
    write_samples(&mut writer, samples)?;
    writer.finalize()?;
    Ok(())
}

/// The bytes of a mono 16-bit PCM WAV file.
pub fn wav_bytes(sample_rate: u32, samples: &[i16]) -> Vec<u8> {
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut cursor, mono_spec(sample_rate))
        .expect("writing a WAV header to memory cannot fail");
    write_samples(&mut writer, samples).expect("writing samples to memory cannot fail");
    writer
        .finalize()
        .expect("finalizing a WAV in memory cannot fail");
    cursor.into_inner()
}

fn mono_spec(sample_rate: u32) -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

fn write_samples<W: std::io::Write + std::io::Seek>(
    writer: &mut hound::WavWriter<W>,
    samples: &[i16],
) -> Result<(), hound::Error> {
    let mut fast = writer.get_i16_writer(samples.len() as u32);
    for &s in samples {
        fast.write_sample(s);
    }
    fast.flush()
}

fn read_from<R: std::io::Read>(reader: hound::WavReader<R>) -> Result<(u32, Vec<i16>), WavError> {
    let spec = reader.spec();
    let format = match spec.sample_format {
        hound::SampleFormat::Int => "integer",
        hound::SampleFormat::Float => "float",
    };
    if spec.sample_format != hound::SampleFormat::Int
        || spec.bits_per_sample != 16
        || !(1..=2).contains(&spec.channels)
    {
        return Err(WavError::Unsupported {
            channels: spec.channels,
            bits: spec.bits_per_sample,
            format,
        });
    }
    let samples = reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()?;
    let mono = if spec.channels == 2 {
        samples
            .chunks_exact(2)
            .map(|lr| ((i32::from(lr[0]) + i32::from(lr[1])) / 2) as i16)
            .collect()
    } else {
        samples
    };
    Ok((spec.sample_rate, mono))
}

/// Where the samples of a streamed WAV start, and their format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamedWavHeader {
    pub sample_rate: u32,
    pub channels: u16,
    /// Offset of the first sample byte.
    pub data_offset: usize,
    /// The `data` chunk's declared size; a WAV written to a pipe declares a placeholder
    /// (`0x7fff_f000`, `u32::MAX`…), so treat it as an upper bound and read until the end.
    pub data_len: usize,
}

/// Parses the header of a 16-bit PCM WAV leniently, from the first bytes of a stream:
/// `Ok(None)` while more bytes are needed to reach the `data` chunk. Unlike a strict reader it
/// accepts the placeholder RIFF and `data` sizes of a WAV streamed to a pipe.
pub fn parse_streamed_wav_header(bytes: &[u8]) -> Result<Option<StreamedWavHeader>, WavError> {
    if bytes.len() < 12 {
        let n = bytes.len();
        return if b"RIFF"[..n.min(4)] == bytes[..n.min(4)] {
            Ok(None)
        } else {
            Err(WavError::NotWav)
        };
    }
    if &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWav);
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut pos = 12usize;
    let mut format: Option<(u16, u32)> = None; // (channels, rate)
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(pos + 4) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Ok(None);
            }
            let (tag, channels, bits) = (u16_at(body), u16_at(body + 2), u16_at(body + 14));
            if tag != 1 || bits != 16 || channels == 0 {
                return Err(WavError::Unsupported {
                    channels,
                    bits,
                    format: if tag == 1 { "integer" } else { "non-PCM" },
                });
            }
            format = Some((channels, u32_at(body + 4)));
        } else if id == b"data" {
            let (channels, sample_rate) = format.ok_or(WavError::NotWav)?;
            return Ok(Some(StreamedWavHeader {
                sample_rate,
                channels,
                data_offset: body,
                data_len: size,
            }));
        }
        pos = body.saturating_add(size).saturating_add(size & 1);
    }
    Ok(None)
}

/// Reads a whole 16-bit PCM WAV leniently: `(sample_rate, mono samples)`, taking whatever
/// data follows the header when its sizes are a pipe's placeholders (see
/// [`parse_streamed_wav_header`]). Stereo is averaged to mono. `None` if it is not such a WAV.
pub fn parse_streamed_wav(bytes: &[u8]) -> Option<(u32, Vec<i16>)> {
    let header = parse_streamed_wav_header(bytes).ok()??;
    let end = header
        .data_offset
        .saturating_add(header.data_len)
        .min(bytes.len());
    let samples = crate::pcm::i16_from_le_bytes(&bytes[header.data_offset..end]);
    Some((header.sample_rate, downmix(&samples, header.channels)))
}

/// Interleaved frames of `channels` samples → mono (average); a partial last frame is dropped.
pub fn downmix(samples: &[i16], channels: u16) -> Vec<i16> {
    if channels <= 1 {
        return samples.to_vec();
    }
    let n = usize::from(channels);
    samples
        .chunks_exact(n)
        .map(|frame| (frame.iter().map(|&s| i32::from(s)).sum::<i32>() / n as i32) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcm::sine;

    fn temp_path(name: &str) -> std::path::PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::env::temp_dir().join(format!(
            "switchboard-voice-{name}-{}-{nanos}.wav",
            std::process::id()
        ))
    }

    fn write_spec(spec: hound::WavSpec, samples: &[i32]) -> Vec<u8> {
        let mut cursor = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for &s in samples {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
        cursor.into_inner()
    }

    #[test]
    fn file_round_trip() {
        let path = temp_path("round-trip");
        let samples = sine(440.0, 16000, 250, 0.7);
        write_wav(&path, 16000, &samples).unwrap();
        let read = read_wav(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read.unwrap(), (16000, samples));
    }

    #[test]
    fn bytes_round_trip() {
        let samples = vec![0, 1, -1, i16::MAX, i16::MIN, 1234];
        let bytes = wav_bytes(8000, &samples);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(bytes.len(), 44 + samples.len() * 2);
        assert_eq!(read_wav_bytes(&bytes).unwrap(), (8000, samples));
    }

    #[test]
    fn empty_round_trip() {
        assert_eq!(
            read_wav_bytes(&wav_bytes(24000, &[])).unwrap(),
            (24000, vec![])
        );
    }

    #[test]
    fn stereo_is_downmixed() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = write_spec(spec, &[100, 300, -100, -301, 32767, 32767, -32768, -32768]);
        assert_eq!(
            read_wav_bytes(&bytes).unwrap(),
            (48000, vec![200, -200, 32767, -32768])
        );
    }

    #[test]
    fn other_formats_are_rejected() {
        let eight_bit = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 8,
            sample_format: hound::SampleFormat::Int,
        };
        let err = read_wav_bytes(&write_spec(eight_bit, &[1, 2, 3])).unwrap_err();
        assert!(
            matches!(err, WavError::Unsupported { bits: 8, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("expected 16-bit integer PCM"));

        let float = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut cursor = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, float).unwrap();
        writer.write_sample(0.5f32).unwrap();
        writer.finalize().unwrap();
        let err = read_wav_bytes(&cursor.into_inner()).unwrap_err();
        assert!(err.to_string().contains("float"), "{err}");

        let quad = hound::WavSpec {
            channels: 4,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let err = read_wav_bytes(&write_spec(quad, &[1, 2, 3, 4])).unwrap_err();
        assert!(
            matches!(err, WavError::Unsupported { channels: 4, .. }),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            read_wav_bytes(b"not a wav file at all"),
            Err(WavError::Hound(_))
        ));
        assert!(read_wav(temp_path("missing")).is_err());
    }

    #[test]
    fn streamed_wav_reads_normal_and_placeholder_headers() {
        let samples = crate::pcm::sine(500.0, 22050, 100, 0.5);
        let bytes = wav_bytes(22050, &samples);
        assert_eq!(parse_streamed_wav(&bytes), Some((22050, samples.clone())));
        // A piped WAV carries placeholder sizes.
        let mut streamed = bytes.clone();
        streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let data = streamed.windows(4).position(|w| w == b"data").unwrap();
        streamed[data + 4..data + 8].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
        assert_eq!(parse_streamed_wav(&streamed), Some((22050, samples)));
        assert_eq!(parse_streamed_wav(b"not a wav file"), None);
    }

    #[test]
    fn streamed_header_needs_only_the_first_bytes() {
        let bytes = wav_bytes(16000, &[1, 2, 3]);
        for n in 0..44 {
            assert!(
                matches!(parse_streamed_wav_header(&bytes[..n]), Ok(None)),
                "{n} bytes"
            );
        }
        let header = parse_streamed_wav_header(&bytes[..44]).unwrap().unwrap();
        assert_eq!(
            header,
            StreamedWavHeader {
                sample_rate: 16000,
                channels: 1,
                data_offset: 44,
                data_len: 6
            }
        );
        assert!(matches!(
            parse_streamed_wav_header(b"OggS\0\0\0\0\0\0\0\0"),
            Err(WavError::NotWav)
        ));
        assert!(matches!(parse_streamed_wav_header(b"RI"), Ok(None)));
    }

    #[test]
    fn streamed_stereo_is_downmixed() {
        let stereo = write_spec(
            hound::WavSpec {
                channels: 2,
                sample_rate: 8000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
            &[100, 300, -100, -300],
        );
        assert_eq!(parse_streamed_wav(&stereo), Some((8000, vec![200, -200])));
    }
}
