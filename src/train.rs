//! Building a model from a labelled manifest: feature extraction (clean, telephone and degraded
//! copies of every clip), a class-balanced classifier (logistic regression, MLP, one-class
//! Gaussian of real speech, or a fusion of two), and Platt calibration fitted on out-of-fold
//! scores (folds hold out whole generators and whole speakers).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use ndarray::{Array2, ArrayView2, Axis, concatenate};
use rayon::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::augment::{add_test_noise, degrade, gsm_channel, mp3_copy, stored_16bit, telephone};
use crate::dataset::{Clip, Label, SuppliedCopies};
use crate::error::{Error, Result};
use crate::features::FeatureConfig;
use crate::model::calibration::Platt;
use crate::model::classifier::{
    Classifier, ClassifierKind, Fusion, LogisticOneClass, NarrowbandGaussian, below_all,
};
use crate::model::deviation::{DEVIATION_WEIGHT, DISTANCE_CAP, DeviationLogistic};
use crate::model::frame_gmm::{DiagonalGmm, FrameTerm, GmmConfig};
use crate::model::gaussian::RealSpeechGaussian;
use crate::model::logistic::{LogisticRegression, Standardizer};
use crate::model::mlp::{Mlp, MlpConfig};
use crate::model::weighted_mean_spread;
use crate::model::{MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelFile, segment_logit};
use crate::pipeline::{AnalysisConfig, analyze_samples, load_mono};
use crate::segment::{
    Dynamics, DynamicsMode, NARROWBAND_FLOOR_DB, high_band_means, logistic_inputs,
    one_class_inputs, stat_names,
};
use crate::source_shift::{SourcedClip, source_dependent};

/// Channel conditions every clip is analysed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The clip as recorded.
    Clean = 0,
    /// 8 kHz μ-law telephone copy.
    Telephone = 1,
    /// Cropped, rescaled, noisy copy, half of them also through a telephone channel (μ-law or
    /// GSM 06.10) and half through a simulated lossy coder ([`degrade`]); used for training only.
    Degraded = 2,
    /// The whole clip with coloured noise at 10-30 dB SNR ([`add_test_noise`]); used for
    /// evaluation only, drawn apart from the degraded copy.
    Noisy = 3,
    /// The whole clip through GSM 06.10 at 8 kHz ([`gsm_channel`]), the codec of mobile calls;
    /// used for evaluation only (training meets GSM only inside some degraded copies).
    Gsm = 4,
    /// The whole clip as MP3 at 8 kHz and 16 kbit/s ([`mp3_copy`]), as low-rate call
    /// archives store calls; used for evaluation only (no training copy is MP3).
    Mp3 = 5,
    /// The telephone copy stored as a 16-bit file at the clip's level ([`stored_16bit`]), as a
    /// call recorder writes it at 16 kHz: quantisation noise fills the band above 4 kHz; used
    /// for evaluation only.
    StoredCall = 6,
    /// The same stored 20 dB down, where the quantisation noise stands 20 dB higher against the
    /// speech; used for evaluation only.
    QuietStoredCall = 7,
    /// A copy made by another tool, read from a folder ([`SuppliedCopies`]); used for
    /// evaluation only.
    Supplied = 8,
}

/// How many conditions there are (the size of [`ClipFeatures::conditions`]).
const CONDITIONS: usize = Condition::Supplied as usize + 1;

/// Sample rate and bit rate of the evaluation-only MP3 copy ([`Condition::Mp3`]).
const TEST_MP3: (u32, u32) = (8_000, 16);

impl Condition {
    /// Short name (`clean`, `telephone`, `degraded`, `noisy`, `gsm`, `mp3`, `stored-call`,
    /// `quiet-stored-call`, `supplied`).
    pub fn name(self) -> &'static str {
        match self {
            Condition::Clean => "clean",
            Condition::Telephone => "telephone",
            Condition::Degraded => "degraded",
            Condition::Noisy => "noisy",
            Condition::Gsm => "gsm",
            Condition::Mp3 => "mp3",
            Condition::StoredCall => "stored-call",
            Condition::QuietStoredCall => "quiet-stored-call",
            Condition::Supplied => "supplied",
        }
    }
}

/// The copies a model is trained on.
pub const TRAINING_CONDITIONS: [Condition; 3] =
    [Condition::Clean, Condition::Telephone, Condition::Degraded];

/// One scored segment's pooled statistics, frame dynamics and speech time.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentStats {
    /// Seconds of speech (the segment's weight in a clip's score).
    pub speech_s: f64,
    /// Pooled statistics.
    pub stats: Vec<f32>,
    /// The loud frames' cepstral dynamics ([`crate::segment::frame_dynamics`]); no rows unless
    /// the analysis kept them ([`DynamicsMode::Keep`]).
    pub dynamics: Array2<f32>,
}

/// A clip's segments under each [`Condition`] (indexed by `Condition as usize`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClipFeatures {
    /// Segments per condition; empty when the clip has too little speech.
    pub conditions: [Vec<SegmentStats>; CONDITIONS],
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Feature and segment settings.
    pub analysis: AnalysisConfig,
    /// The model type, its penalty and the frame model beside it.
    pub fit: FitSettings,
    /// Folds for out-of-fold calibration.
    pub folds: usize,
    /// Seed of the augmentation (telephone band edge, crop, gain, noise).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let fit = FitSettings::new(&AnalysisConfig::default().features);
        Self {
            analysis: fit.analysis(),
            fit,
            folds: 5,
            seed: 0,
        }
    }
}

