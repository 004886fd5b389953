//! Phase structure across the harmonics of a voiced frame, a group-delay feature.
//!
//! A glottal pulse train gives harmonics whose phases change smoothly with harmonic number, so
//! the second difference `φ[h+1] - 2φ[h] + φ[h-1]` stays near a constant from one harmonic to
//! the next. Waveforms rebuilt from magnitudes or with a synthetic excitation scatter it. The
//! second difference cancels the frame's time offset (linear phase) and any constant phase, so
//! the feature does not depend on where the frame falls on the pulse train.
//!
//! The same second differences, taken at fixed harmonic numbers, also say how the pulse shape
//! moves from one frame to the next ([`HarmonicPhase::measure`]): in speech it changes slowly with
//! the glottis and the vocal tract, while vocoders that draw or rebuild phase frame by frame let
//! it jump.

use realfft::num_complex::Complex;

/// Harmonic triplets in a frame's [`PulseShape`].
pub const SHAPE_TRIPLETS: usize = 4;

/// The lowest harmonic of a [`PulseShape`]'s first triplet is the first at or above this
/// frequency, so that the harmonics compared survive a telephone channel (300–3,400 Hz).
const SHAPE_LOW_HZ: f32 = 350.0;

/// Second phase differences `e^{i(φ[h+1] - 2φ[h] + φ[h-1])}` of [`SHAPE_TRIPLETS`] consecutive
/// harmonic triplets of one voiced frame, for comparing with the next frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseShape {
    /// Harmonic number at the centre of the first triplet (0 when the pitch is unusable): two
    /// frames are comparable when it is the same.
    pub first: usize,
    /// One unit phasor per triplet, 0 where a harmonic of it is weak or above the band.
    pub second_differences: [Complex<f32>; SHAPE_TRIPLETS],
}

impl PulseShape {
    /// No comparable shape (unvoiced frame, unusable pitch).
    pub const NONE: Self = Self {
        first: 0,
        second_differences: [Complex::new(0.0, 0.0); SHAPE_TRIPLETS],
    };

    /// Mean cosine of the change of each triplet's second difference from `self` to `next`
    /// (1 for an unchanged shape, about 0 for unrelated ones), over the triplets measured in
    /// both; `None` when the two frames share no triplet.
    pub fn similarity(&self, next: &Self) -> Option<f32> {
        if self.first == 0 || self.first != next.first {
            return None;
        }
        let (mut sum, mut count) = (0.0f32, 0usize);
        for (a, b) in self.second_differences.iter().zip(&next.second_differences) {
            if a.norm_sqr() > 0.5 && b.norm_sqr() > 0.5 {
                sum += (a * b.conj()).re;
                count += 1;
            }
        }
        (count > 0).then(|| sum / count as f32)
    }
}

/// Reads the phases of a voiced frame's harmonics within a band: how coherent their second
/// differences are, and the pulse shape they give.
#[derive(Clone)]
pub struct HarmonicPhase {
    /// Per-bin rotation that refers each bin's phase to the centre of the window.
    centre: Vec<Complex<f32>>,
    bin_hz: f32,
    lo_hz: f32,
    hi_hz: f32,
}

impl HarmonicPhase {
    /// For an `n_fft`-point spectrum of `win_len`-sample frames at `sample_rate`, using the
    /// harmonics between `lo_hz` and `hi_hz` (the telephone band keeps them all measurable).
    pub fn new(n_fft: usize, win_len: usize, sample_rate: f32, lo_hz: f32, hi_hz: f32) -> Self {
        let c = win_len as f64 / 2.0;
        let centre = (0..n_fft / 2 + 1)
            .map(|k| {
                let a = 2.0 * std::f64::consts::PI * k as f64 * c / n_fft as f64;
                Complex::new(a.cos() as f32, a.sin() as f32)
            })
            .collect();
        Self {
            centre,
            bin_hz: sample_rate / n_fft as f32,
            lo_hz,
            hi_hz,
        }
    }

