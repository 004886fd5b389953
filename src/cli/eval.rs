//! `voxguard eval`: equal error rates of a model on a manifest, or of training itself under
//! generator-held-out or speaker-held-out cross-validation.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;

use voxguard::eval::{ScoreSet, SystemEer, cv_speakers, cv_systems, score_clips, summarize};
use voxguard::model::Model;
use voxguard::pipeline::AnalysisConfig;
use voxguard::plot::det::{DetCurve, DetFigure};
use voxguard::plot::{ImageFormat, render};
use voxguard::train::{Fitted, TrainConfig};

use super::train::load_features;
use super::{set_jobs, write_atomically};

/// Cross-validation schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cv {
    /// Leave one generator out of training, score it (and unseen real speakers), for each.
    System,
    /// Hold out groups of speakers/voices (5 folds); generators are seen in training.
    Speaker,
}

/// Output format of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// Aligned text table.
    Table,
    /// One JSON document.
    Json,
}

/// Arguments of `voxguard eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Labelled manifest (`file,label,system,...`; `file` relative to it).
    #[arg(long)]
    manifest: PathBuf,
    /// Model to measure [default: the built-in model]. Ignored with `--cv`.
    #[arg(long, conflicts_with = "cv")]
    model: Option<PathBuf>,
    /// Instead of measuring a model, cross-validate training on the manifest.
    #[arg(long, value_enum)]
    cv: Option<Cv>,
    /// L2 penalty for the models trained by `--cv`.
    #[arg(long, default_value_t = TrainConfig::default().l2)]
    l2: f64,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    format: Option<EvalFormat>,
    /// Also draw DET curves (clean and telephone copies) and score histograms to this
    /// `.png` or `.svg` file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Clips analysed in parallel (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Title, table rows, pooled EERs (when meaningful) and the score sets of both conditions.
type Outcome = (String, Vec<Row>, Option<[f64; 2]>, [Vec<ScoreSet>; 2]);

/// One row of the results: a generator's EER on clean and telephone copies.
struct Row {
    clean: SystemEer,
    telephone: SystemEer,
}

