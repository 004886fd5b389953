//! Stage 6: score one file — analyse it, score every segment with the model, aggregate to a
//! per-channel and per-file score, and decide a verdict.
//!
//! Aggregation: a channel's score is the sigmoid of the speech-weighted mean of its segments'
//! calibrated log-odds (each segment's evidence counts in proportion to its speech). With
//! `--channels each`, the file's score is that of its most synthetic channel.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decode::AudioInfo;
use crate::error::{Error, Result};
use crate::model::logistic::sigmoid;
use crate::model::{Model, hex};
use crate::pipeline::{AnalysisConfig, ChannelAnalysis, FileAnalysis, analyze_file};
use crate::report::{ChannelReport, FileReport, ModelId, SegmentReport, Settings};
use crate::segment::{BAND_LIMITED_FLOOR_DB, SegmentFeatures, stat_names};

/// Verdict of a file or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Score at or above the synthetic threshold.
    Synthetic,
    /// Score at or below the human threshold.
    Human,
    /// Score between the thresholds.
    Inconclusive,
    /// Too little speech to judge.
    NotApplicable,
}

impl Verdict {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Synthetic => "synthetic",
            Verdict::Human => "human",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotApplicable => "not_applicable",
        }
    }
}

/// Decision thresholds on the calibrated score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Scores at or above this are `synthetic`.
    pub synthetic: f64,
    /// Scores at or below this are `human`.
    pub human: f64,
    /// Channels with less speech than this (seconds) are `not_applicable`.
    pub min_speech_s: f64,
    /// Channels with less speech than this (seconds) are never `synthetic`: short real speech
    /// scores high (2 s by default).
    pub synthetic_min_speech_s: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            synthetic: 0.7,
            human: 0.3,
            min_speech_s: 1.5,
            synthetic_min_speech_s: SHORT_SPEECH_S,
        }
    }
}

impl Thresholds {
    /// Checks `0 <= human <= synthetic <= 1` and that the speech minimums are not negative.
    pub fn validate(&self) -> Result<()> {
        if !(0.0 <= self.human && self.human <= self.synthetic && self.synthetic <= 1.0) {
            return Err(Error::Config(format!(
                "need 0 <= human threshold ({}) <= synthetic threshold ({}) <= 1",
                self.human, self.synthetic
            )));
        }
        if !(self.min_speech_s >= 0.0 && self.synthetic_min_speech_s >= 0.0) {
            return Err(Error::Config(format!(
                "speech minimums must be at least 0 s (file {}, synthetic verdict {})",
                self.min_speech_s, self.synthetic_min_speech_s
            )));
        }
        Ok(())
    }

    /// Whether a channel with `speech_s` of speech is too short for a `synthetic` verdict.
    fn too_short_for_synthetic(&self, speech_s: f64) -> bool {
        speech_s < self.synthetic_min_speech_s
    }

    /// The verdict for `score`, short of the verdicts that `withheld` rules out.
    fn verdict(&self, score: Option<f64>, withheld: Withheld) -> Verdict {
        match score {
            None => Verdict::NotApplicable,
            Some(s) if s >= self.synthetic && !withheld.synthetic => Verdict::Synthetic,
            Some(s) if s <= self.human && !withheld.human => Verdict::Human,
            Some(_) => Verdict::Inconclusive,
        }
    }
}

/// Verdicts a recording's channel cannot earn whatever its score (the score is kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Withheld {
    /// No `human` verdict: narrow-band audio ([`narrow_band`], or a channel with a band-limited
    /// segment, [`stored_call`]) or strong lossy compression ([`strong_compression`]).
    human: bool,
    /// No `synthetic` verdict: strong lossy compression, or a channel with less speech than
    /// [`Thresholds::synthetic_min_speech_s`].
    synthetic: bool,
}

/// By default, a channel with less speech than this (seconds) gets no `synthetic` verdict. Short
/// real speech scores high: with model 1.13.0, on generator families, voices and speakers it had
/// not met, 0.7 or more went to 10.3 % of real against 4.2 % of synthetic recordings with 1-1.5 s
/// of speech, 3.9 % against 2.1 % with 1.5-2 s, and 2.6 % against 1.9 % with 2-2.5 s, as with
/// longer ones (`models/length_check.py`; model card, "Short recordings").
const SHORT_SPEECH_S: f64 = 2.0;