    /// The frame's harmonic phase coherence and its [`PulseShape`], from one reading of the
    /// harmonics of `f0_hz` in the band (the shape's triplets are among the coherence's).
    ///
    /// Coherence: squared resultant length of `e^{i(φ[h+1] - 2φ[h] + φ[h-1])}` over the band's
    /// triplets, debiased so random phases give 0 on average and identical second differences
    /// give 1; fewer than two usable triplets give 0. Shape: the second differences of the
    /// [`SHAPE_TRIPLETS`] triplets whose first starts at the first harmonic at or above 350 Hz,
    /// up to the band's top. Harmonics more than 30 dB below the frame's strongest bin are
    /// skipped, and so is every triplet that holds one.
    pub fn measure(
        &self,
        spectrum: &[Complex<f32>],
        power: &[f32],
        f0_hz: f32,
    ) -> (f32, PulseShape) {
        let n = spectrum.len().min(self.centre.len());
        if f0_hz.is_nan() || f0_hz < 2.0 * self.bin_hz || n < 3 {
            return (0.0, PulseShape::NONE);
        }
        let floor = power[..n].iter().copied().fold(0.0f32, f32::max) * 1e-3;
        let peak = |h: usize| -> Option<Complex<f32>> {
            let k = (h as f32 * f0_hz / self.bin_hz).round() as usize;
            let k = (k.saturating_sub(1)..=(k + 1).min(n - 1))
                .max_by(|&a, &b| power[a].total_cmp(&power[b]))?;
            (power[k] > floor).then(|| {
                let z = spectrum[k] * self.centre[k];
                z / z.norm()
            })
        };
        let first = (self.lo_hz / f0_hz).ceil().max(1.0) as usize;
        let last = (self.hi_hz / f0_hz).floor() as usize;
        let harmonics: Vec<Option<Complex<f32>>> = (first..=last).map(peak).collect();
        // Triplet `i` is harmonics `first + i ..= first + i + 2`.
        let triplets: Vec<Option<Complex<f32>>> = harmonics
            .windows(3)
            .map(|w| match w {
                [Some(a), Some(b), Some(c)] => Some(a * c * (b.conj() * b.conj())),
                _ => None,
            })
            .collect();
        (coherence(&triplets), pulse_shape(&triplets, first, f0_hz))
    }
}

/// Debiased squared resultant length of the measured second differences (0 with fewer than
/// two).
fn coherence(triplets: &[Option<Complex<f32>>]) -> f32 {
    let (mut sum, mut count) = (Complex::new(0.0f32, 0.0), 0usize);
    for z in triplets.iter().flatten() {
        sum += z;
        count += 1;
    }
    if count < 2 {
        return 0.0;
    }
    let n = count as f32;
    (sum.norm_sqr() - n) / (n * (n - 1.0))
}

