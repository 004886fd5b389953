//! Detection metrics on scores where higher means "synthetic": equal error rate, the minimum
//! normalised detection cost of ASVspoof 5, the log-likelihood-ratio cost Cllr, and a
//! reliability table of calibrated probabilities.

use serde::Serialize;

/// ASVspoof 5 countermeasure costs and prior: cost of flagging real speech…
pub const DCF_C_MISS: f64 = 1.0;
/// … cost of passing a synthetic recording as real …
pub const DCF_C_FA: f64 = 10.0;
/// … and the prior probability of synthetic speech.
pub const DCF_P_SPOOF: f64 = 0.05;

/// The error rates at every threshold, from below all scores to above them: pairs of (fraction
/// of real clips flagged, fraction of synthetic clips passed), one per distinct score plus the
/// starting point (1, 0). EER, minimum cost and DET curves all read this one sweep.
pub fn error_rates(bonafide: &[f64], spoof: &[f64]) -> Vec<(f64, f64)> {
    let mut all: Vec<(f64, bool)> = bonafide
        .iter()
        .map(|&s| (s, false))
        .chain(spoof.iter().map(|&s| (s, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (nb, ns) = (bonafide.len() as f64, spoof.len() as f64);
    let (mut flagged_real, mut passed_synth) = (nb, 0.0);
    let mut rates = vec![(1.0, 0.0)];
    for (i, (score, is_spoof)) in all.iter().enumerate() {
        if *is_spoof {
            passed_synth += 1.0;
        } else {
            flagged_real -= 1.0;
        }
        if all.get(i + 1).is_none_or(|next| next.0 > *score) {
            rates.push((flagged_real / nb, passed_synth / ns));
        }
    }
    rates
}

/// Equal error rate of scores where higher means "spoof": the rate at which the fraction of
/// bonafide scored at or above a threshold equals the fraction of spoofs scored below it
/// (linear interpolation between the two closest thresholds).
pub fn eer(bonafide: &[f64], spoof: &[f64]) -> f64 {
    if bonafide.is_empty() || spoof.is_empty() {
        return f64::NAN;
    }
    for pair in error_rates(bonafide, spoof).windows(2) {
        let ((f0, r0), (far, frr)) = (pair[0], pair[1]);
        if frr >= far {
            let denom = (frr - r0) - (far - f0);
            let a = if denom.abs() < 1e-15 {
                0.0
            } else {
                (f0 - r0) / denom
            };
            return f0 + a * (far - f0);
        }
    }
    0.0
}

/// Minimum over thresholds of the ASVspoof 5 detection cost
/// `C_miss (1 − π) P(real flagged) + C_fa π P(synthetic passed)`, normalised by the cost of the
/// better trivial system `min(C_miss (1 − π), C_fa π)`: 0 is perfect, 1 is no better than
/// always giving the same answer.
pub fn min_dcf(bonafide: &[f64], spoof: &[f64]) -> f64 {
    if bonafide.is_empty() || spoof.is_empty() {
        return f64::NAN;
    }
    let (cb, cs) = (DCF_C_MISS * (1.0 - DCF_P_SPOOF), DCF_C_FA * DCF_P_SPOOF);
    let best = error_rates(bonafide, spoof)
        .into_iter()
        .map(|(flagged_real, passed_synth)| cb * flagged_real + cs * passed_synth)
        .fold(f64::INFINITY, f64::min);
    best / cb.min(cs)
}

/// Log-likelihood-ratio cost in bits of scores that are log-likelihood ratios
/// `ln p(x | synthetic) / p(x | real)`: 0 for perfect and confident, 1 for a system that always
/// says 0, more when confidently wrong. Measures discrimination and calibration together.
pub fn cllr(bonafide_llr: &[f64], spoof_llr: &[f64]) -> f64 {
    if bonafide_llr.is_empty() || spoof_llr.is_empty() {
        return f64::NAN;
    }
    let softplus = |x: f64| if x > 30.0 { x } else { x.exp().ln_1p() };
    let mean =
        |v: &[f64], sign: f64| v.iter().map(|&x| softplus(sign * x)).sum::<f64>() / v.len() as f64;
    (mean(bonafide_llr, 1.0) + mean(spoof_llr, -1.0)) / (2.0 * std::f64::consts::LN_2)
}

/// One probability bin of a reliability table.
#[derive(Debug, Clone, Serialize)]
pub struct ReliabilityBin {
    /// Lower edge of the predicted probability of "synthetic".
    pub from: f64,
    /// Upper edge.
    pub to: f64,
    /// Real clips in the bin.
    pub bonafide: usize,
    /// Synthetic clips in the bin.
    pub spoof: usize,
    /// Mean predicted probability in the bin.
    pub predicted: f64,
    /// Fraction synthetic with both classes weighted equally (as the model's prior is).
    pub observed: f64,
}

/// Ten bins of `sigmoid(llr)`: does a predicted 0.8 come true about 80 % of the time? Classes
/// are weighted equally, since the calibration assumes equal priors.
pub fn reliability(bonafide_llr: &[f64], spoof_llr: &[f64]) -> Vec<ReliabilityBin> {
    let p = |s: f64| 1.0 / (1.0 + (-s).exp());
    let (nb, ns) = (
        bonafide_llr.len().max(1) as f64,
        spoof_llr.len().max(1) as f64,
    );
    (0..10)
        .map(|b| {
            let in_bin = |v: &[f64]| {
                v.iter()
                    .map(|&s| p(s))
                    .filter(|&q| bin_of(q) == b)
                    .collect::<Vec<f64>>()
            };
            let (real, synth) = (in_bin(bonafide_llr), in_bin(spoof_llr));
            let (wb, ws) = (real.len() as f64 / nb, synth.len() as f64 / ns);
            let n = real.len() + synth.len();
            ReliabilityBin {
                from: b as f64 / 10.0,
                to: (b + 1) as f64 / 10.0,
                bonafide: real.len(),
                spoof: synth.len(),
                predicted: real.iter().chain(&synth).sum::<f64>() / n.max(1) as f64,
                observed: if n > 0 { ws / (wb + ws) } else { f64::NAN },
            }
        })
        .collect()
}

/// The reliability bin of a probability.
fn bin_of(p: f64) -> usize {
    ((p * 10.0) as usize).min(9)
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

    #[test]
    fn min_dcf_of_perfect_and_useless_scores() {
        assert_eq!(min_dcf(&[0.1, 0.2], &[0.8, 0.9]), 0.0);
        // Identical distributions: the best is a trivial system.
        let s: Vec<f64> = (0..100).map(|i| i as f64).collect();
        assert!((min_dcf(&s, &s) - 1.0).abs() < 0.02, "{}", min_dcf(&s, &s));
    }

    #[test]
    fn cllr_of_known_cases() {
        // Always 0: exactly 1 bit. Confident and right: near 0. Confident and wrong: large.
        assert!((cllr(&[0.0; 5], &[0.0; 7]) - 1.0).abs() < 1e-12);
        assert!(cllr(&[-20.0], &[20.0]) < 1e-6);
        assert!(cllr(&[20.0], &[-20.0]) > 20.0);
        // LLR ln 3 the right way for both classes: log2(4/3) bits.
        let l = 3f64.ln();
        assert!((cllr(&[-l], &[l]) - (4.0f64 / 3.0).log2()).abs() < 1e-12);
    }

    #[test]
    fn reliability_of_calibrated_scores() {
        // Predicted 0.818 (LLR ln 4.5) for 1 of 4 real and 4 of 4 synthetic clips: observed
        // (4/4) / (4/4 + 1/4) = 0.8 with the classes weighted equally.
        let l = 4.5f64.ln();
        let bins = reliability(&[l, -10.0, -10.0, -10.0], &[l, l, l, l]);
        let b = &bins[8];
        assert_eq!((b.bonafide, b.spoof), (1, 4));
        assert!((b.predicted - 4.5 / 5.5).abs() < 1e-12);
        assert!((b.observed - 0.8).abs() < 1e-12, "{}", b.observed);
        assert_eq!((bins[0].bonafide, bins[0].spoof), (3, 0));
    }
}
