//! Measuring detectors: per-generator (or per-family) tables of EER, minimum detection cost and
//! Cllr, and cross-validation that holds out whole generators, whole families or whole
//! speakers, every fold model calibrated on its own training data.

pub mod metrics;

pub use metrics::{cllr, eer, error_rates, min_dcf, reliability};

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::dataset::{Clip, Label};
use crate::error::{Error, Result};
use crate::train::{
    Calibrated, ClipFeatures, Condition, FitSettings, FrameModelCache, fit_calibrated, stable_hash,
};

/// Metrics of one generator (or family, or all pooled) against real speech, with counts.
#[derive(Debug, Clone, Serialize)]
pub struct SystemMetrics {
    /// Generator or family id.
    pub system: String,
    /// Spoof clips scored.
    pub spoof: usize,
    /// Bonafide clips scored.
    pub bonafide: usize,
    /// Equal error rate, 0..1.
    pub eer: f64,
    /// Minimum normalised detection cost (ASVspoof 5 parameters).
    pub min_dcf: f64,
    /// Log-likelihood-ratio cost in bits of the calibrated scores.
    pub cllr: f64,
}

impl SystemMetrics {
    fn of(system: &str, bonafide: &[f64], spoof: &[f64]) -> Self {
        Self {
            system: system.to_string(),
            spoof: spoof.len(),
            bonafide: bonafide.len(),
            eer: eer(bonafide, spoof),
            min_dcf: min_dcf(bonafide, spoof),
            cllr: cllr(bonafide, spoof),
        }
    }
}

/// One clip's score as it was added to a [`ScoreSet`], for writing every score out.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredClip {
    /// Index of the clip in the manifest.
    pub index: usize,
    /// The row it counts in: its system as the set was keyed (e.g. its family).
    pub group: String,
    /// Calibrated log-likelihood ratio.
    pub llr: f64,
}

/// Calibrated log-likelihood ratios of clips under one condition, split by label and system.
#[derive(Debug, Default, Clone)]
pub struct ScoreSet {
    /// Bonafide clip scores.
    pub bonafide: Vec<f64>,
    /// Spoof clip scores by system.
    pub spoof: BTreeMap<String, Vec<f64>>,
    /// Every score in the order added (also to count distinct clips across folds).
    pub scored: Vec<ScoredClip>,
}

impl ScoreSet {
    /// Adds a clip's score.
    pub fn add(&mut self, index: usize, clip: &Clip, score: f64) {
        self.scored.push(ScoredClip {
            index,
            group: clip.system.clone(),
            llr: score,
        });
        match clip.label {
            Label::Bonafide => self.bonafide.push(score),
            Label::Spoof => self
                .spoof
                .entry(clip.system.clone())
                .or_default()
                .push(score),
        }
    }

    /// All spoof scores.
    pub fn all_spoof(&self) -> Vec<f64> {
        self.spoof.values().flatten().copied().collect()
    }

    /// Metrics of all spoofs against all bonafide clips.
    pub fn pooled(&self) -> SystemMetrics {
        SystemMetrics::of("pooled", &self.bonafide, &self.all_spoof())
    }

    /// Per-system metrics against all bonafide clips.
    pub fn per_system(&self) -> Vec<SystemMetrics> {
        self.spoof
            .iter()
            .map(|(system, s)| SystemMetrics::of(system, &self.bonafide, s))
            .collect()
    }
}

/// Clip scores (calibrated log-likelihood ratios) of a model on the clean clips (`sets[0]`) and
/// on their `copy` (`sets[1]`: the telephone or the noisy copy).
pub fn score_clips(
    model: &Calibrated,
    clips: &[Clip],
    feats: &[ClipFeatures],
    which: &[usize],
    copy: Condition,
    sets: &mut [ScoreSet; 2],
) {
    for &i in which {
        for (set, cond) in sets.iter_mut().zip([Condition::Clean, copy]) {
            if let Some(s) = model.clip_llr(&feats[i].conditions[cond as usize]) {
                set.add(i, &clips[i], s);
            }
        }
    }
}