/// The [`PulseShape`] of `triplets` (triplet `i` starting at harmonic `first + i`): the
/// [`SHAPE_TRIPLETS`] from the first harmonic of `f0_hz` at or above [`SHAPE_LOW_HZ`].
fn pulse_shape(triplets: &[Option<Complex<f32>>], first: usize, f0_hz: f32) -> PulseShape {
    let centre = (SHAPE_LOW_HZ / f0_hz).ceil().max(1.0) as usize + 1;
    let mut shape = PulseShape {
        first: centre,
        ..PulseShape::NONE
    };
    for (j, d) in shape.second_differences.iter_mut().enumerate() {
        let Some(i) = (centre - 1 + j).checked_sub(first) else {
            continue;
        };
        if let Some(Some(z)) = triplets.get(i) {
            *d = z / z.norm();
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::stft::{FrameTransform, StftConfig};
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64;

    const SR: f32 = 16_000.0;

    /// `read` applied to the first 400-sample frame of `x` (spectrum and power) with the
    /// shipped geometry and band.
    fn read_frame<T>(
        x: &[f32],
        read: impl FnOnce(&HarmonicPhase, &[Complex<f32>], &[f32]) -> T,
    ) -> T {
        let cfg = StftConfig {
            n_fft: 512,
            win_len: 400,
            hop: 160,
        };
        let mut t = FrameTransform::new(cfg).unwrap();
        let hp = HarmonicPhase::new(512, 400, SR, 300.0, 3400.0);
        let f = t.frame(&x[..400]);
        read(&hp, f.spectrum, f.power)
    }

    fn coherence_of(x: &[f32], f0: f32) -> f32 {
        read_frame(x, |hp, spectrum, power| hp.measure(spectrum, power, f0).0)
    }

    fn shape_of(x: &[f32], f0: f32) -> PulseShape {
        read_frame(x, |hp, spectrum, power| hp.measure(spectrum, power, f0).1)
    }

    /// A harmonic signal at `f0` whose harmonic `h` has phase `phase(h)`.
    fn harmonic(f0: f32, offset: usize, phase: impl Fn(usize) -> f32) -> Vec<f32> {
        harmonics_from(1, f0, offset, phase)
    }

    /// The same without the harmonics below `lowest`.
    fn harmonics_from(
        lowest: usize,
        f0: f32,
        offset: usize,
        phase: impl Fn(usize) -> f32,
    ) -> Vec<f32> {
        let n_h = (7_000.0 / f0) as usize;
        (0..400)
            .map(|i| {
                let t = (i + offset) as f32 / SR;
                (lowest..=n_h)
                    .map(|h| (2.0 * std::f32::consts::PI * h as f32 * f0 * t + phase(h)).cos())
                    .sum()
            })
            .collect()
    }

    #[test]
    fn pulse_train_is_coherent_wherever_the_frame_falls() {
        for offset in [0, 13, 57] {
            let c = coherence_of(&harmonic(200.0, offset, |_| 0.0), 200.0);
            assert!(c > 0.9, "offset {offset}: {c}");
        }
    }

    #[test]
    fn random_phases_are_not() {
        let mut rng = Pcg64::seed_from_u64(12345);
        let phases: Vec<f32> = (0..40)
            .map(|_| rng.random_range(0.0..std::f32::consts::TAU))
            .collect();
        let c = coherence_of(&harmonic(200.0, 0, |h| phases[h]), 200.0);
        assert!(c < 0.3, "{c}");
    }

    #[test]
    fn a_steady_pulse_keeps_its_shape_from_frame_to_frame() {
        let phase = |h: usize| 0.3 * (h * h) as f32;
        let a = shape_of(&harmonic(160.0, 0, phase), 160.0);
        let b = shape_of(&harmonic(160.0, 160, phase), 160.0);
        // First triplet's lowest harmonic is the first at or above 350 Hz (480 Hz), centre 4.
        assert_eq!(a.first, 4);
        assert!(
            a.second_differences
                .iter()
                .all(|d| (d.norm() - 1.0).abs() < 1e-4)
        );
        let s = a.similarity(&b).unwrap();
        assert!(s > 0.95, "{s}");
    }

    #[test]
    fn the_shape_reads_the_triplets_centred_on_harmonics_4_to_7_at_160_hz() {
        // φ[h] = β h³ makes the second difference centred on harmonic h equal to 6 β h, a
        // different angle for every triplet; at 160 Hz the first harmonic at or above 350 Hz is
        // the third, so the triplets are centred on harmonics 4, 5, 6 and 7.
        let beta = 0.05;
        let shape = shape_of(&harmonic(160.0, 0, |h| beta * (h * h * h) as f32), 160.0);
        for (j, d) in shape.second_differences.iter().enumerate() {
            let want = 6.0 * beta * (4 + j) as f32;
            assert!(
                (d.arg() - want).abs() < 0.1,
                "triplet {j}: {} against {want}",
                d.arg()
            );
        }
    }

    #[test]
    fn phases_drawn_afresh_each_frame_do_not() {
        let mut rng = Pcg64::seed_from_u64(7);
        let mut draw = || -> Vec<f32> {
            (0..64)
                .map(|_| rng.random_range(0.0..std::f32::consts::TAU))
                .collect()
        };
        let mut sims = Vec::new();
        for _ in 0..20 {
            let (p, q) = (draw(), draw());
            let a = shape_of(&harmonic(160.0, 0, |h| p[h]), 160.0);
            let b = shape_of(&harmonic(160.0, 160, |h| q[h]), 160.0);
            sims.push(a.similarity(&b).unwrap());
        }
        let mean = sims.iter().sum::<f32>() / sims.len() as f32;
        assert!(mean.abs() < 0.25, "{mean}");
    }

    #[test]
    fn the_shape_survives_losing_the_harmonics_under_350_hz() {
        // A telephone channel removes what lies below 300 Hz; the triplets start above 350 Hz.
        let phase = |h: usize| 0.3 * (h * h) as f32;
        let full = harmonic(120.0, 0, phase);
        let band = harmonics_from(3, 120.0, 0, phase);
        let (a, b) = (shape_of(&full, 120.0), shape_of(&band, 120.0));
        assert_eq!((a.first, b.first), (4, 4));
        let s = a.similarity(&b).unwrap();
        assert!(s > 0.95, "{s}");
    }

    #[test]
    fn shapes_compare_only_at_the_same_harmonics() {
        let phase = |_| 0.0;
        let a = shape_of(&harmonic(160.0, 0, phase), 160.0);
        let b = shape_of(&harmonic(100.0, 0, phase), 100.0);
        assert_ne!(a.first, b.first);
        assert_eq!(a.similarity(&b), None);
        assert_eq!(PulseShape::NONE.similarity(&PulseShape::NONE), None);
        assert_eq!(shape_of(&[0.0; 400], 160.0).similarity(&a), None);
    }

    #[test]
    fn silence_and_unusable_pitch_give_zero() {
        assert_eq!(coherence_of(&[0.0; 400], 200.0), 0.0);
        assert_eq!(coherence_of(&harmonic(200.0, 0, |_| 0.0), 0.0), 0.0);
    }
}