/// Decodes and analyses every clip (in parallel) under the `wanted` [`Condition`]s (the others
/// are left empty), the copies drawn from `seed`, the [`Condition::Supplied`] one read from
/// `supplied`. `on_done` is called once per clip, for progress display.
pub fn extract(
    clips: &[Clip],
    analysis: &AnalysisConfig,
    seed: u64,
    wanted: &[Condition],
    supplied: Option<&SuppliedCopies>,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Result<ClipFeatures>> {
    clips
        .par_iter()
        .map(|clip| {
            let r = clip_features(&clip.path, analysis, seed, wanted, supplied);
            on_done();
            r
        })
        .collect()
}

fn clip_features(
    path: &Path,
    analysis: &AnalysisConfig,
    seed: u64,
    wanted: &[Condition],
    supplied: Option<&SuppliedCopies>,
) -> Result<ClipFeatures> {
    let rate = analysis.features.sample_rate;
    let clean = load_mono(path, rate, analysis.max_duration_s)?;
    // Seeded by the file name, so the copies do not depend on where the corpus is mounted.
    let name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let key = if seed == 0 {
        name
    } else {
        format!("{seed}/{name}")
    };
    let segs = |x: &[f32]| -> Result<Vec<SegmentStats>> {
        Ok(analyze_samples(x, analysis)?
            .segments
            .into_iter()
            .filter_map(|s| {
                let dynamics = match s.dynamics {
                    Some(Dynamics::Frames(d)) => d,
                    _ => Array2::zeros((0, 2 * analysis.features.n_ceps)),
                };
                Some(SegmentStats {
                    speech_s: s.speech_s,
                    stats: s.stats?,
                    dynamics,
                })
            })
            .collect())
    };
    let mut conditions: [Vec<SegmentStats>; CONDITIONS] = Default::default();
    for &cond in wanted {
        conditions[cond as usize] = match cond {
            Condition::Clean => segs(&clean)?,
            Condition::Telephone => segs(&telephone(&clean, rate, stable_hash(&key))?)?,
            Condition::Degraded => segs(&degrade(
                &clean,
                rate,
                stable_hash(&format!("degrade/{key}")),
            )?)?,
            Condition::Noisy => segs(&add_test_noise(
                &clean,
                rate,
                stable_hash(&format!("noisy/{key}")),
            ))?,
            Condition::Gsm => segs(&gsm_channel(&clean, rate)?)?,
            Condition::Mp3 => segs(&mp3_copy(&clean, rate, TEST_MP3.0, TEST_MP3.1)?)?,
            Condition::StoredCall | Condition::QuietStoredCall => {
                let gain_db = if cond == Condition::StoredCall {
                    0.0
                } else {
                    -20.0
                };
                let call = telephone(&clean, rate, stable_hash(&key))?;
                segs(&stored_16bit(&call, gain_db))?
            }
            Condition::Supplied => {
                let copies = supplied.ok_or_else(|| {
                    Error::Config("the supplied copy needs a folder of copies".into())
                })?;
                segs(&load_mono(copies.of(path)?, rate, analysis.max_duration_s)?)?
            }
        };
    }
    Ok(ClipFeatures { conditions })
}

/// A classifier fitted on a subset of clips (before calibration).
#[derive(Debug, Clone)]
pub struct Fitted {
    /// Feature standardisation.
    pub standardizer: Standardizer,
    /// The classifier.
    pub classifier: Classifier,
    /// The frame model of real speech added to the classifier's score, if any.
    pub frame: Option<FrameTerm>,
}

impl Fitted {
    /// Raw log-odds of one segment: the classifier on its standardised statistics, plus the
    /// frame model's term on its frame dynamics if there is a frame model.
    pub fn segment_logit(&self, s: &SegmentStats) -> f64 {
        let frame = self
            .frame
            .as_ref()
            .map_or(0.0, |f| f.score(s.dynamics.view()));
        segment_logit(&self.standardizer, &self.classifier, &s.stats, frame)
    }

    /// A clip's raw log-odds: the speech-weighted mean over its segments (as `scan` aggregates).
    pub fn clip_logit(&self, segments: &[SegmentStats]) -> Option<f64> {
        let total: f64 = segments.iter().map(|s| s.speech_s).sum();
        (total > 0.0).then(|| {
            segments
                .iter()
                .map(|s| s.speech_s * self.segment_logit(s))
                .sum::<f64>()
                / total
        })
    }
}

/// Training rows: every segment of every condition of the selected clips, weighted so that each
/// class has half of the total, each generator an equal share of the spoof half (a generator with
/// many clips must not decide what "synthetic" means) and each clip an equal share of its
/// generator's. Real speech is balanced over its recording sources (`corpus`) more gently: a
/// source's share of the bonafide half grows with the square root of its clip count, so one large
/// source does not define "real" and a source of two clips does not outweigh it either.
fn rows<'a>(clips: &[Clip], feats: &'a [ClipFeatures], selected: &[usize]) -> Rows<'a> {
    let per_system = clips_per(clips, selected, Label::Spoof, |c| &c.system);
    let n_systems = per_system.len().max(1);
    let bona_weight = bonafide_weights(clips, selected);
    let mut r = Rows::default();
    for &i in selected {
        let spoof = clips[i].label == Label::Spoof;
        let class_w = if spoof {
            0.5 / n_systems as f64 / per_system[clips[i].system.as_str()] as f64
        } else {
            0.5 * bona_weight[clips[i].corpus.as_str()]
        };
        let copies = TRAINING_CONDITIONS.len() as f64;
        for cond in TRAINING_CONDITIONS {
            let segs = &feats[i].conditions[cond as usize];
            for s in segs {
                r.segs.push(s);
                r.y.push(if spoof { 1.0 } else { 0.0 });
                r.w.push(class_w / segs.len() as f64 / copies);
                r.clean.push(cond == Condition::Clean);
            }
        }
    }
    // Scale weights to sum to the number of rows so the L2 penalty has a stable meaning.
    let total: f64 = r.w.iter().sum();
    let n = r.w.len() as f64;
    r.w.iter_mut().for_each(|v| *v *= n / total);
    r
}

