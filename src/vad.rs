//! Speech activity: decides which frames carry speech, so silence, padding and background-only
//! stretches are never scored (digital silence and pause length are classic shortcuts).
//!
//! A frame is speech when its energy is above all three of: a floor that follows the
//! recording's level (at most 30 dB under its loud frames, so a quiet recording keeps the same
//! speech as a loud one), the running noise floor (10th percentile of all non-silent frames so
//! far) plus a margin (capped at 15 dB below the segment's loudest frame), and the loudest frame
//! of its segment minus a dynamic range.

use serde::{Deserialize, Serialize};

/// Thresholds of the energy-based speech detector, in dB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VadConfig {
    /// In a recording at the corpus's level, frames quieter than this (dBFS) are never speech.
    pub abs_floor_db: f32,
    /// In a quieter recording the floor drops to this far under its loud frames (the 95th
    /// percentile of its frame energies so far): a fixed floor cut the quieter speech of quiet
    /// recordings, and less speech scores higher (models/HISTORY.md, "Changes in 1.14.0").
    pub below_loud_db: f32,
    /// The floor never drops below this (dBFS).
    pub lowest_floor_db: f32,
    /// Speech must be at least this far above the running noise floor.
    pub above_noise_db: f32,
    /// Speech is at most this far below the loudest frame of its segment.
    pub below_peak_db: f32,
    /// Frames this close to the segment's loudest frame are speech whatever the noise floor.
    pub near_peak_db: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            abs_floor_db: -55.0,
            below_loud_db: 30.0,
            lowest_floor_db: -80.0,
            above_noise_db: 10.0,
            below_peak_db: 40.0,
            near_peak_db: 15.0,
        }
    }
}

const BIN_DB: f32 = 0.5;
/// The share of a recording's frames under its loud frames' energy.
const LOUD: f64 = 0.95;
const LOW_DB: f32 = -120.0;
const BINS: usize = 240;

/// Running histogram of frame energies for a streaming noise-floor estimate (fixed memory).
#[derive(Debug, Clone)]
pub struct NoiseFloor {
    hist: [u32; BINS],
    total: u64,
}

impl Default for NoiseFloor {
    fn default() -> Self {
        Self {
            hist: [0; BINS],
            total: 0,
        }
    }
}

impl NoiseFloor {
    /// Adds one frame's energy; digital silence (at or below -120 dBFS) is ignored.
    pub fn add(&mut self, energy_db: f32) {
        if energy_db <= LOW_DB {
            return;
        }
        let bin = (((energy_db - LOW_DB) / BIN_DB) as usize).min(BINS - 1);
        self.hist[bin] += 1;
        self.total += 1;
    }

    /// The energy below which a fraction `p` of the frames seen so far lie; -120 when none.
    pub fn percentile(&self, p: f64) -> f32 {
        if self.total == 0 {
            return LOW_DB;
        }
        let target = (p * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, &count) in self.hist.iter().enumerate() {
            seen += count as u64;
            if seen >= target {
                return LOW_DB + BIN_DB * i as f32;
            }
        }
        0.0
    }
}

/// Marks the speech frames among `energies` (one segment), given the running noise floor.
pub fn speech_mask(energies: &[f32], floor: &NoiseFloor, cfg: &VadConfig) -> Vec<bool> {
    let peak = energies.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    // Within `near_peak_db` of the segment's loudest frame counts as speech even if the running
    // floor is high (a recording with no pauses has no noise-only frames to learn the floor from).
    let above_noise = (floor.percentile(0.10) + cfg.above_noise_db).min(peak - cfg.near_peak_db);
    let level_floor = (floor.percentile(LOUD) - cfg.below_loud_db)
        .min(cfg.abs_floor_db)
        .max(cfg.lowest_floor_db);
    let threshold = level_floor.max(above_noise).max(peak - cfg.below_peak_db);
    energies.iter().map(|&e| e > threshold).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_noise_are_not_speech() {
        let mut floor = NoiseFloor::default();
        // 60 % background at -60 dBFS, 40 % speech at -25 dBFS, plus digital silence.
        let mut energies = vec![-60.0; 60];
        energies.extend(vec![-25.0; 40]);
        energies.extend(vec![-120.0; 30]);
        energies.iter().for_each(|&e| floor.add(e));
        let mask = speech_mask(&energies, &floor, &VadConfig::default());
        assert_eq!(mask.iter().filter(|&&m| m).count(), 40);
        assert!(mask[60..100].iter().all(|&m| m));
    }

    #[test]
    fn digital_silence_does_not_lower_the_floor() {
        let mut floor = NoiseFloor::default();
        (0..1000).for_each(|_| floor.add(-120.0));
        (0..10).for_each(|_| floor.add(-50.0));
        assert!((floor.percentile(0.10) - -50.0).abs() <= BIN_DB);
    }

    #[test]
    fn quiet_background_is_not_speech_even_alone() {
        let floor = NoiseFloor::default();
        let mask = speech_mask(&[-85.0; 50], &floor, &VadConfig::default());
        assert!(mask.iter().all(|&m| !m));
    }

    #[test]
    fn a_quiet_recording_keeps_the_speech_of_a_loud_one() {
        // Background at -60 dBFS, loud speech at -20, quiet speech at -45 (25 dB under the loud
        // frames, under the -55 dBFS floor once the recording is 20 dB down).
        let loud: Vec<f32> = [vec![-60.0; 30], vec![-20.0; 40], vec![-45.0; 30]].concat();
        let mask_at = |gain_db: f32| {
            let energies: Vec<f32> = loud.iter().map(|e| e + gain_db).collect();
            let mut floor = NoiseFloor::default();
            energies.iter().for_each(|&e| floor.add(e));
            speech_mask(&energies, &floor, &VadConfig::default())
        };
        let original = mask_at(0.0);
        assert_eq!(original.iter().filter(|&&m| m).count(), 70);
        assert_eq!(mask_at(-20.0), original);
        // Down to the lowest floor: 30 dB down the quiet speech sits at -75 dBFS, still above it.
        assert_eq!(mask_at(-30.0), original);
    }
}