/// Per-system metrics and the pooled metrics over folds, where each fold's scores come from one
/// model: a system's figure is the mean over the folds that scored it of its figure against that
/// fold's bonafide clips, and the pooled figure is the mean of the folds' pooled figures.
/// (Scores of different models are never mixed in one EER: their offsets differ and would
/// inflate it.)
pub fn summarize(clips: &[Clip], folds: &[ScoreSet]) -> (Vec<SystemMetrics>, SystemMetrics) {
    let mut per: BTreeMap<String, Vec<SystemMetrics>> = BTreeMap::new();
    let mut pooled = Vec::new();
    let mut seen = BTreeSet::new();
    for f in folds
        .iter()
        .filter(|f| !f.bonafide.is_empty() && !f.spoof.is_empty())
    {
        for row in f.per_system() {
            per.entry(row.system.clone()).or_default().push(row);
        }
        pooled.push(f.pooled());
        seen.extend(f.scored.iter().map(|c| c.index));
    }
    let count = |pred: &dyn Fn(&Clip) -> bool| seen.iter().filter(|&&i| pred(&clips[i])).count();
    let bonafide = count(&|c| c.label == Label::Bonafide);
    let rows = per
        .into_iter()
        .map(|(system, rows)| {
            let spoof = count(&|c| c.label == Label::Spoof && c.system == system);
            SystemMetrics {
                spoof,
                bonafide,
                ..mean_metrics(&system, &rows)
            }
        })
        .collect();
    let mut total = mean_metrics("pooled", &pooled);
    total.bonafide = bonafide;
    total.spoof = count(&|c| c.label == Label::Spoof);
    (rows, total)
}

/// The mean of each metric over `rows`.
pub fn mean_metrics(name: &str, rows: &[SystemMetrics]) -> SystemMetrics {
    let n = rows.len().max(1) as f64;
    let mean = |f: fn(&SystemMetrics) -> f64| rows.iter().map(f).sum::<f64>() / n;
    SystemMetrics {
        system: name.to_string(),
        spoof: rows.iter().map(|r| r.spoof).sum(),
        bonafide: rows.iter().map(|r| r.bonafide).sum(),
        eer: mean(|r| r.eer),
        min_dcf: mean(|r| r.min_dcf),
        cllr: mean(|r| r.cllr),
    }
}

/// How cross-validation folds are drawn.
#[derive(Debug, Clone)]
pub struct CvConfig {
    /// Folds of real speakers.
    pub k: usize,
    /// Changes which real speakers share a fold (0 is the recorded default).
    pub seed: u64,
    /// The copy scored beside the clean clips: telephone or noisy.
    pub copy: Condition,
    /// What every fold model fits (model type, penalty, frame model).
    pub fit: FitSettings,
    /// Also remove from training the voices (speakers) of the held-out group's synthetic clips,
    /// real and synthetic alike, so a model never hears a voice it is tested on.
    pub hold_out_voices: bool,
}

/// The real-speaker fold of a clip under `seed`.
fn speaker_fold(clip: &Clip, cv: &CvConfig) -> usize {
    let key = if cv.seed == 0 {
        clip.speaker.clone()
    } else {
        format!("{}/{}", cv.seed, clip.speaker)
    };
    stable_hash(&key) as usize % cv.k
}

/// `clips` with each spoof clip's system replaced by its group (e.g. its family); real clips
/// unchanged.
pub fn regroup(clips: &[Clip], group: &dyn Fn(&str) -> Result<String>) -> Result<Vec<Clip>> {
    clips
        .iter()
        .map(|c| {
            Ok(match c.label {
                Label::Spoof => Clip {
                    system: group(&c.system)?,
                    ..c.clone()
                },
                Label::Bonafide => c.clone(),
            })
        })
        .collect()
}