/// Training rows ([`rows`]): segments, labels (1 = synthetic), weights, and which rows are of
/// the clean copies.
#[derive(Default)]
struct Rows<'a> {
    segs: Vec<&'a SegmentStats>,
    y: Vec<f64>,
    w: Vec<f64>,
    clean: Vec<bool>,
}

/// Weight of one real clip of each source among the `selected` clips, summing to 1 over them:
/// a source of `n` clips gets a share proportional to `sqrt(n)`.
fn bonafide_weights<'a>(clips: &'a [Clip], selected: &[usize]) -> BTreeMap<&'a str, f64> {
    let per_source = clips_per(clips, selected, Label::Bonafide, |c| &c.corpus);
    let total: f64 = per_source.values().map(|&n| (n as f64).sqrt()).sum();
    per_source
        .into_iter()
        .map(|(source, n)| (source, (n as f64).sqrt() / total / n as f64))
        .collect()
}

/// How many of the `selected` clips of class `label` share each value of `key` (generator,
/// source).
fn clips_per<'a>(
    clips: &'a [Clip],
    selected: &[usize],
    label: Label,
    key: impl Fn(&'a Clip) -> &'a String,
) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for &i in selected {
        if clips[i].label == label {
            *counts.entry(key(&clips[i]).as_str()).or_default() += 1;
        }
    }
    counts
}

/// What [`fit`] fits besides the rows: the model type, its penalty, the statistics a one-class
/// part reads and the weights of the frame model of real speech and of the deviation model.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSettings {
    /// The classifier on pooled statistics.
    pub kind: ClassifierKind,
    /// L2 penalty on the classifier's weights (on standardised statistics).
    pub l2: f64,
    /// The statistics a one-class part reads ([`one_class_inputs`]).
    pub one_class_inputs: Vec<bool>,
    /// The statistics the logistic regression of the logistic + one-class type reads
    /// ([`logistic_inputs`]); the other types read every statistic.
    pub logistic_inputs: Vec<bool>,
    /// For the logistic + one-class type: the logistic regression also leaves out every
    /// statistic on which the training clips' real sources differ by this many pooled spreads
    /// or more ([`source_dependent`]; since 1.22.0); infinity keeps [`Self::logistic_inputs`].
    pub source_shift_limit: f64,
    /// Spread of the frame model's term on the training rows, as a multiple of the
    /// classifier's (0: no frame model).
    pub frame_weight: f64,
    /// For the logistic + one-class type: the statistics ([`high_band_means`]) by which a
    /// segment is narrowband and gets a Gaussian of real narrowband speech; empty fits one
    /// Gaussian for every channel (as before 1.13.0).
    pub narrowband_bands: Vec<usize>,
    /// For the logistic + one-class type: spread of the deviation model's term
    /// ([`DeviationLogistic`]) as a multiple of the logistic regression's (0: none, as before
    /// 1.16.0).
    pub deviation_weight: f64,
}

impl FitSettings {
    /// The shipped model's settings, for statistics of features made with `feat`.
    pub fn new(feat: &FeatureConfig) -> Self {
        Self {
            kind: ClassifierKind::default(),
            l2: 10.0,
            one_class_inputs: one_class_inputs(feat),
            logistic_inputs: logistic_inputs(feat),
            source_shift_limit: SOURCE_SHIFT_LIMIT,
            frame_weight: FRAME_WEIGHT,
            narrowband_bands: high_band_means(feat),
            deviation_weight: DEVIATION_WEIGHT,
        }
    }

    /// The default analysis, keeping what these settings need of the frame dynamics: the
    /// frames if there is a frame model to fit, else nothing.
    pub fn analysis(&self) -> AnalysisConfig {
        let dynamics = if self.frame_weight > 0.0 {
            DynamicsMode::Keep
        } else {
            DynamicsMode::Skip
        };
        AnalysisConfig {
            dynamics,
            ..AnalysisConfig::default()
        }
    }
}

/// Narrowband real training rows needed for a Gaussian of their own.
const MIN_NARROWBAND_REAL_ROWS: usize = 50;

/// The Gaussian of real narrowband speech (rows whose `settings.narrowband_bands` all lie below
/// [`NARROWBAND_FLOOR_DB`]: telephone copies, and degraded copies that went through a telephone
/// channel), with its test in standardised units and which rows of `z` it picks (for the
/// deviation model); none when the settings ask for one Gaussian or fewer than
/// [`MIN_NARROWBAND_REAL_ROWS`] real rows are narrowband.
fn narrowband_gaussian(
    z: ArrayView2<'_, f64>,
    y: &[f64],
    w: &[f64],
    standardizer: &Standardizer,
    settings: &FitSettings,
) -> Option<(NarrowbandGaussian, Vec<bool>)> {
    let bands = &settings.narrowband_bands;
    if bands.is_empty() {
        return None;
    }
    let below: Vec<f64> = bands
        .iter()
        .map(|&i| (f64::from(NARROWBAND_FLOOR_DB) - standardizer.mean[i]) / standardizer.scale[i])
        .collect();
    // The rows are told apart by the test that will pick the Gaussian when scoring.
    let narrow: Vec<bool> = z
        .rows()
        .into_iter()
        .map(|r| below_all(r.as_slice().expect("standard layout"), bands, &below))
        .collect();
    let real_rows = (0..y.len()).filter(|&i| narrow[i] && y[i] == 0.0).count();
    if real_rows < MIN_NARROWBAND_REAL_ROWS {
        return None;
    }
    let narrow_w: Vec<f64> = w
        .iter()
        .zip(&narrow)
        .map(|(&w, &n)| if n { w } else { 0.0 })
        .collect();
    let gaussian = RealSpeechGaussian::fit(z, y, &narrow_w, &settings.one_class_inputs)?;
    Some((
        NarrowbandGaussian::new(gaussian, bands.clone(), below),
        narrow,
    ))
}

