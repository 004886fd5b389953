//! Measuring detectors: equal error rate, per-generator tables, and cross-validation that holds
//! out whole generators (leave-one-system-out) or whole speakers.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::dataset::{Clip, Label};
use crate::error::Result;
use crate::train::{ClipFeatures, Condition, Fitted, fit, spoof_systems, stable_hash};

/// Equal error rate of scores where higher means "spoof": the rate at which the fraction of
/// bonafide scored at or above a threshold equals the fraction of spoofs scored below it
/// (linear interpolation between the two closest thresholds).
pub fn eer(bonafide: &[f64], spoof: &[f64]) -> f64 {
    if bonafide.is_empty() || spoof.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = bonafide
        .iter()
        .map(|&s| (s, false))
        .chain(spoof.iter().map(|&s| (s, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (nb, ns) = (bonafide.len() as f64, spoof.len() as f64);
    // Threshold below everything: FAR (bonafide accepted as spoof) = 1, FRR (spoof missed) = 0.
    let (mut far, mut frr) = (1.0, 0.0);
    let mut prev = (far, frr);
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        while i < all.len() && all[i].0 == t {
            if all[i].1 {
                frr += 1.0 / ns;
            } else {
                far -= 1.0 / nb;
            }
            i += 1;
        }
        if frr >= far {
            let (f0, r0) = prev;
            let denom = (frr - r0) - (far - f0);
            let a = if denom.abs() < 1e-15 {
                0.0
            } else {
                (f0 - r0) / denom
            };
            return f0 + a * (far - f0);
        }
        prev = (far, frr);
    }
    0.0
}

/// EER for one generator, with counts.
#[derive(Debug, Clone, Serialize)]
pub struct SystemEer {
    /// Generator id.
    pub system: String,
    /// Spoof clips scored.
    pub spoof: usize,
    /// Bonafide clips scored.
    pub bonafide: usize,
    /// Equal error rate (0..1) of this generator against the bonafide clips.
    pub eer: f64,
}

/// Scores of clips under one condition, split by label and system.
#[derive(Debug, Default, Clone)]
pub struct ScoreSet {
    /// Bonafide clip scores.
    pub bonafide: Vec<f64>,
    /// Spoof clip scores by system.
    pub spoof: BTreeMap<String, Vec<f64>>,
    /// Indices of the clips scored (to count distinct clips across folds).
    pub clips: BTreeSet<usize>,
}

impl ScoreSet {
    /// Adds a clip's score.
    pub fn add(&mut self, index: usize, clip: &Clip, score: f64) {
        self.clips.insert(index);
        match clip.label {
            Label::Bonafide => self.bonafide.push(score),
            Label::Spoof => self
                .spoof
                .entry(clip.system.clone())
                .or_default()
                .push(score),
        }
    }

    /// EER of all spoofs against all bonafide clips.
    pub fn pooled_eer(&self) -> f64 {
        let all: Vec<f64> = self.spoof.values().flatten().copied().collect();
        eer(&self.bonafide, &all)
    }

    /// Per-system EERs against all bonafide clips.
    pub fn per_system(&self) -> Vec<SystemEer> {
        self.spoof
            .iter()
            .map(|(system, s)| SystemEer {
                system: system.clone(),
                spoof: s.len(),
                bonafide: self.bonafide.len(),
                eer: eer(&self.bonafide, s),
            })
            .collect()
    }
}

/// Clip scores of a fitted classifier under both conditions.
pub fn score_clips(
    fitted: &Fitted,
    clips: &[Clip],
    feats: &[ClipFeatures],
    which: &[usize],
    sets: &mut [ScoreSet; 2],
) {
    for &i in which {
        for cond in [Condition::Clean, Condition::Telephone] {
            if let Some(s) = fitted.clip_logit(&feats[i].conditions[cond as usize]) {
                sets[cond as usize].add(i, &clips[i], s);
            }
        }
    }
}

/// Per-system EERs and the pooled EER over folds, where each fold's scores come from one model:
/// a system's EER is the mean over the folds that scored it of its EER against that fold's
/// bonafide clips, and the pooled EER is the mean of the folds' pooled EERs. (Scores of
/// different models are never mixed in one EER: their offsets differ and would inflate it.)
pub fn summarize(clips: &[Clip], folds: &[ScoreSet]) -> (Vec<SystemEer>, f64) {
    let mut eers: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut pooled = Vec::new();
    let mut seen = BTreeSet::new();
    for f in folds
        .iter()
        .filter(|f| !f.bonafide.is_empty() && !f.spoof.is_empty())
    {
        for row in f.per_system() {
            eers.entry(row.system).or_default().push(row.eer);
        }
        pooled.push(f.pooled_eer());
        seen.extend(f.clips.iter().copied());
    }
    let count = |pred: &dyn Fn(&Clip) -> bool| seen.iter().filter(|&&i| pred(&clips[i])).count();
    let bonafide = count(&|c| c.label == Label::Bonafide);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let rows = eers
        .into_iter()
        .map(|(system, e)| SystemEer {
            spoof: count(&|c| c.label == Label::Spoof && c.system == system),
            system,
            bonafide,
            eer: mean(&e),
        })
        .collect();
    (rows, mean(&pooled))
}

/// Leave-one-system-out: for each generator S and each of `k` folds of real speakers, a model is
/// trained without S and without that fold's speakers, and scores S's clips and the fold's real
/// clips. Returns, per condition, one score set per (generator, fold).
pub fn cv_systems(
    clips: &[Clip],
    feats: &[ClipFeatures],
    l2: f64,
    k: usize,
) -> Result<[Vec<ScoreSet>; 2]> {
    let mut out: [Vec<ScoreSet>; 2] = Default::default();
    for held in &spoof_systems(clips) {
        for fold in 0..k {
            let is_test_bona = |i: usize| {
                clips[i].label == Label::Bonafide
                    && stable_hash(&clips[i].speaker) as usize % k == fold
            };
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..clips.len()).partition(|&i| is_test_bona(i) || clips[i].system == *held);
            run_fold(clips, feats, &train, &test, l2, &mut out)?;
        }
    }
    Ok(out)
}

/// Speaker-held-out `k`-fold cross-validation (folds grouped by speaker or voice; generators
/// are seen in training). Returns, per condition, one score set per fold.
pub fn cv_speakers(
    clips: &[Clip],
    feats: &[ClipFeatures],
    l2: f64,
    k: usize,
) -> Result<[Vec<ScoreSet>; 2]> {
    let mut out: [Vec<ScoreSet>; 2] = Default::default();
    for fold in 0..k {
        let in_fold = |i: &usize| stable_hash(&clips[*i].speaker) as usize % k == fold;
        let (test, train): (Vec<usize>, Vec<usize>) = (0..clips.len()).partition(in_fold);
        if test.is_empty() {
            continue;
        }
        run_fold(clips, feats, &train, &test, l2, &mut out)?;
    }
    Ok(out)
}

/// Trains on `train`, scores `test` under both conditions, and appends one score set per
/// condition to `out`.
fn run_fold(
    clips: &[Clip],
    feats: &[ClipFeatures],
    train: &[usize],
    test: &[usize],
    l2: f64,
    out: &mut [Vec<ScoreSet>; 2],
) -> Result<()> {
    let mut sets: [ScoreSet; 2] = Default::default();
    let fitted = fit(clips, feats, train, l2)?;
    score_clips(&fitted, clips, feats, test, &mut sets);
    let [clean, phone] = sets;
    out[0].push(clean);
    out[1].push(phone);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eer_of_separated_scores_is_zero() {
        assert_eq!(eer(&[0.1, 0.2], &[0.8, 0.9]), 0.0);
    }

    #[test]
    fn eer_of_inverted_scores_is_one() {
        assert!((eer(&[0.8, 0.9], &[0.1, 0.2]) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn eer_of_identical_distributions_is_half() {
        let s: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert!((eer(&s, &s) - 0.5).abs() < 0.01);
    }

    #[test]
    fn eer_known_overlap() {
        // Bonafide 0..=9, spoof 8.5..=17.5: a threshold in (8.5, 9] accepts one bonafide (9)
        // and misses one spoof (8.5): 10% each way.
        let b: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let s: Vec<f64> = (8..18).map(|i| i as f64 + 0.5).collect();
        let e = eer(&b, &s);
        assert!((e - 0.1).abs() < 1e-9, "{e}");
    }
}