/// A note when a channel's high score did not become `synthetic` for want of speech.
fn short_speech(speech_s: f64, needed_s: f64) -> String {
    format!(
        "{speech_s:.2} s of speech (a synthetic verdict needs {needed_s:.2} s): real speech this \
         short often scores high, so a high score is no evidence of a synthetic voice"
    )
}

/// Audio sampled at this rate (Hz) or less is telephone band.
const NARROW_BAND_HZ: u32 = 8_000;

/// A note when `info` is telephone-band audio, whose `human` verdicts become `inconclusive`: on
/// telephone copies of generator families it has not seen, model 1.13.0 scores 4.7 % of the
/// synthetic clips below 0.3 (13.1 % of the real ones; 1.12.0: 3.3 and 8.7 %; model card), too
/// many to vouch for a voice.
fn narrow_band(info: &AudioInfo) -> Option<String> {
    (info.sample_rate <= NARROW_BAND_HZ).then(|| {
        format!(
            "{} Hz audio: in the telephone band, synthetic voices the model has not met often \
             score low, so a low score is no evidence of a real voice",
            info.sample_rate
        )
    })
}

/// A note when a channel of audio stored above 8 kHz is band-limited as a call is (a segment
/// with nothing above 5 kHz, [`Scanner::band_limited`]) and scored low enough for `human`: the
/// reason of [`narrow_band`] holds whatever rate the call was stored at.
fn stored_call(sample_rate: u32) -> String {
    format!(
        "nothing above 5 kHz, as through a telephone line, though stored at {sample_rate} Hz: \
         synthetic voices the model has not met often score low in the telephone band, so a low \
         score is no evidence of a real voice"
    )
}

/// A segment whose speech frames are voiced less often than this is not scored: the speech
/// detector goes by energy alone, and noise passes it. Measured with model 1.13.0: white noise at
/// -20 to -50 dBFS, pink noise at -20 to -40 dBFS (voiced in 0-14 % of their frames) and a 50 Hz
/// hum (0 %) scored 0.76 to 0.92, `synthetic`; the corpus's speech segments are voiced in at
/// least 28 % of their speech frames (25 % in GSM and MP3 copies), speech under white noise at
/// 5 dB or pink noise at 0 dB SNR in at least 10.5 % (0.5 % of its segments under 15 %). Brown
/// noise (24-32 %) passes and scores 0.63-0.66 (model card, "Known limits"); steady tones are
/// voiced and left to [`MIN_PITCH_SPREAD`].
const MIN_VOICED_FRACTION: f32 = 0.15;
/// A segment whose pitch (log2 F0) varies less than this (standard deviation over its voiced
/// frames) is not scored either: a steady tone is voiced but no voice. A 440 Hz tone and a DTMF
/// digit (697 + 1209 Hz) read 0.00002 and scored 0.91 and 0.84 (`synthetic`); the corpus's
/// speech segments read at least 0.066 (0.8 semitones), its codec copies at least 0.097.
const MIN_PITCH_SPREAD: f32 = 0.01;
/// A segment half of whose speech frames lie within this many dB of one energy (their
/// interquartile range) is not scored either: a tone that starts and stops (a ring-back tone's
/// cadence) keeps one level, but its onsets and its pitch tracker's errors there slip past
/// [`MIN_PITCH_SPREAD`] and [`MIN_LEVEL_SPREAD_DB`]. A 425 Hz ring-back tone (1 s on, 4 s off),
/// the American one (440 + 480 Hz, 2 s on, 4 s off) and a 200-2,000 Hz sweep read 0-0.06 dB and
/// scored 0.75-0.92 (`synthetic`); the corpus's speech segments read at least 2.0 dB, speech
/// under white noise at 5 dB or pink or brown noise at 0 dB SNR at least 1.0 dB. The British
/// ring-back tone (400 + 450 Hz) reads 1.06 dB: its 50 Hz beat is not a whole number of 25 ms
/// frames, so its frame energies swing, and it still scores (model card, "Known limits").
const MIN_LEVEL_IQR_DB: f32 = 0.75;
/// A segment whose speech frames keep one level to within this (standard deviation of their
/// mean log filterbank energy, dB) is not scored either: speech rises and falls with its
/// syllables, steady noise does not. Brown noise, rumble and the pink noise the voicing test
/// misses read 0.40-0.50 dB and scored 0.63-0.75 (model 1.14.0: `synthetic` at -60 and -70
/// dBFS); the corpus's speech segments and their codec and noisy training copies read at least
/// 0.89 dB, speech under white noise at 5 dB or brown noise at 0 dB SNR at least 0.56 dB. Under
/// pink noise at 0 dB SNR 15 % of segments read less and 20 of 150 such files keep no scored
/// segment (model card, "Known limits").
const MIN_LEVEL_SPREAD_DB: f32 = 0.55;