/// The shipped model's source-shift limit (since 1.22.0): statistics on which the training
/// clips' real sources differ by a pooled spread or more are left out of the logistic
/// regression (model card, "Changes in 1.22.0").
pub const SOURCE_SHIFT_LIMIT: f64 = 1.0;

/// Each selected real clip's source and the speech-weighted mean of its clean segments'
/// statistics (clips without a scored clean segment are skipped).
fn real_clip_means<'a>(
    clips: &'a [Clip],
    feats: &[ClipFeatures],
    selected: &[usize],
) -> Vec<SourcedClip<'a>> {
    selected
        .iter()
        .filter(|&&i| clips[i].label == Label::Bonafide)
        .filter_map(|&i| {
            let segs = &feats[i].conditions[Condition::Clean as usize];
            let total: f64 = segs.iter().map(|s| s.speech_s).sum();
            (total > 0.0).then(|| {
                let mut mean = vec![0.0; segs[0].stats.len()];
                for s in segs {
                    for (m, &v) in mean.iter_mut().zip(&s.stats) {
                        *m += s.speech_s * f64::from(v) / total;
                    }
                }
                SourcedClip {
                    source: clips[i].corpus.as_str(),
                    stats: mean,
                }
            })
        })
        .collect()
}

/// The shipped model's frame weight (since 1.12.0): the frame term's spread is a quarter of the
/// classifier's. At 0.25 every held-out protocol measured gains or holds, most on GSM and MP3
/// copies; at 0.5 clean clips of voices left in training lost 3 points (models/HISTORY.md,
/// "Changes in 1.12.0").
pub const FRAME_WEIGHT: f64 = 0.25;

/// Real frames the frame model is fitted on, shared equally among the real training clips.
const FRAME_MODEL_FRAMES: usize = 40_000;

/// At most this many training rows set the frame term's offset and spread.
const SPREAD_ROWS: usize = 1_000;

/// Frame mixtures already fitted in one run over one set of clips and features, by the real
/// clips they were fitted on. Cross-validation folds share most of their real clips' sets (every
/// held-out generator of one speaker fold trains on the same real speech), so most mixtures are
/// fitted once.
#[derive(Default)]
pub struct FrameModelCache {
    fitted: Mutex<HashMap<Vec<usize>, Arc<DiagonalGmm>>>,
}

impl FrameModelCache {
    /// The mixture fitted on the real clips `reals` (sorted indices), fitted by `fit` if no
    /// earlier call fitted it. Fitting is deterministic, so two folds that ask at once fit the
    /// same mixture twice rather than wait: waiting inside rayon could deadlock, since a thread
    /// waiting on its own fit's tasks may take up the other fold.
    fn get_or_fit(
        &self,
        reals: Vec<usize>,
        fit: impl FnOnce(&[usize]) -> Option<DiagonalGmm>,
    ) -> Option<Arc<DiagonalGmm>> {
        let lock = || self.fitted.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(gmm) = lock().get(&reals) {
            return Some(Arc::clone(gmm));
        }
        let gmm = Arc::new(fit(&reals)?);
        Some(Arc::clone(lock().entry(reals).or_insert(gmm)))
    }
}

/// Fits standardiser and classifier on the clips in `selected`, and the frame model beside it
/// if `settings` asks for one (taken from `cache` if it holds one fitted on the same real clips).
pub fn fit(
    clips: &[Clip],
    feats: &[ClipFeatures],
    selected: &[usize],
    settings: &FitSettings,
    cache: &FrameModelCache,
) -> Result<Fitted> {
    let Rows { segs, y, w, clean } = rows(clips, feats, selected);
    let has_both = y.contains(&1.0) && y.contains(&0.0);
    if !has_both {
        return Err(Error::Config(
            "training needs scored segments of both bonafide and spoof clips".into(),
        ));
    }
    let d = segs[0].stats.len();
    let mut m = Array2::<f64>::zeros((segs.len(), d));
    for (mut row, src) in m.rows_mut().into_iter().zip(&segs) {
        row.iter_mut()
            .zip(src.stats.iter())
            .for_each(|(a, &b)| *a = b as f64);
    }
    let standardizer = Standardizer::fit(m.view());
    standardizer.apply_to_rows(&mut m);
    let l2 = settings.l2;
    let logistic = || LogisticRegression::fit(m.view(), &y, &w, l2);
    let mlp = || {
        let cfg = MlpConfig {
            l2,
            ..MlpConfig::default()
        };
        Mlp::fit(m.view(), &y, &w, &cfg)
    };
    let inputs = &settings.one_class_inputs;
    let gaussian = || {
        RealSpeechGaussian::fit(m.view(), &y, &w, inputs).ok_or_else(|| {
            Error::Config(format!(
                "no Gaussian of real speech can be fitted to {} of {d} statistics",
                inputs.iter().filter(|&&u| u).count()
            ))
        })
    };
    let classifier = match settings.kind {
        ClassifierKind::Logistic => Classifier::Logistic(logistic()),
        ClassifierKind::Mlp => Classifier::Mlp(mlp()),
        ClassifierKind::Fusion => Classifier::Fusion(Fusion {
            logistic: logistic(),
            mlp: mlp(),
        }),
        ClassifierKind::OneClass => Classifier::OneClass(gaussian()?),
        ClassifierKind::LogisticOneClass => {
            // The rows the narrowband Gaussian's test picks are measured against real
            // narrowband speech by the deviation model too (since 1.17.0).
            let (narrowband, narrow) =
                narrowband_gaussian(m.view(), &y, &w, &standardizer, settings).unzip();
            let deviation = match settings.deviation_weight {
                0.0 => None,
                weight => DeviationLogistic::fit(m.view(), &y, &w, narrow.as_deref(), inputs, l2)
                    .map(|d| (d, weight)),
            };
            let mut inputs = settings.logistic_inputs.clone();
            let limit = settings.source_shift_limit;
            if limit.is_finite() {
                let shifted = source_dependent(&real_clip_means(clips, feats, selected), d, limit);
                inputs
                    .iter_mut()
                    .zip(shifted)
                    .for_each(|(keep, s)| *keep &= !s);
            }
            let logistic = LogisticRegression::fit_inputs(m.view(), &y, &w, l2, &inputs)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "the logistic regression's inputs name {} statistics, the rows hold {d}",
                        inputs.len()
                    ))
                })?;
            Classifier::LogisticOneClass(Box::new(LogisticOneClass::new(
                logistic,
                gaussian()?,
                narrowband,
                deviation,
                m.view(),
                &w,
            )))
        }
    };
    let frame = if settings.frame_weight > 0.0 {
        let mut reals: Vec<usize> = selected
            .iter()
            .copied()
            .filter(|&i| clips[i].label == Label::Bonafide)
            .collect();
        reals.sort_unstable();
        let n_reals = reals.len();
        let gmm = cache
            .get_or_fit(reals, |reals| fit_frame_gmm(feats, reals))
            .ok_or_else(|| {
                Error::Config(format!(
                    "no frame model of real speech can be fitted to the loud frames of {n_reals} real clips"
                ))
            })?;
        let clean_rows: Vec<usize> = (0..segs.len()).filter(|&i| clean[i]).collect();
        Some(frame_term(
            Arc::unwrap_or_clone(gmm),
            &clean_rows,
            |i| {
                let z = m.row(i);
                (
                    classifier.logit(z.as_slice().expect("standard layout")),
                    segs[i].dynamics.view(),
                    w[i],
                )
            },
            settings.frame_weight,
        ))
    } else {
        None
    };
    Ok(Fitted {
        standardizer,
        classifier,
        frame,
    })
}

