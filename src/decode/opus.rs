//! Opus, which symphonia demuxes (Ogg, WebM/Matroska, MP4) but does not decode: the pure-Rust
//! `opus-decoder` crate wrapped as a symphonia audio decoder, so Opus streams go through the
//! same path as every other codec.
//!
//! Mono and stereo streams (channel mapping family 0, what voice notes and VoIP recorders write)
//! are decoded at 48 kHz, the rate Ogg Opus declares. The encoder's pre-skip (a few ms of warm-up
//! at the start) is kept, like every decoder's priming samples here: it cannot change a score.

use symphonia::core::audio::{
    AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec, GenericAudioBufferRef,
};
use symphonia::core::codecs::CodecInfo;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::{RegisterableAudioDecoder, SupportedAudioCodec};
use symphonia::core::errors::{Result, decode_error, unsupported_error};
use symphonia::core::packet::PacketRef;

/// Decoding rate: Opus decodes to 48 kHz natively.
const RATE: u32 = 48_000;
/// Longest Opus packet: 120 ms at 48 kHz.
const MAX_FRAMES: usize = 5_760;

/// A symphonia [`AudioDecoder`] for Opus.
pub struct OpusDecoder {
    decoder: opus_decoder::OpusDecoder,
    params: AudioCodecParameters,
    channels: usize,
    /// Interleaved output of the last packet.
    pcm: Vec<f32>,
    buf: AudioBuffer<f32>,
}

impl OpusDecoder {
    fn try_new(params: &AudioCodecParameters) -> Result<Self> {
        let Some(layout) = params.channels.clone() else {
            return unsupported_error("opus: no channel count");
        };
        let channels = layout.count();
        if !(1..=2).contains(&channels) {
            return unsupported_error("opus: more than two channels (multistream)");
        }
        let Ok(decoder) = opus_decoder::OpusDecoder::new(RATE, channels) else {
            return unsupported_error("opus: decoder setup");
        };
        let mut params = params.clone();
        params.with_sample_rate(RATE);
        Ok(Self {
            decoder,
            params,
            channels,
            pcm: vec![0.0; MAX_FRAMES * channels],
            buf: AudioBuffer::new(AudioSpec::new(RATE, layout), MAX_FRAMES),
        })
    }

    fn decode_packet(&mut self, data: &[u8]) -> Result<()> {
        self.buf.clear();
        let Ok(frames) = self.decoder.decode_float(data, &mut self.pcm, false) else {
            return decode_error("opus: invalid packet");
        };
        let frames = frames.min(MAX_FRAMES);
        self.buf.render_uninit(Some(frames));
        for ch in 0..self.channels {
            let Some(plane) = self.buf.plane_mut(ch) else {
                return decode_error("opus: channel layout");
            };
            for (i, v) in plane.iter_mut().enumerate() {
                *v = self.pcm[i * self.channels + ch];
            }
        }
        Ok(())
    }
}

impl AudioDecoder for OpusDecoder {
    fn reset(&mut self) {
        self.decoder.reset();
    }

    fn codec_info(&self) -> &CodecInfo {
        &SUPPORTED[0].info
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> Result<GenericAudioBufferRef<'_>> {
        match self.decode_packet(packet.data) {
            Ok(()) => Ok(self.buf.as_generic_audio_buffer_ref()),
            Err(e) => {
                self.buf.clear();
                Err(e)
            }
        }
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

const SUPPORTED: &[SupportedAudioCodec] = &[SupportedAudioCodec {
    id: CODEC_ID_OPUS,
    info: CodecInfo {
        short_name: "opus",
        long_name: "Opus",
        profiles: &[],
    },
}];

impl RegisterableAudioDecoder for OpusDecoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        _opts: &AudioDecoderOptions,
    ) -> Result<Box<dyn AudioDecoder>> {
        Ok(Box::new(Self::try_new(params)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        SUPPORTED
    }
}