/// Leave one group out, where `grouped` is `clips` with each spoof's system replaced by its
/// group ([`regroup`]; `clips` itself for leave-one-system-out): for each group G and each of `k`
/// folds of real speakers, a model is trained (and calibrated) without G and without that fold's
/// speakers (with `hold_out_voices`, also without any clip in a voice of G's synthetic clips),
/// and scores G's clips and the fold's real clips. Returns, per condition, one score
/// set per (group, fold), with spoof scores keyed by group.
pub fn cv_groups(
    clips: &[Clip],
    grouped: &[Clip],
    feats: &[ClipFeatures],
    cv: &CvConfig,
) -> Result<[Vec<ScoreSet>; 2]> {
    let groups: BTreeSet<&str> = grouped
        .iter()
        .filter(|c| c.label == Label::Spoof)
        .map(|c| c.system.as_str())
        .collect();
    // Every (group, fold) model is independent: fit them in parallel, keep their order.
    let jobs: Vec<(&str, usize)> = groups
        .into_iter()
        .flat_map(|held| (0..cv.k).map(move |fold| (held, fold)))
        .collect();
    let cache = FrameModelCache::default();
    let results = jobs
        .par_iter()
        .map(|&(held, fold)| {
            let (test, train) = fold_split(grouped, held, fold, cv);
            // Calibration folds inside training follow the original generators.
            run_fold(clips, grouped, feats, &train, &test, cv, &cache)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(split(results))
}

/// Test and training clips of one (group, fold) model: the test clips are `held`'s synthetic
/// clips and the real clips of speaker fold `fold`; training is the rest, less (with
/// `hold_out_voices`) every clip in a voice of `held`'s synthetic clips.
fn fold_split(
    grouped: &[Clip],
    held: &str,
    fold: usize,
    cv: &CvConfig,
) -> (Vec<usize>, Vec<usize>) {
    let is_test = |c: &Clip| match c.label {
        Label::Bonafide => speaker_fold(c, cv) == fold,
        Label::Spoof => c.system == held,
    };
    let held_voices: BTreeSet<&str> = grouped
        .iter()
        .filter(|c| cv.hold_out_voices && c.label == Label::Spoof && c.system == held)
        .map(|c| c.speaker.as_str())
        .collect();
    let (test, train): (Vec<usize>, Vec<usize>) =
        (0..grouped.len()).partition(|&i| is_test(&grouped[i]));
    let train = train
        .into_iter()
        .filter(|&i| !held_voices.contains(grouped[i].speaker.as_str()))
        .collect();
    (test, train)
}

/// Per-fold pairs of score sets into one list per condition.
fn split(results: Vec<[ScoreSet; 2]>) -> [Vec<ScoreSet>; 2] {
    let mut out: [Vec<ScoreSet>; 2] = Default::default();
    for [clean, phone] in results {
        out[0].push(clean);
        out[1].push(phone);
    }
    out
}

/// Speaker-held-out `k`-fold cross-validation (folds grouped by speaker or voice; generators
/// are seen in training). Returns, per condition, one score set per fold.
pub fn cv_speakers(
    clips: &[Clip],
    feats: &[ClipFeatures],
    cv: &CvConfig,
) -> Result<[Vec<ScoreSet>; 2]> {
    let cache = FrameModelCache::default();
    let results = (0..cv.k)
        .into_par_iter()
        .filter_map(|fold| {
            let in_fold = |i: &usize| speaker_fold(&clips[*i], cv) == fold;
            let (test, train): (Vec<usize>, Vec<usize>) = (0..clips.len()).partition(in_fold);
            (!test.is_empty()).then(|| run_fold(clips, clips, feats, &train, &test, cv, &cache))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(split(results))
}

/// Trains and calibrates on `train` (with `clips`' labels and generators) and scores `test`
/// under both conditions (keyed by `keyed`'s systems), its frame models shared through `cache`.
fn run_fold(
    clips: &[Clip],
    keyed: &[Clip],
    feats: &[ClipFeatures],
    train: &[usize],
    test: &[usize],
    cv: &CvConfig,
    cache: &FrameModelCache,
) -> Result<[ScoreSet; 2]> {
    let mut sets: [ScoreSet; 2] = Default::default();
    let model = fit_calibrated(clips, feats, train, cv.k, &cv.fit, cache)?;
    score_clips(&model, keyed, feats, test, cv.copy, &mut sets);
    Ok(sets)
}

/// Generator families from a `system,family` CSV (header required). Every spoof system must be
/// listed.
#[derive(Debug, Clone)]
pub struct Families {
    map: BTreeMap<String, String>,
    source: String,
}

/// The family mapping kept with the shipped model.
pub const BUILTIN_FAMILIES: &str = include_str!("../../models/families.csv");

impl Families {
    /// Parses the mapping; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        Ok(Self {
            map: parse_pairs(text, source, "system,family")?,
            source: source.to_string(),
        })
    }

    /// The family of `system`.
    pub fn family(&self, system: &str) -> Result<String> {
        self.map
            .get(system)
            .cloned()
            .ok_or_else(|| Error::Manifest {
                path: self.source.clone().into(),
                reason: format!(
                    "generator {system:?} has no family; add a `{system},<family>` line"
                ),
            })
    }
}

/// A two-column CSV with the given `header` as a map from the first column to the second.
fn parse_pairs(text: &str, source: &str, header: &str) -> Result<BTreeMap<String, String>> {
    let bad = |why: String| Error::Manifest {
        path: source.into(),
        reason: why,
    };
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    match lines.next().map(str::trim) {
        Some(h) if h == header => {}
        other => {
            return Err(bad(format!(
                "expected the header `{header}`, got {other:?}"
            )));
        }
    }
    let mut map = BTreeMap::new();
    for (n, line) in lines.enumerate() {
        let (key, value) = line
            .split_once(',')
            .ok_or_else(|| bad(format!("line {}: expected `{header}`", n + 2)))?;
        map.insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok(map)
}

/// Speaker names that are one voice (a `speaker,voice` CSV), for holding voices out of
/// training: a corpus may name one speaker differently in its sources. Unlisted speakers are
/// their own voice.
#[derive(Debug, Clone)]
pub struct Voices {
    map: BTreeMap<String, String>,
}

/// The voice mapping of `../shared/corpus`, kept with the model.
pub const BUILTIN_VOICES: &str = include_str!("../../models/voices.csv");

impl Voices {
    /// Parses the mapping; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        Ok(Self {
            map: parse_pairs(text, source, "speaker,voice")?,
        })
    }

    /// `clips` with each speaker replaced by its voice.
    pub fn apply(&self, clips: &[Clip]) -> Vec<Clip> {
        clips
            .iter()
            .map(|c| Clip {
                speaker: self.map.get(&c.speaker).unwrap_or(&c.speaker).clone(),
                ..c.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings of a fold model the folding tests never fit.
    fn settings() -> FitSettings {
        FitSettings {
            kind: crate::model::classifier::ClassifierKind::Logistic,
            l2: 1.0,
            one_class_inputs: Vec::new(),
            logistic_inputs: Vec::new(),
            source_shift_limit: f64::INFINITY,
            frame_weight: 0.0,
            narrowband_bands: Vec::new(),
            deviation_weight: 0.0,
        }
    }

    #[test]
    fn builtin_families_cover_the_five_kinds() {
        let f = Families::parse(BUILTIN_FAMILIES, "builtin").unwrap();
        assert_eq!(f.family("hifigan").unwrap(), "neural-vocoder");
        assert_eq!(f.family("world-resynth").unwrap(), "vocoder-resynthesis");
        let kinds: BTreeSet<String> = f.map.values().cloned().collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        let err = f.family("new-tts").unwrap_err().to_string();
        assert!(err.contains("new-tts"), "{err}");
        assert!(Families::parse("a,b\nx,y\n", "f").is_err());
    }

    #[test]
    fn builtin_voices_join_the_lj_speech_names_and_keep_the_rest() {
        let v = Voices::parse(BUILTIN_VOICES, "builtin").unwrap();
        let clip = |speaker: &str| Clip {
            path: "x".into(),
            label: Label::Bonafide,
            system: "bonafide".into(),
            speaker: speaker.into(),
            corpus: String::new(),
        };
        let names = ["ljspeech_linda_johnson", "melgan_tts_linda", "LJ", "p225"];
        let voiced: Vec<String> = v
            .apply(&names.map(clip))
            .into_iter()
            .map(|c| c.speaker)
            .collect();
        assert_eq!(voiced, ["LJ", "LJ", "LJ", "p225"]);
        assert!(Voices::parse("speaker,family\nx,y\n", "f").is_err());
    }

    #[test]
    fn held_out_voices_leave_training_in_both_classes() {
        let clip = |label, system: &str, speaker: &str| Clip {
            path: format!("{system}/{speaker}").into(),
            label,
            system: system.into(),
            speaker: speaker.into(),
            corpus: String::new(),
        };
        let clips = vec![
            clip(Label::Spoof, "vocoder", "lj"),
            clip(Label::Spoof, "tts", "lj"),
            clip(Label::Spoof, "tts", "slt"),
            clip(Label::Bonafide, "bonafide", "lj"),
            clip(Label::Bonafide, "bonafide", "other"),
        ];
        let cv = |hold_out_voices| CvConfig {
            k: 5,
            seed: 0,
            copy: Condition::Telephone,
            fit: settings(),
            hold_out_voices,
        };
        // A fold that holds neither real speaker, so only `vocoder` is tested.
        let fold = (0..5)
            .find(|&f| clips[3..].iter().all(|c| speaker_fold(c, &cv(false)) != f))
            .unwrap();
        assert_eq!(
            fold_split(&clips, "vocoder", fold, &cv(false)),
            (vec![0], vec![1, 2, 3, 4])
        );
        // The `lj` voice is gone from training, synthetic and real.
        assert_eq!(
            fold_split(&clips, "vocoder", fold, &cv(true)),
            (vec![0], vec![2, 4])
        );
    }

    #[test]
    fn seed_zero_keeps_the_recorded_folds_and_others_reshuffle() {
        let clip = |s: &str| Clip {
            path: "x".into(),
            label: Label::Bonafide,
            system: "bonafide".into(),
            speaker: s.into(),
            corpus: String::new(),
        };
        let cv = |seed| CvConfig {
            k: 5,
            seed,
            copy: Condition::Telephone,
            fit: settings(),
            hold_out_voices: false,
        };
        let speakers: Vec<Clip> = (0..50).map(|i| clip(&format!("spk{i}"))).collect();
        let folds = |seed| {
            speakers
                .iter()
                .map(|c| speaker_fold(c, &cv(seed)))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            folds(0),
            speakers
                .iter()
                .map(|c| stable_hash(&c.speaker) as usize % 5)
                .collect::<Vec<_>>()
        );
        assert_ne!(folds(0), folds(1));
        assert_eq!(folds(1), folds(1));
    }
}