/// A frame mixture of real speech's dynamics, fitted on [`FRAME_MODEL_FRAMES`] frames spread
/// evenly over the clean copies of the real clips `reals` (every clip alike; no telephone or
/// degraded frame, so the mixture describes speech, not the training channels). `None` with
/// fewer frames than components.
fn fit_frame_gmm(feats: &[ClipFeatures], reals: &[usize]) -> Option<DiagonalGmm> {
    let clean: Vec<Array2<f32>> = reals
        .iter()
        .filter_map(|&i| {
            let segs = &feats[i].conditions[Condition::Clean as usize];
            let views: Vec<ArrayView2<'_, f32>> = segs.iter().map(|s| s.dynamics.view()).collect();
            concatenate(Axis(0), &views).ok()
        })
        .filter(|x| x.nrows() > 0)
        .collect();
    let per = (FRAME_MODEL_FRAMES / clean.len().max(1)).max(1);
    let sampled: Vec<ArrayView2<'_, f32>> = clean
        .iter()
        .map(|x| {
            let step = (x.nrows() / per).max(1);
            let kept = x.slice(ndarray::s![..;step, ..]);
            let n = kept.nrows().min(per);
            kept.slice_move(ndarray::s![..n, ..])
        })
        .collect();
    let frames = concatenate(Axis(0), &sampled).ok()?;
    DiagonalGmm::fit(frames.view(), &GmmConfig::default())
}

/// The frame term of `gmm`, centred and scaled on up to [`SPREAD_ROWS`] of the training rows
/// `candidates` so that its spread is `weight` times that of the classifier's score. `row(i)`
/// gives a row's classifier score, frame dynamics and weight. The rows are those of the clean
/// copies: the degraded copies' noise moves the frame model's score far more than it moves
/// speech, and would set its scale by the noise.
fn frame_term<'a>(
    gmm: DiagonalGmm,
    candidates: &[usize],
    row: impl Fn(usize) -> (f64, ArrayView2<'a, f32>, f64) + Sync,
    weight: f64,
) -> FrameTerm {
    let step = (candidates.len() / SPREAD_ROWS).max(1);
    let picked: Vec<usize> = candidates.iter().copied().step_by(step).collect();
    let scored: Vec<(f64, f64, f64)> = picked
        .par_iter()
        .map(|&i| {
            let (score, dynamics, w) = row(i);
            let ll = gmm.mean_log_likelihood(dynamics).unwrap_or(0.0);
            (-ll, score, w)
        })
        .collect();
    let column = |f: fn(&(f64, f64, f64)) -> f64| scored.iter().map(f).collect::<Vec<f64>>();
    let w = column(|r| r.2);
    let (offset, spread) = weighted_mean_spread(&column(|r| r.0), &w);
    let (_, classifier_spread) = weighted_mean_spread(&column(|r| r.1), &w);
    FrameTerm::new(gmm, offset, spread / (weight * classifier_spread))
}

/// Fold of a clip for grouped cross-validation: spoofs by generator, bonafide by speaker, so a
/// held-out fold never shares a generator or a real speaker with its training folds.
pub fn fold_of(clip: &Clip, systems: &[&str], k: usize) -> usize {
    match clip.label {
        Label::Spoof => systems.iter().position(|s| *s == clip.system).unwrap_or(0) % k,
        Label::Bonafide => stable_hash(&clip.speaker) as usize % k,
    }
}

