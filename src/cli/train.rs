//! `voxguard train`: extract features from a manifest's clips and write a calibrated model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use serde_json::json;

use voxguard::dataset::{Clip, SuppliedCopies, read_manifest};
use voxguard::features::FeatureConfig;
use voxguard::model::Model;
use voxguard::model::classifier::ClassifierKind;
use voxguard::model::deviation::DEVIATION_WEIGHT;
use voxguard::pipeline::AnalysisConfig;
use voxguard::scan::sha256_file;
use voxguard::segment::stat_names;
use voxguard::train::{
    ClipFeatures, Condition, FRAME_WEIGHT, FitSettings, SOURCE_SHIFT_LIMIT, TRAINING_CONDITIONS,
    TrainConfig, extract, train_model,
};

use super::{progress, set_jobs, write_atomically};

/// Arguments of `voxguard train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Labelled manifest (`file,label,system,corpus,speaker,...`; `file` relative to it).
    #[arg(long)]
    manifest: PathBuf,
    /// Where to write the model (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Generators to leave out of training, comma-separated.
    #[arg(long, value_delimiter = ',')]
    exclude_systems: Vec<String>,
    #[command(flatten)]
    fit: FitArgs,
    /// Seed of the augmentation (telephone band edge, crop, gain, noise); 0 gives the shipped
    /// model.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Version string written into the model.
    #[arg(long, default_value = "1.0.0")]
    model_version: String,
    /// Also write the pooled statistics the model is trained on to this CSV: one row per scored
    /// segment of every clip and copy (clean, telephone, degraded), for training other models.
    #[arg(long, value_name = "CSV")]
    export_stats: Option<PathBuf>,
    /// Clips analysed in parallel (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// The model type and what is fitted beside it (`train`, and `eval --cv` for its fold models).
#[derive(Args, Debug)]
pub struct FitArgs {
    /// Model type: a logistic regression, a 16-unit MLP, the mean log-odds of both, a one-class
    /// Gaussian of real speech, or the logistic regression plus that Gaussian (the shipped type;
    /// see models/README.md).
    #[arg(long, value_enum, default_value_t = ClassifierKind::default())]
    classifier: ClassifierKind,
    /// L2 penalty on the classifier's weights.
    #[arg(long, default_value_t = FitSettings::new(&FeatureConfig::default()).l2)]
    l2: f64,
    /// Weight of the frame model of real speech (a mixture of its cepstral dynamics) beside the
    /// classifier, as a share of the classifier's spread; 0 fits none.
    #[arg(long, default_value_t = FRAME_WEIGHT, value_parser = parse_weight)]
    frame_weight: f64,
    /// Fit one Gaussian of real speech for every channel, as models before 1.13.0 did, instead
    /// of a second one for narrowband audio (telephone, GSM, 8 kHz).
    #[arg(long)]
    one_gaussian: bool,
    /// Weight of the logistic regression of the statistics' distances from real speech beside
    /// the logistic regression and the Gaussian (shipped type only), as a share of the logistic
    /// regression's spread; 0 fits none, as models before 1.16.0.
    #[arg(long, default_value_t = DEVIATION_WEIGHT, value_parser = parse_weight)]
    deviation_weight: f64,
    /// Leave out of the logistic regression (shipped type only) every statistic on which the
    /// real training clips of the largest source and of the others differ by this many pooled
    /// spreads or more; `inf` keeps them all, as models before 1.22.0.
    #[arg(long, default_value_t = SOURCE_SHIFT_LIMIT, value_parser = parse_limit)]
    source_shift_limit: f64,
}

/// A limit in spreads: a number above 0, `inf` included.
fn parse_limit(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a limit (a number above 0, or inf)")),
    }
}

/// A weight: a finite number, 0 or more.
fn parse_weight(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        _ => Err(format!("{s:?} is not a weight (a number, 0 or more)")),
    }
}

impl FitArgs {
    /// The settings for statistics of features made with `feat`.
    pub fn settings(&self, feat: &FeatureConfig) -> FitSettings {
        let mut settings = FitSettings {
            kind: self.classifier,
            l2: self.l2,
            frame_weight: self.frame_weight,
            deviation_weight: self.deviation_weight,
            source_shift_limit: self.source_shift_limit,
            ..FitSettings::new(feat)
        };
        if self.one_gaussian {
            settings.narrowband_bands.clear();
        }
        settings
    }