/// Why a segment holds no voice ([`Scanner::no_voice`]).
enum NoVoice {
    /// Voiced in this share of its speech frames, under [`MIN_VOICED_FRACTION`].
    Noise { voiced: f32 },
    /// Pitch spread (log2 F0) under [`MIN_PITCH_SPREAD`].
    Tone { spread: f32 },
    /// Interquartile range of the frame energies (dB) under [`MIN_LEVEL_IQR_DB`].
    Flat { iqr_db: f32 },
    /// Level spread (dB) under [`MIN_LEVEL_SPREAD_DB`].
    Steady { spread_db: f32 },
}

impl NoVoice {
    /// The segment's note.
    fn note(&self) -> String {
        match self {
            NoVoice::Noise { voiced } => format!(
                "no voice ({:.0} % of its speech frames voiced, < {:.0} %): noise rather than \
                 speech",
                100.0 * voiced,
                100.0 * MIN_VOICED_FRACTION
            ),
            NoVoice::Tone { spread } => format!(
                "no voice (pitch steady to {:.2} semitones, < {:.2}): a tone rather than speech",
                12.0 * spread,
                12.0 * MIN_PITCH_SPREAD
            ),
            NoVoice::Flat { iqr_db } => format!(
                "no voice (half its speech frames within {iqr_db:.2} dB of one level, < \
                 {MIN_LEVEL_IQR_DB:.2} dB): a tone rather than speech"
            ),
            NoVoice::Steady { spread_db } => format!(
                "no voice (level steady to {spread_db:.2} dB, < {MIN_LEVEL_SPREAD_DB:.2} dB): \
                 steady noise rather than speech, or speech buried in it"
            ),
        }
    }
}

/// Lossy codecs whose low-bit-rate output moves scores of real or synthetic speech.
const LOSSY_CODECS: &[&str] = &["mp1", "mp2", "mp3", "aac", "vorbis"];
/// Below this average bit rate (kbit/s) a lossy file's score is no evidence either way: models
/// up to 1.7.0 scored 54-85 % of synthetic clips below 0.3 at 28-33 kbit/s, none at 64 kbit/s,
/// and models 1.10.0 and 1.11.0 flag 21 % and 13 % of real clips coded as 32 kbit/s MP3 at 8 kHz
/// (1.12.0 none, but raises them by 0.14 on average; 1.13.0 one of 40, +0.16; model card). Opus
/// and GSM 06.10 are not listed: the models measured with them (Opus from 1.7.0, GSM from
/// 1.8.0) moved no more than a few clips of either class across a threshold.
const LOW_BIT_RATE_KBPS: f64 = 48.0;

/// A note when `info` is a lossy codec at a low average bit rate, whose verdicts become
/// `inconclusive` (scores are left as they are).
fn strong_compression(info: &AudioInfo, duration_s: f64) -> Option<String> {
    if !LOSSY_CODECS.contains(&info.codec.as_str()) || duration_s <= 0.0 {
        return None;
    }
    let kbps = info.file_bytes? as f64 * 8.0 / duration_s / 1000.0;
    (kbps < LOW_BIT_RATE_KBPS).then(|| {
        format!(
            "{} at {kbps:.0} kbit/s: strong compression moves the scores of real and \
             synthetic speech (it can make either look like the other), so no verdict is given",
            info.codec
        )
    })
}

