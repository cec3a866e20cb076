//! WAV files of 16-bit PCM (hound): read mono (stereo is downmixed), write mono.
//!
//! Used for fixtures, recordings and offline tests; not on the real-time path.

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
}