/// Runs the evaluation and prints the table.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    set_jobs(args.jobs)?;
    if let Some(path) = &args.plot {
        ImageFormat::from_path(path)?;
    }
    let (title, rows, pooled, sets): Outcome = match args.cv {
        None => {
            let model = match &args.model {
                Some(p) => Model::load(p)?,
                None => Model::builtin()?,
            };
            let analysis = AnalysisConfig {
                features: model.file.features.clone(),
                ..AnalysisConfig::default()
            };
            let (clips, feats) = load_features(&args.manifest, &analysis, args.quiet)?;
            let fitted = Fitted {
                standardizer: model.file.standardizer.clone(),
                classifier: model.file.classifier.clone(),
            };
            let all: Vec<usize> = (0..clips.len()).collect();
            let mut sets = Default::default();
            score_clips(&fitted, &clips, &feats, &all, &mut sets);
            let [clean, phone] = sets;
            let rows = clean
                .per_system()
                .into_iter()
                .zip(phone.per_system())
                .map(|(clean, telephone)| Row { clean, telephone })
                .collect();
            let title = format!(
                "model {} v{} ({}) on {}: every clip scored by the one model",
                model.file.name,
                model.file.version,
                &model.sha256[..12],
                args.manifest.display()
            );
            let pooled = Some([clean.pooled_eer(), phone.pooled_eer()]);
            (title, rows, pooled, [vec![clean], vec![phone]])
        }
        Some(cv) => {
            let (clips, feats) =
                load_features(&args.manifest, &AnalysisConfig::default(), args.quiet)?;
            let ([clean, phone], title) = match cv {
                Cv::System => (
                    cv_systems(&clips, &feats, args.l2, 5)?,
                    "leave-one-system-out: each generator scored by models trained without it, \
                     against real speakers those models never heard (mean over 5 speaker folds)",
                ),
                Cv::Speaker => (
                    cv_speakers(&clips, &feats, args.l2, 5)?,
                    "speaker-held-out 5-fold: every clip scored by a model that never heard its \
                     speaker or voice (EERs within each fold, averaged)",
                ),
            };
            let (clean_rows, clean_pooled) = summarize(&clips, &clean);
            let (phone_rows, phone_pooled) = summarize(&clips, &phone);
            let rows = clean_rows
                .into_iter()
                .zip(phone_rows)
                .map(|(clean, telephone)| Row { clean, telephone })
                .collect();
            let pooled = (cv == Cv::Speaker).then_some([clean_pooled, phone_pooled]);
            (title.to_string(), rows, pooled, [clean, phone])
        }
    };
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        EvalFormat::Table
    } else {
        EvalFormat::Json
    });
    print(format, &title, &rows, pooled);
    if let Some(path) = &args.plot {
        plot_det(path, &sets, args.cv.is_some())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Draws the DET curves of both conditions; cross-validation folds are pooled into one curve
/// (the figure says so: each fold's model has its own offset, so the pooled curve is
/// pessimistic next to the per-fold EERs of the table).
fn plot_det(path: &std::path::Path, sets: &[Vec<ScoreSet>; 2], cv: bool) -> anyhow::Result<()> {
    let format = ImageFormat::from_path(path)?;
    let curves = ["clean", "telephone copy"]
        .iter()
        .zip(sets)
        .map(|(label, folds)| DetCurve {
            label: label.to_string(),
            bonafide: folds.iter().flat_map(|f| f.bonafide.clone()).collect(),
            spoof: folds
                .iter()
                .flat_map(|f| f.spoof.values().flatten().copied())
                .collect(),
        })
        .collect();
    let title = if cv {
        format!("Held-out scores pooled over {} fold models", sets[0].len())
    } else {
        "Scores of one model".to_string()
    };
    let bytes = render(&DetFigure { title, curves }, format, (1100, 520))?;
    write_atomically(path, &bytes)
}

fn mean(rows: &[Row], get: impl Fn(&Row) -> f64) -> f64 {
    rows.iter().map(get).sum::<f64>() / rows.len().max(1) as f64
}

fn print(format: EvalFormat, title: &str, rows: &[Row], pooled: Option<[f64; 2]>) {
    let mean_clean = mean(rows, |r| r.clean.eer);
    let mean_phone = mean(rows, |r| r.telephone.eer);
    match format {
        EvalFormat::Json => {
            let systems: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({
                        "system": r.clean.system,
                        "spoof": r.clean.spoof,
                        "bonafide": r.clean.bonafide,
                        "eer_clean": r.clean.eer,
                        "eer_telephone": r.telephone.eer,
                    })
                })
                .collect();
            let doc = json!({
                "description": title,
                "pooled_eer": pooled.map(|p| json!({"clean": p[0], "telephone": p[1]})),
                "mean_system_eer": {"clean": mean_clean, "telephone": mean_phone},
                "systems": systems,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("serialisable")
            );
        }
        EvalFormat::Table => {
            println!("{title}");
            println!(
                "{:<28} {:>6} {:>9} {:>11} {:>15}",
                "system", "spoof", "bonafide", "EER clean", "EER telephone"
            );
            for r in rows {
                println!(
                    "{:<28} {:>6} {:>9} {:>10.1}% {:>14.1}%",
                    r.clean.system,
                    r.clean.spoof,
                    r.clean.bonafide,
                    100.0 * r.clean.eer,
                    100.0 * r.telephone.eer
                );
            }
            println!(
                "{:<45} {:>10.1}% {:>14.1}%",
                "mean over systems",
                100.0 * mean_clean,
                100.0 * mean_phone
            );
            if let Some([c, t]) = pooled {
                println!(
                    "{:<45} {:>10.1}% {:>14.1}%",
                    "pooled (all spoofs vs all bonafide)",
                    100.0 * c,
                    100.0 * t
                );
            }
        }
    }
}