/// Everything a scan needs besides the file.
#[derive(Debug, Clone)]
pub struct Scanner {
    /// The model to score with.
    pub model: Model,
    /// Segmenting, channels and limits; the features always come from the model.
    pub analysis: AnalysisConfig,
    /// Verdict thresholds.
    pub thresholds: Thresholds,
    /// Where the features' voiced fraction and pitch spread are, if they have them.
    voicing: Option<(usize, usize)>,
    /// Where the spread of the features' c0 is, and the factor that turns it into dB of level.
    level_spread: Option<(usize, f32)>,
}

impl Scanner {
    /// A scanner using `model`'s feature settings with the given segmenting and thresholds.
    pub fn new(model: Model, mut analysis: AnalysisConfig, thresholds: Thresholds) -> Result<Self> {
        thresholds.validate()?;
        analysis.features = model.file.features.clone();
        analysis.dynamics = model.dynamics_mode();
        analysis.segments.validate(analysis.features.hop_s())?;
        let names = stat_names(&analysis.features);
        let find = |name: &str| names.iter().position(|n| n == name);
        let voicing = find("voiced_fraction").zip(find("log2_f0_std"));
        // c0 of the orthonormal DCT is sqrt(n_filters) times the mean natural-log energy.
        let c0_to_db = 10.0 / std::f32::consts::LN_10 / (analysis.features.n_filters as f32).sqrt();
        let level_spread = find("lfcc0_std").map(|i| (i, c0_to_db));
        Ok(Self {
            model,
            analysis,
            thresholds,
            voicing,
            level_spread,
        })
    }

    /// Hashes, decodes, analyses and scores one file.
    pub fn scan(&self, path: &Path) -> Result<FileReport> {
        self.scan_hashed(path, sha256_file(path)?)
    }

    /// Decodes, analyses and scores a file whose SHA-256 the caller already computed.
    pub fn scan_hashed(&self, path: &Path, sha256: String) -> Result<FileReport> {
        let analysis = analyze_file(path, &self.analysis)?;
        Ok(self.report(path.display().to_string(), sha256, &analysis))
    }