/// A hash that is the same on every machine and run (SHA-256 prefix).
pub fn stable_hash(s: &str) -> u64 {
    let d = Sha256::digest(s.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// A fitted classifier with the calibration that turns its log-odds into log-likelihood ratios.
#[derive(Debug, Clone)]
pub struct Calibrated {
    /// Standardiser and classifier.
    pub fitted: Fitted,
    /// Platt scaling fitted on out-of-fold scores.
    pub calibration: Platt,
}

impl Calibrated {
    /// A clip's calibrated log-likelihood ratio (speech-weighted mean over its segments).
    pub fn clip_llr(&self, segments: &[SegmentStats]) -> Option<f64> {
        self.fitted
            .clip_logit(segments)
            .map(|z| self.calibration.logit(z))
    }
}

/// Fits the classifier on all `selected` clips and its calibration on out-of-fold segment
/// scores from `k` folds that hold out whole generators (spoof) and whole speakers (bonafide).
/// Frame models come from `cache` when it holds them.
pub fn fit_calibrated(
    clips: &[Clip],
    feats: &[ClipFeatures],
    selected: &[usize],
    k: usize,
    settings: &FitSettings,
    cache: &FrameModelCache,
) -> Result<Calibrated> {
    let systems: Vec<&str> = clips_per(clips, selected, Label::Spoof, |c| &c.system)
        .into_keys()
        .collect();
    let k = k.max(2);
    let (mut raw, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for fold in 0..k {
        let (test, train): (Vec<usize>, Vec<usize>) = selected
            .iter()
            .partition(|&&i| fold_of(&clips[i], &systems, k) == fold);
        if test.is_empty() || train.is_empty() {
            continue;
        }
        let fitted = fit(clips, feats, &train, settings, cache)?;
        let test_rows = rows(clips, feats, &test);
        raw.extend(test_rows.segs.iter().map(|s| fitted.segment_logit(s)));
        y.extend(test_rows.y);
        w.extend(test_rows.w);
    }
    Ok(Calibrated {
        calibration: Platt::fit(&raw, &y, &w),
        fitted: fit(clips, feats, selected, settings, cache)?,
    })
}

/// Trains a complete model: classifier on all `selected` clips, calibration on out-of-fold
/// segment scores.
pub fn train_model(
    clips: &[Clip],
    feats: &[ClipFeatures],
    selected: &[usize],
    cfg: &TrainConfig,
    provenance: serde_json::Value,
) -> Result<ModelFile> {
    let systems: Vec<&str> = clips_per(clips, selected, Label::Spoof, |c| &c.system)
        .into_keys()
        .collect();
    let k = cfg.folds.max(2);
    let Calibrated {
        fitted,
        calibration,
    } = fit_calibrated(
        clips,
        feats,
        selected,
        k,
        &cfg.fit,
        &FrameModelCache::default(),
    )?;
    let sources = clips_per(clips, selected, Label::Bonafide, |c| &c.corpus);
    let n_bona: usize = sources.values().sum();
    let mut training = json!({
        "data": provenance,
        "clips": selected.len(),
        "bonafide_clips": n_bona,
        "spoof_clips": selected.len() - n_bona,
        "spoof_systems": systems,
        "bonafide_sources": sources,
        "weighting": "each class half; each generator an equal share of the spoof half; each real source (corpus column) a share of the bonafide half proportional to the square root of its clip count; each clip an equal share of its generator's or source's",
        "augmentation": [
            "clean",
            "telephone: 8 kHz resampling, band-pass 300 Hz to 3.0-3.8 kHz (per clip, from a hash of its file name), G.711 mu-law (continuous curve)",
            "degraded: crop to 60-100 % (at least 3 s), noise with 1/f^a spectrum (a in 0..2) at 10-30 dB SNR, gain -20..+6 dB with clipping, half of them also through a telephone channel (that one or GSM 06.10 at 8 kHz, libgsm, in equal shares) and, independently, half through a simulated lossy coder (STFT 512/256, low-pass at 5-7.5 kHz, components 30-50 dB below the frame's strongest dropped, magnitudes quantised in 1-6 dB steps)"
        ],
        "augmentation_seed": cfg.seed,
        "l2": cfg.fit.l2,
        "calibration_folds": k,
        "segment": cfg.analysis.segments,
        "voxguard_version": env!("CARGO_PKG_VERSION"),
    });
    if cfg.fit.kind == ClassifierKind::LogisticOneClass {
        training["one_class_weight"] = json!(LogisticOneClass::ONE_CLASS_WEIGHT);
        // Recorded when it can leave anything out (`inf` fits and writes as before 1.22.0).
        if cfg.fit.source_shift_limit.is_finite() {
            training["source_shift_limit"] = json!(cfg.fit.source_shift_limit);
        }
    }
    let deviation = match &fitted.classifier {
        Classifier::LogisticOneClass(f) => f.deviation.as_ref(),
        _ => None,
    };
    if let Some(d) = deviation {
        let real = match d.has_narrowband() {
            true => {
                "the mean and standard deviation of real segments of the row's channel (narrowband by the narrowband Gaussian's test, or full band)"
            }
            false => "the mean and standard deviation of every real segment",
        };
        training["deviation"] = json!({
            "inputs": "the one-class Gaussian's",
            "distance": format!("|z - real mean| / real standard deviation, capped at {DISTANCE_CAP}"),
            "real": real,
            "weight": cfg.fit.deviation_weight,
        });
    }
    let narrowband =
        matches!(&fitted.classifier, Classifier::LogisticOneClass(f) if f.narrowband.is_some());
    if narrowband {
        training["narrowband_gaussian"] = json!({
            "rows": format!("real segments whose sub-bands above 4 kHz all lie below {NARROWBAND_FLOOR_DB} dB relative energy (telephone copies, degraded copies through a telephone channel)"),
            "scores": "narrowband segments, in the place of the Gaussian of all real segments",
        });
    }
    if let Some(frame) = &fitted.frame {
        training["frame_model"] = json!({
            "inputs": "first and second derivatives (Savitzky-Golay, 9 frames) of LFCC c0..c19 over the joined frames of each segment within 30 dB of its loudest and above -60 dBFS, every second frame",
            "training_frames": FRAME_MODEL_FRAMES,
            "frames_from": "clean copies of the real clips, every clip alike",
            "components": frame.gmm.components(),
            "weight": cfg.fit.frame_weight,
        });
    }
    if matches!(cfg.fit.kind, ClassifierKind::Mlp | ClassifierKind::Fusion) {
        let m = MlpConfig::default();
        training["mlp"] = json!({
            "hidden_units": m.hidden,
            "epochs": m.epochs,
            "batch_rows": m.batch,
            "learning_rate": m.learning_rate,
            "init_seed": m.seed,
        });
    }
    Ok(ModelFile {
        format: MODEL_FORMAT.into(),
        format_version: MODEL_FORMAT_VERSION,
        name: match cfg.fit.kind {
            ClassifierKind::Logistic => "voxguard-lfcc-logreg",
            ClassifierKind::Mlp => "voxguard-lfcc-mlp",
            ClassifierKind::Fusion => "voxguard-lfcc-logreg-mlp",
            ClassifierKind::OneClass => "voxguard-lfcc-oneclass",
            ClassifierKind::LogisticOneClass => "voxguard-lfcc-logreg-oneclass",
        }
        .into(),
        version: "1.0.0".into(),
        description: format!(
            "{}{}{} on pooled LFCC, band-energy and flatness statistics of 4 s speech segments{}; \
             Platt-calibrated on generator- and speaker-held-out folds",
            cfg.fit.kind.description(),
            match narrowband {
                true =>
                    ", narrowband audio measured against a second Gaussian of real narrowband speech,",
                false => "",
            },
            match deviation {
                Some(d) => format!(
                    " plus a logistic regression of how far the Gaussian's statistics lie from real \
                     speech{} (weight {}),",
                    if d.has_narrowband() {
                        " of the segment's channel"
                    } else {
                        ""
                    },
                    cfg.fit.deviation_weight
                ),
                None => String::new(),
            },
            match &fitted.frame {
                Some(_) => format!(
                    ", plus a Gaussian mixture of real speech's frame-to-frame cepstral \
                     dynamics (weight {})",
                    cfg.fit.frame_weight
                ),
                None => String::new(),
            }
        ),
        stats: stat_names(&cfg.analysis.features),
        features: cfg.analysis.features.clone(),
        standardizer: fitted.standardizer,
        classifier: fitted.classifier,
        frame_model: fitted.frame,
        calibration,
        training,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(label: Label, corpus: &str) -> Clip {
        Clip {
            path: "x".into(),
            label,
            system: match label {
                Label::Bonafide => "bonafide".into(),
                Label::Spoof => "tts".into(),
            },
            speaker: String::new(),
            corpus: corpus.into(),
        }
    }

    #[test]
    fn real_sources_share_by_the_square_root_of_their_size() {
        // 16 clips of one source, 4 of another, 1 spoof clip (which gets no bonafide weight).
        let mut clips = vec![clip(Label::Bonafide, "big"); 16];
        clips.extend(vec![clip(Label::Bonafide, "small"); 4]);
        clips.push(clip(Label::Spoof, "big"));
        let all: Vec<usize> = (0..clips.len()).collect();
        let w = bonafide_weights(&clips, &all);
        // Shares 4 : 2 of the bonafide half, so 2/3 and 1/3; per clip 1/24 and 1/12.
        assert!((w["big"] - 1.0 / 24.0).abs() < 1e-12, "{w:?}");
        assert!((w["small"] - 1.0 / 12.0).abs() < 1e-12, "{w:?}");
        let total: f64 = all
            .iter()
            .filter(|&&i| clips[i].label == Label::Bonafide)
            .map(|&i| w[clips[i].corpus.as_str()])
            .sum();
        assert!((total - 1.0).abs() < 1e-12);

        // Only the selected clips count: without the small source, each big clip gets 1/16.
        let w = bonafide_weights(&clips, &(0..16).collect::<Vec<_>>());
        assert_eq!(w.len(), 1);
        assert!((w["big"] - 1.0 / 16.0).abs() < 1e-12);
    }

    #[test]
    fn a_manifest_without_sources_weighs_every_real_clip_alike() {
        let clips = vec![clip(Label::Bonafide, ""); 5];
        let w = bonafide_weights(&clips, &[0, 1, 2, 3, 4]);
        assert!((w[""] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn real_narrowband_rows_get_a_gaussian_of_their_own() {
        let feat = FeatureConfig::default();
        let settings = FitSettings::new(&feat);
        let d = stat_names(&feat).len();
        // Rows alternate full band and narrowband (every band above 4 kHz at -100 dB), real and
        // synthetic, with other statistics from a fixed pseudo-random sequence.
        let segs: Vec<SegmentStats> = (0..240)
            .map(|i| {
                let mut stats: Vec<f32> = (0..d)
                    .map(|j| ((i * 31 + j * 17) % 23) as f32 / 7.0 - 1.5)
                    .collect();
                for &b in &settings.narrowband_bands {
                    stats[b] = if i % 2 == 0 { -40.0 } else { -100.0 };
                }
                SegmentStats {
                    speech_s: 1.0,
                    stats,
                    dynamics: Array2::zeros((0, 0)),
                }
            })
            .collect();
        let y: Vec<f64> = (0..240).map(|i| f64::from(u8::from(i % 4 >= 2))).collect();
        let w = vec![1.0; 240];
        let mut m = Array2::<f64>::zeros((240, d));
        for (mut row, s) in m.rows_mut().into_iter().zip(&segs) {
            row.iter_mut()
                .zip(&s.stats)
                .for_each(|(a, &b)| *a = f64::from(b));
        }
        let standardizer = Standardizer::fit(m.view());
        standardizer.apply_to_rows(&mut m);
        let (fitted, narrow) = narrowband_gaussian(m.view(), &y, &w, &standardizer, &settings)
            .expect("60 real narrowband rows");
        for (i, row) in m.rows().into_iter().enumerate() {
            assert_eq!(fitted.applies(&row.to_vec()), i % 2 == 1, "row {i}");
            assert_eq!(narrow[i], i % 2 == 1, "row {i}");
        }
        // The Gaussian is that of the real narrowband rows alone (every 4th row from the 2nd).
        let only: Vec<f64> = (0..240).map(|i| f64::from(u8::from(i % 4 == 1))).collect();
        let own = RealSpeechGaussian::fit(m.view(), &y, &only, &settings.one_class_inputs).unwrap();
        let below = settings
            .narrowband_bands
            .iter()
            .map(|&i| (-75.0 - standardizer.mean[i]) / standardizer.scale[i])
            .collect();
        assert_eq!(
            fitted,
            NarrowbandGaussian::new(own, settings.narrowband_bands.clone(), below)
        );
        // One Gaussian when asked, or when too few real rows are narrowband.
        let one = FitSettings {
            narrowband_bands: Vec::new(),
            ..settings.clone()
        };
        assert!(narrowband_gaussian(m.view(), &y, &w, &standardizer, &one).is_none());
        // The first 100 rows hold 25 real narrowband ones.
        let n = 2 * MIN_NARROWBAND_REAL_ROWS;
        let fewer = m.slice(ndarray::s![..n, ..]);
        let few = narrowband_gaussian(fewer, &y[..n], &w[..n], &standardizer, &settings);
        assert!(few.is_none());
    }

    #[test]
    fn the_logistic_regression_leaves_out_what_tells_real_sources_apart() {
        let feat = FeatureConfig::default();
        let d = stat_names(&feat).len();
        let names = stat_names(&feat);
        let shifted = names.iter().position(|n| n == "log2_f0_step_mean").unwrap();
        // 20 real clips of a large source, 10 of a small one, 20 synthetic: every statistic
        // from a fixed pseudo-random sequence, but `shifted` lies 3 higher in the small
        // source's real clips and in the synthetic ones, so it tells the classes apart partly.
        let sources = ["big"; 20].into_iter().chain(["small"; 10]);
        let mut clips: Vec<Clip> = sources.map(|s| clip(Label::Bonafide, s)).collect();
        clips.extend((0..20).map(|_| clip(Label::Spoof, "")));
        let feats: Vec<ClipFeatures> = (0..clips.len())
            .map(|i| {
                let segs = (0..2)
                    .map(|k| {
                        let mut stats: Vec<f32> = (0..d)
                            .map(|j| ((i * 31 + k * 7 + j * 17) % 23) as f32 / 7.0 - 1.5)
                            .collect();
                        if i >= 20 {
                            stats[shifted] += 3.0;
                        }
                        SegmentStats {
                            speech_s: 1.0 + k as f64,
                            stats,
                            dynamics: Array2::zeros((0, 0)),
                        }
                    })
                    .collect();
                let mut conditions: [Vec<SegmentStats>; CONDITIONS] = Default::default();
                conditions[Condition::Clean as usize] = segs;
                ClipFeatures { conditions }
            })
            .collect();
        let all: Vec<usize> = (0..clips.len()).collect();
        // Each real clip's mean is weighted by its segments' speech; synthetic clips are left out.
        let means = real_clip_means(&clips, &feats, &all);
        assert_eq!(means.len(), 30);
        let s = &feats[0].conditions[0];
        let expected = (f64::from(s[0].stats[3]) + 2.0 * f64::from(s[1].stats[3])) / 3.0;
        assert!((means[0].stats[3] - expected).abs() < 1e-9);
        assert_eq!((means[0].source, means[29].source), ("big", "small"));

        let settings = FitSettings {
            frame_weight: 0.0,
            deviation_weight: 0.0,
            narrowband_bands: Vec::new(),
            ..FitSettings::new(&feat)
        };
        let weights = |limit| {
            let settings = FitSettings {
                source_shift_limit: limit,
                ..settings.clone()
            };
            let fitted = fit(&clips, &feats, &all, &settings, &FrameModelCache::default());
            match fitted.unwrap().classifier {
                Classifier::LogisticOneClass(f) => f.logistic.weights,
                _ => panic!("the shipped type"),
            }
        };
        assert!(weights(f64::INFINITY)[shifted] > 0.0, "kept, it is read");
        let limited = weights(1.0);
        assert_eq!(
            limited[shifted], 0.0,
            "shifted by about 3 spreads, left out"
        );
        assert!(limited.iter().filter(|&&w| w != 0.0).count() > 30);
    }

    #[test]
    fn the_frame_model_cache_fits_each_set_of_real_clips_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = FrameModelCache::default();
        let calls = AtomicUsize::new(0);
        let frames = Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f32);
        let fit = |_: &[usize]| {
            calls.fetch_add(1, Ordering::SeqCst);
            let cfg = GmmConfig {
                components: 2,
                ..GmmConfig::default()
            };
            DiagonalGmm::fit(frames.view(), &cfg)
        };
        let a = cache.get_or_fit(vec![1, 2], fit).unwrap();
        let b = cache.get_or_fit(vec![1, 2], fit).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let c = cache.get_or_fit(vec![1, 3], fit).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(*c, *a, "the same frames give the same mixture");
        // A set no mixture can be fitted to is not cached: asked again, it is tried again.
        assert!(cache.get_or_fit(vec![4], |_| None).is_none());
        assert!(cache.get_or_fit(vec![4], fit).is_some());
    }
}
