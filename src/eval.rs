//! Measuring detectors: equal error rate, per-generator tables, and cross-validation that holds
//! out whole generators (leave-one-system-out) or whole speakers.

use std::collections::BTreeMap;

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
}

impl ScoreSet {
    /// Adds a clip's score.
    pub fn add(&mut self, clip: &Clip, score: f64) {
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
                sets[cond as usize].add(&clips[i], s);
            }
        }
    }
}

/// Leave-one-system-out: for each generator, models are trained without it (and without one
/// fold of real speakers, in turn over `k` folds, so the bonafide test clips are unseen too);
/// returns per-condition score sets where each generator was scored only by models that never
/// saw it. The bonafide scores of generator S's table come from S's models.
pub fn cv_systems(
    clips: &[Clip],
    feats: &[ClipFeatures],
    l2: f64,
    k: usize,
) -> Result<Vec<[SystemEer; 2]>> {
    let systems = spoof_systems(clips);
    let usable: Vec<usize> = (0..clips.len()).collect();
    let mut out = Vec::new();
    for held in &systems {
        let mut sets: [ScoreSet; 2] = Default::default();
        for fold in 0..k {
            let is_test_bona = |i: usize| {
                clips[i].label == Label::Bonafide
                    && stable_hash(&clips[i].speaker) as usize % k == fold
            };
            let train: Vec<usize> = usable
                .iter()
                .copied()
                .filter(|&i| clips[i].system != *held && !is_test_bona(i))
                .collect();
            let test: Vec<usize> = usable
                .iter()
                .copied()
                .filter(|&i| is_test_bona(i) || (fold == 0 && clips[i].system == *held))
                .collect();
            let fitted = fit(clips, feats, &train, l2)?;
            score_clips(&fitted, clips, feats, &test, &mut sets);
        }
        let row = |s: &ScoreSet| {
            s.per_system()
                .into_iter()
                .next()
                .expect("the held-out system was scored")
        };
        out.push([row(&sets[0]), row(&sets[1])]);
    }
    Ok(out)
}

/// Speaker-held-out `k`-fold cross-validation (folds grouped by speaker or voice; generators
/// are seen in training); returns out-of-fold clip scores under both conditions.
pub fn cv_speakers(
    clips: &[Clip],
    feats: &[ClipFeatures],
    l2: f64,
    k: usize,
) -> Result<[ScoreSet; 2]> {
    let mut sets: [ScoreSet; 2] = Default::default();
    for fold in 0..k {
        let in_fold = |i: &usize| stable_hash(&clips[*i].speaker) as usize % k == fold;
        let (test, train): (Vec<usize>, Vec<usize>) = (0..clips.len()).partition(in_fold);
        if test.is_empty() {
            continue;
        }
        let fitted = fit(clips, feats, &train, l2)?;
        score_clips(&fitted, clips, feats, &test, &mut sets);
    }
    Ok(sets)
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
