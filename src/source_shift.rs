//! Statistics that tell real recording sources apart. A statistic on which the real speech of the
//! largest source differs from that of the others by a pooled spread or more says where a real
//! clip was recorded as much as whether it is real; a weight on it learns "sounds like the
//! largest source", and real speech from an unfamiliar source then scores like synthetic speech.
//! Training finds them among its own real clips and leaves them out of the logistic regression.

use std::collections::BTreeMap;

use crate::model::weighted_mean_spread;

/// Real clips the largest source and the others need, each, before a shift is measured.
pub const MIN_CLIPS: usize = 5;

/// One real clip: its recording source (`corpus`) and its statistics (here, the
/// speech-weighted mean of its clean segments').
pub struct SourcedClip<'a> {
    /// Recording source.
    pub source: &'a str,
    /// One value per statistic.
    pub stats: Vec<f64>,
}

/// For each of `n_stats` statistics, whether the mean over the clips of the largest source
/// (most clips; the first by name on a tie) and the mean over every other clip differ by at
/// least `limit` pooled spreads (the root of the mean of the two groups' variances). All false
/// when either group has fewer than [`MIN_CLIPS`] clips: one source gives nothing to compare.
pub fn source_dependent(clips: &[SourcedClip<'_>], n_stats: usize, limit: f64) -> Vec<bool> {
    let mut per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for c in clips {
        *per_source.entry(c.source).or_default() += 1;
    }
    // The most clips; on a tie the first name, so the choice does not depend on clip order.
    let largest = per_source
        .iter()
        .max_by_key(|&(&s, &n)| (n, std::cmp::Reverse(s)))
        .map(|(&s, &n)| (s, n));
    let Some((largest, n_largest)) = largest else {
        return vec![false; n_stats];
    };
    if n_largest < MIN_CLIPS || clips.len() - n_largest < MIN_CLIPS {
        return vec![false; n_stats];
    }
    let (major, others): (Vec<&SourcedClip<'_>>, Vec<&SourcedClip<'_>>) =
        clips.iter().partition(|c| c.source == largest);
    (0..n_stats)
        .map(|j| {
            let column = |group: &[&SourcedClip<'_>]| {
                let values: Vec<f64> = group.iter().map(|c| c.stats[j]).collect();
                weighted_mean_spread(&values, &vec![1.0; values.len()])
            };
            let ((mean_a, spread_a), (mean_b, spread_b)) = (column(&major), column(&others));
            let pooled = ((spread_a * spread_a + spread_b * spread_b) / 2.0).sqrt();
            (mean_b - mean_a).abs() >= limit * pooled
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip<'a>(source: &'a str, stats: &[f64]) -> SourcedClip<'a> {
        SourcedClip {
            source,
            stats: stats.to_vec(),
        }
    }

    /// Six clips of source `a` and five split over `b` and `c`: statistic 0 is shifted by about
    /// 2 pooled spreads in the others, statistic 1 by about 0.4.
    fn clips() -> Vec<SourcedClip<'static>> {
        let mut v: Vec<_> = [-1.0, 1.0, -1.0, 1.0, -1.0, 1.0]
            .iter()
            .map(|&e| clip("a", &[e, e]))
            .collect();
        for (i, e) in [-1.0, 1.0, -1.0, 1.0, 0.0].into_iter().enumerate() {
            v.push(clip(if i < 2 { "b" } else { "c" }, &[2.0 + e, 0.4 + e]));
        }
        v
    }

    #[test]
    fn a_statistic_shifted_between_sources_is_named_and_a_steady_one_is_not() {
        assert_eq!(source_dependent(&clips(), 2, 1.0), [true, false]);
        assert_eq!(source_dependent(&clips(), 2, 0.3), [true, true]);
        assert_eq!(source_dependent(&clips(), 2, 3.0), [false, false]);
    }

    #[test]
    fn too_few_clips_on_either_side_name_nothing() {
        let mut few = clips();
        few.truncate(9);
        assert_eq!(source_dependent(&few, 2, 1.0), [false, false]);
        let one_source: Vec<_> = clips()
            .into_iter()
            .map(|c| clip("a", &c.stats.clone()))
            .collect();
        assert_eq!(source_dependent(&one_source, 2, 1.0), [false, false]);
        assert_eq!(source_dependent(&[], 2, 1.0), [false, false]);
    }
}