    /// Scores an analysis made with this scanner's settings into the record for `file`.
    pub fn report(&self, file: String, sha256: String, analysis: &FileAnalysis) -> FileReport {
        let compressed = strong_compression(&analysis.info, analysis.duration_s);
        let narrow = narrow_band(&analysis.info);
        let withheld = Withheld {
            human: compressed.is_some() || narrow.is_some(),
            synthetic: compressed.is_some(),
        };
        let band_limited_channels: Vec<bool> = analysis
            .channels
            .iter()
            .map(|c| self.band_limited(c))
            .collect();
        let mut channels: Vec<ChannelReport> = analysis
            .channels
            .iter()
            .zip(&band_limited_channels)
            .map(|(c, &limited)| {
                let human = withheld.human || limited;
                self.score_channel(c, Withheld { human, ..withheld })
            })
            .collect();
        let worst = channels
            .iter()
            .filter(|c| c.score.is_some())
            .max_by(|a, b| a.score.partial_cmp(&b.score).expect("scores are finite"));
        let (score, verdict) = match worst {
            Some(c) => (c.score, c.verdict),
            None => (None, Verdict::NotApplicable),
        };
        let max_segment_score = channels
            .iter()
            .filter_map(|c| c.max_segment_score)
            .reduce(f64::max);
        // The record lists every segment once; the per-channel results carry none.
        let segments = channels
            .iter_mut()
            .flat_map(|c| std::mem::take(&mut c.segments))
            .collect();
        let noise = analysis
            .channels
            .iter()
            .flat_map(|c| &c.segments)
            .any(|s| self.no_voice(s).is_some());
        let too_short = (verdict == Verdict::NotApplicable).then(|| {
            let but_noise = if noise {
                ", once segments of noise or tones rather than a voice are left out"
            } else {
                ""
            };
            format!(
                "less than {:.1} s of speech in every channel{but_noise}",
                self.thresholds.min_speech_s
            )
        });
        // The narrow-band note only where it changed a verdict (most calls are 8 kHz).
        let scored_low = channels
            .iter()
            .any(|c| c.score.is_some_and(|s| s <= self.thresholds.human));
        let narrow = narrow.filter(|_| compressed.is_none() && scored_low);
        // Likewise for a call stored at a higher rate, where a band-limited channel scored low.
        let limited = channels
            .iter()
            .zip(&band_limited_channels)
            .any(|(c, &limited)| limited && c.score.is_some_and(|s| s <= self.thresholds.human));
        let limited = (limited && narrow.is_none() && compressed.is_none())
            .then(|| stored_call(analysis.info.sample_rate));
        // Likewise the short-speech note, where a high score was kept from `synthetic`.
        let t = &self.thresholds;
        let short = channels
            .iter()
            .filter(|c| compressed.is_none() && t.too_short_for_synthetic(c.speech_s))
            .filter(|c| c.score.is_some_and(|s| s >= t.synthetic))
            .map(|c| short_speech(c.speech_s, t.synthetic_min_speech_s))
            .next();
        let notes: Vec<String> = too_short
            .into_iter()
            .chain(compressed)
            .chain(narrow)
            .chain(limited)
            .chain(short)
            .collect();
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        FileReport {
            file,
            sha256,
            duration_s: analysis.duration_s,
            sample_rate: analysis.info.sample_rate,
            channels: analysis.info.channels,
            codec: analysis.info.codec.clone(),
            container: analysis.info.container.clone(),
            score,
            max_segment_score,
            verdict,
            note,
            speech_s: channels.iter().map(|c| c.speech_s).fold(0.0, f64::max),
            analysed_as_call: channels.iter().any(|c| c.analysed_as_call),
            channel_results: (channels.len() > 1).then_some(channels),
            segments,
            model: ModelId {
                name: self.model.file.name.clone(),
                version: self.model.file.version.clone(),
                sha256: self.model.sha256.clone(),
            },
            settings: Settings {
                segment_s: self.analysis.segments.length_s,
                hop_s: self.analysis.segments.hop_s,
                min_segment_speech_s: self.analysis.segments.min_speech_s,
                min_speech_s: self.thresholds.min_speech_s,
                synthetic_min_speech_s: self.thresholds.synthetic_min_speech_s,
                channels: self.analysis.channels,
                synthetic_above: self.thresholds.synthetic,
                human_below: self.thresholds.human,
                max_duration_s: self.analysis.max_duration_s,
            },
            voxguard_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Why a scored segment holds no voice, if it does: noise (voiced in fewer than
    /// [`MIN_VOICED_FRACTION`] of its speech frames), a tone (pitch steadier than
    /// [`MIN_PITCH_SPREAD`], or level steadier than [`MIN_LEVEL_IQR_DB`]) or steady noise
    /// (level steadier than [`MIN_LEVEL_SPREAD_DB`]).
    fn no_voice(&self, segment: &SegmentFeatures) -> Option<NoVoice> {
        let stats = segment.stats.as_deref()?;
        if let Some((voiced, spread)) = self.voicing.map(|(v, p)| (stats[v], stats[p])) {
            if voiced < MIN_VOICED_FRACTION {
                return Some(NoVoice::Noise { voiced });
            } else if spread < MIN_PITCH_SPREAD {
                return Some(NoVoice::Tone { spread });
            }
        }
        if let Some(iqr_db) = segment.level_iqr_db.filter(|&d| d < MIN_LEVEL_IQR_DB) {
            return Some(NoVoice::Flat { iqr_db });
        }
        let spread_db = self.level_spread.map(|(i, to_db)| stats[i] * to_db)?;
        (spread_db < MIN_LEVEL_SPREAD_DB).then_some(NoVoice::Steady { spread_db })
    }

    /// Whether any scored segment of `ch` kept nothing above 5 kHz: its top bands' energy
    /// ([`crate::segment::SegmentFeatures::top_band_db`]) under [`BAND_LIMITED_FLOOR_DB`].
    fn band_limited(&self, ch: &ChannelAnalysis) -> bool {
        ch.segments
            .iter()
            .filter(|s| self.no_voice(s).is_none())
            .filter_map(|s| s.top_band_db)
            .any(|db| db < BAND_LIMITED_FLOOR_DB)
    }

    fn score_channel(&self, ch: &ChannelAnalysis, withheld: Withheld) -> ChannelReport {
        let mut weighted = 0.0;
        let mut weight = 0.0;
        let segments: Vec<SegmentReport> = ch
            .segments
            .iter()
            .map(|s| {
                let no_voice = self.no_voice(s);
                let (score, note) = match (&s.stats, no_voice) {
                    (Some(_), Some(why)) => (None, Some(why.note())),
                    (Some(stats), None) => {
                        let logit = self.model.logit(stats, s.dynamics.as_ref());
                        weighted += s.speech_s * logit;
                        weight += s.speech_s;
                        (Some(sigmoid(logit)), None)
                    }
                    (None, _) => (
                        None,
                        Some(format!(
                            "too little speech ({:.2} s < {:.2} s)",
                            s.speech_s, self.analysis.segments.min_speech_s
                        )),
                    ),
                };
                SegmentReport {
                    channel: ch.channel,
                    start_s: s.start_s,
                    end_s: s.end_s,
                    score,
                    speech_ratio: s.speech_ratio,
                    note,
                }
            })
            .collect();
        let enough = ch.speech_s >= self.thresholds.min_speech_s && weight > 0.0;
        let score = enough.then(|| sigmoid(weighted / weight));
        ChannelReport {
            channel: ch.channel,
            score,
            max_segment_score: segments.iter().filter_map(|s| s.score).reduce(f64::max),
            verdict: self.thresholds.verdict(
                score,
                Withheld {
                    synthetic: withheld.synthetic
                        || self.thresholds.too_short_for_synthetic(ch.speech_s),
                    ..withheld
                },
            ),
            speech_s: ch.speech_s,
            analysed_as_call: ch.as_call,
            segments,
        }
    }
}

/// SHA-256 of a file's bytes, hex, read in 64 KiB blocks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let io = |error| Error::Io {
        path: path.to_owned(),
        error,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_verdicts_become_inconclusive() {
        let t = Thresholds::default();
        let nothing = Withheld::default();
        let human = Withheld {
            human: true,
            synthetic: false,
        };
        let synthetic = Withheld {
            human: false,
            synthetic: true,
        };
        let both = Withheld {
            human: true,
            synthetic: true,
        };
        assert_eq!(t.verdict(Some(0.1), nothing), Verdict::Human);
        assert_eq!(t.verdict(Some(0.9), nothing), Verdict::Synthetic);
        assert_eq!(t.verdict(Some(0.1), human), Verdict::Inconclusive);
        assert_eq!(t.verdict(Some(0.9), human), Verdict::Synthetic);
        assert_eq!(t.verdict(Some(0.1), synthetic), Verdict::Human);
        assert_eq!(t.verdict(Some(0.9), synthetic), Verdict::Inconclusive);
        assert_eq!(t.verdict(Some(0.1), both), Verdict::Inconclusive);
        assert_eq!(t.verdict(Some(0.5), both), Verdict::Inconclusive);
        assert_eq!(t.verdict(Some(0.9), both), Verdict::Inconclusive);
        assert_eq!(t.verdict(None, both), Verdict::NotApplicable);
    }

    #[test]
    fn speech_minimums_must_be_numbers_of_seconds() {
        let ok = Thresholds::default();
        assert!(ok.validate().is_ok());
        for bad in [-1.0, f64::NAN] {
            let file = Thresholds {
                min_speech_s: bad,
                ..ok
            };
            let synthetic = Thresholds {
                synthetic_min_speech_s: bad,
                ..ok
            };
            assert!(file.validate().is_err() && synthetic.validate().is_err());
        }
    }

    #[test]
    fn compression_rule_needs_a_lossy_codec_below_the_bit_rate() {
        let info = |codec: &str, bytes: u64| AudioInfo {
            sample_rate: 16_000,
            channels: 1,
            codec: codec.into(),
            container: String::new(),
            declared_frames: None,
            file_bytes: Some(bytes),
        };
        // 10 s at 32 kbit/s is 40,000 bytes; at 64 kbit/s 80,000.
        assert!(strong_compression(&info("mp3", 40_000), 10.0).is_some());
        assert!(strong_compression(&info("vorbis", 40_000), 10.0).is_some());
        assert!(strong_compression(&info("mp3", 80_000), 10.0).is_none());
        assert!(strong_compression(&info("flac", 40_000), 10.0).is_none());
        assert!(strong_compression(&info("mp3", 40_000), 0.0).is_none());
    }
}