    /// The model type.
    pub fn classifier(&self) -> ClassifierKind {
        self.classifier
    }
}

/// Trains and writes the model.
pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    set_jobs(args.jobs)?;
    let fit = args.fit.settings(&AnalysisConfig::default().features);
    let cfg = TrainConfig {
        analysis: fit.analysis(),
        fit,
        seed: args.seed,
        ..TrainConfig::default()
    };
    let (clips, feats) = load_features(
        &args.manifest,
        &cfg.analysis,
        cfg.seed,
        &TRAINING_CONDITIONS,
        None,
        args.quiet,
    )?;
    for s in &args.exclude_systems {
        if !clips.iter().any(|c| &c.system == s) {
            bail!("--exclude-systems: no system {s:?} in the manifest");
        }
    }
    if let Some(path) = &args.export_stats {
        let names = stat_names(&cfg.analysis.features);
        write_atomically(path, &stats_csv(&clips, &feats, &names)?)?;
    }
    let selected: Vec<usize> = (0..clips.len())
        .filter(|&i| !args.exclude_systems.contains(&clips[i].system))
        .collect();
    let provenance = json!({
        "manifest": args.manifest.display().to_string(),
        "manifest_sha256": sha256_file(&args.manifest)?,
        "excluded_systems": args.exclude_systems,
    });
    let mut model = train_model(&clips, &feats, &selected, &cfg, provenance)?;
    model.version = args.model_version.clone();
    write_atomically(&args.out, Model::to_json(&model).as_bytes())?;
    let loaded = Model::load(&args.out)?;
    eprintln!(
        "wrote {} ({} v{}, sha256 {}): {} clips, {} features, calibration a={:.3} b={:.3}",
        args.out.display(),
        model.name,
        model.version,
        loaded.sha256,
        selected.len(),
        model.stats.len(),
        model.calibration.a,
        model.calibration.b
    );
    Ok(ExitCode::SUCCESS)
}

/// The training statistics as CSV: clip, label, generator, speaker, copy, segment index, seconds
/// of speech, then one column per statistic (named as in the model file).
fn stats_csv(clips: &[Clip], feats: &[ClipFeatures], names: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let meta = [
        "file", "label", "system", "speaker", "copy", "segment", "speech_s",
    ];
    w.write_record(meta.iter().copied().chain(names.iter().map(String::as_str)))?;
    for (clip, f) in clips.iter().zip(feats) {
        for cond in TRAINING_CONDITIONS {
            for (k, seg) in f.conditions[cond as usize].iter().enumerate() {
                let mut row = vec![
                    clip.path.display().to_string(),
                    clip.label.as_str().to_string(),
                    clip.system.clone(),
                    clip.speaker.clone(),
                    cond.name().to_string(),
                    k.to_string(),
                    format!("{:.2}", seg.speech_s),
                ];
                row.extend(seg.stats.iter().map(f32::to_string));
                w.write_record(&row)?;
            }
        }
    }
    Ok(w.into_inner()?)
}

/// Reads a manifest and analyses its clips under the `wanted` copies (drawn from `seed`, the
/// supplied one read from `copy_dir`); clips that fail to decode, or without a single supplied
/// copy, are reported on stderr and left out.
pub fn load_features(
    manifest: &Path,
    analysis: &AnalysisConfig,
    seed: u64,
    wanted: &[Condition],
    copy_dir: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<(Vec<Clip>, Vec<ClipFeatures>)> {
    let clips = read_manifest(manifest)?;
    let supplied = copy_dir
        .map(|dir| SuppliedCopies::from_dir(dir, &clips))
        .transpose()?;
    let pb = progress::bar(clips.len(), quiet, "analysing");
    let results = extract(&clips, analysis, seed, wanted, supplied.as_ref(), &|| {
        pb.inc(1)
    });
    pb.finish_and_clear();
    let mut kept = (Vec::new(), Vec::new());
    for (clip, r) in clips.into_iter().zip(results) {
        match r {
            Ok(f) => {
                kept.0.push(clip);
                kept.1.push(f);
            }
            Err(e) => eprintln!("voxguard: skipping clip: {e}"),
        }
    }
    if kept.0.is_empty() {
        bail!("no clip of {} could be analysed", manifest.display());
    }
    Ok(kept)
}
