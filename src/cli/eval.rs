//! `voxguard eval`: EER, minimum detection cost and Cllr of a model on a manifest, or of training
//! itself under generator-, family- or speaker-held-out cross-validation.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::train::FitArgs;
use voxguard::dataset::Clip;
use voxguard::eval::metrics::ReliabilityBin;
use voxguard::eval::{
    BUILTIN_FAMILIES, BUILTIN_VOICES, CvConfig, Families, ScoreSet, SystemMetrics, Voices,
    cv_groups, cv_speakers, mean_metrics, regroup, reliability, score_clips, summarize,
};
use voxguard::model::Model;
use voxguard::model::classifier::ClassifierKind;
use voxguard::model::deviation::DEVIATION_WEIGHT;
use voxguard::pipeline::AnalysisConfig;
use voxguard::plot::det::{DetCurve, DetFigure};
use voxguard::plot::{ImageFormat, render};
use voxguard::segment::DynamicsMode;
use voxguard::train::{
    Calibrated, ClipFeatures, Condition, FRAME_WEIGHT, Fitted, TRAINING_CONDITIONS,
};

use super::train::load_features;
use super::{set_jobs, write_atomically};

/// Cross-validation schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cv {
    /// Leave one generator out of training, score it (and unseen real speakers), for each.
    System,
    /// Leave one generator family out (families from `--families`), for each.
    Family,
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
    /// `system,family` CSV for `--cv family` [default: the built-in models/families.csv].
    #[arg(long)]
    families: Option<PathBuf>,
    /// Under `--cv`, fold real speakers by voice and, for `system` and `family`, also train each
    /// fold model without the voices of the synthetic clips it is tested on (both classes).
    #[arg(long)]
    hold_out_voices: bool,
    /// `speaker,voice` CSV naming the speakers that are one voice, for `--hold-out-voices`
    /// [default: the built-in models/voices.csv].
    #[arg(long, requires = "hold_out_voices")]
    voices: Option<PathBuf>,
    /// The fold models of `--cv` [default: the shipped model's settings].
    #[command(flatten)]
    fit: FitArgs,
    /// Seed of the real-speaker folds of `--cv` and of the telephone and degraded copies (0 gives
    /// the figures the model card reports). `--seeds` varies the folds; the copies come from the
    /// first seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Repeat `--cv` with this many seeds (seed, seed+1, ...) and report mean ± standard
    /// deviation of the summary figures.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
    seeds: u64,
    /// The copy of every clip scored beside the clean one: the 8 kHz μ-law telephone copy, the
    /// clip with coloured noise at 10-30 dB SNR, the clip through GSM 06.10 at 8 kHz, the clip
    /// as 16 kbit/s MP3 at 8 kHz, or the telephone copy stored as a 16-bit file at 16 kHz at the
    /// clip's level or 20 dB down (none but the first is a training copy), or `supplied`: a copy
    /// made by another tool, read from `--copy-dir`.
    #[arg(long, value_enum, default_value_t = TestCopy::Telephone)]
    copy: TestCopy,
    /// With `--copy supplied`: the folder holding each clip's copy under the clip's file name,
    /// any extension (`a/LJ001-0021.flac` → `DIR/LJ001-0021.mp3`), e.g. made by ffmpeg with a
    /// real codec. A clip without a single copy there, or whose name another clip shares, is
    /// reported and left out.
    #[arg(long)]
    copy_dir: Option<PathBuf>,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    format: Option<EvalFormat>,
    /// Also draw DET curves (clean and telephone copies) and score histograms to this
    /// `.png` or `.svg` file (from the first seed).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Also write every clip score behind the tables to this CSV, one row per clip, condition
    /// and model (`seed,model,file,label,system,group,condition,llr`; every seed): to pool,
    /// fuse or test them elsewhere. Only scores of one `model` are comparable (each fold model
    /// is calibrated on its own training data).
    #[arg(long)]
    scores: Option<PathBuf>,
    /// Clips analysed in parallel (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// The second condition of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TestCopy {
    /// 8 kHz μ-law telephone band.
    Telephone,
    /// Coloured noise at 10-30 dB SNR.
    Noisy,
    /// GSM 06.10 at 8 kHz (the codec itself, libgsm).
    Gsm,
    /// MP3 at 8 kHz and 16 kbit/s.
    Mp3,
    /// The telephone copy stored as a 16-bit file at 16 kHz, at the clip's level.
    StoredCall,
    /// The telephone copy stored as a 16-bit file at 16 kHz, 20 dB down.
    QuietStoredCall,
    /// A copy made by another tool, read from `--copy-dir`.
    Supplied,
}

impl TestCopy {
    fn condition(self) -> Condition {
        match self {
            TestCopy::Telephone => Condition::Telephone,
            TestCopy::Noisy => Condition::Noisy,
            TestCopy::Gsm => Condition::Gsm,
            TestCopy::Mp3 => Condition::Mp3,
            TestCopy::StoredCall => Condition::StoredCall,
            TestCopy::QuietStoredCall => Condition::QuietStoredCall,
            TestCopy::Supplied => Condition::Supplied,
        }
    }

    /// Key in the JSON output and heading in the tables.
    fn name(self) -> &'static str {
        self.condition().name()
    }
}

/// One evaluation run: the table rows, the summaries and the scores behind them.
struct Outcome {
    /// Seed of the folds and copies.
    seed: u64,
    /// What the second column measures.
    copy: TestCopy,
    /// Per generator (or family): clean and copy metrics.
    rows: Vec<(SystemMetrics, SystemMetrics)>,
    /// All spoofs against all bonafide clips, when that is one model's scores (or a mean over
    /// fold models of such figures).
    pooled: Option<(SystemMetrics, SystemMetrics)>,
    /// Score sets of both conditions, one per model.
    sets: [Vec<ScoreSet>; 2],
}

impl Outcome {
    /// Mean over the rows of each metric, clean and telephone.
    fn mean(&self) -> (SystemMetrics, SystemMetrics) {
        let clean: Vec<_> = self.rows.iter().map(|r| r.0.clone()).collect();
        let phone: Vec<_> = self.rows.iter().map(|r| r.1.clone()).collect();
        (mean_metrics("mean", &clean), mean_metrics("mean", &phone))
    }

    /// Reliability tables of the calibrated scores of all models pooled, clean and telephone.
    fn reliability(&self) -> [Vec<ReliabilityBin>; 2] {
        std::array::from_fn(|cond| {
            let (bona, spoof) = pooled_scores(&self.sets[cond]);
            reliability(&bona, &spoof)
        })
    }
}

/// The bonafide and spoof scores of all `folds` together.
fn pooled_scores(folds: &[ScoreSet]) -> (Vec<f64>, Vec<f64>) {
    let bona = folds
        .iter()
        .flat_map(|f| f.bonafide.iter().copied())
        .collect();
    let spoof = folds.iter().flat_map(|f| f.all_spoof()).collect();
    (bona, spoof)
}

/// The text of a mapping CSV and the name errors give it: the file at `path`, or the built-in
/// `models/{name}.csv`.
fn mapping(path: &Option<PathBuf>, builtin: &str, name: &str) -> anyhow::Result<(String, String)> {
    Ok(match path {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the {name} file {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (builtin.to_string(), format!("models/{name}.csv (built in)")),
    })
}

/// Runs the evaluation and prints the tables.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    set_jobs(args.jobs)?;
    if let Some(path) = &args.plot {
        ImageFormat::from_path(path)?;
    }
    if let Some(path) = &args.scores {
        check_output_dir(path)?;
    }
    let copy_dir = match (args.copy, &args.copy_dir) {
        (TestCopy::Supplied, Some(dir)) => Some(dir.as_path()),
        (TestCopy::Supplied, None) => bail!("--copy supplied needs --copy-dir"),
        (_, Some(_)) => bail!("--copy-dir needs --copy supplied"),
        (_, None) => None,
    };
    let (text, source) = mapping(&args.families, BUILTIN_FAMILIES, "families")?;
    let families = Families::parse(&text, &source)?;
    let (title, clips, outcomes) = match args.cv {
        None => {
            let model = match &args.model {
                Some(p) => Model::load(p)?,
                None => Model::builtin()?,
            };
            let analysis = AnalysisConfig {
                features: model.file.features.clone(),
                dynamics: match model.file.frame_model {
                    Some(_) => DynamicsMode::Keep,
                    None => DynamicsMode::Skip,
                },
                ..AnalysisConfig::default()
            };
            let (clips, feats) = load_features(
                &args.manifest,
                &analysis,
                args.seed,
                &[Condition::Clean, args.copy.condition()],
                copy_dir,
                args.quiet,
            )?;
            let title = format!(
                "model {} v{} ({}) on {}: every clip scored by the one model",
                model.file.name,
                model.file.version,
                &model.sha256[..12],
                args.manifest.display()
            );
            let calibrated = Calibrated {
                fitted: Fitted {
                    standardizer: model.file.standardizer.clone(),
                    classifier: model.file.classifier.clone(),
                    frame: model.file.frame_model.clone(),
                },
                calibration: model.file.calibration,
            };
            let outcome = score_model(&calibrated, &clips, &feats, args.copy, args.seed);
            (title, clips, vec![outcome])
        }
        Some(cv) => {
            // Fold models train on the training copies and are scored on the clean clips and
            // the requested copy.
            let mut wanted = TRAINING_CONDITIONS.to_vec();
            if !wanted.contains(&args.copy.condition()) {
                wanted.push(args.copy.condition());
            }
            // The one-class part reads the statistics of the default features, extracted here.
            let fit = args.fit.settings(&AnalysisConfig::default().features);
            let analysis = fit.analysis();
            let (clips, feats) = load_features(
                &args.manifest,
                &analysis,
                args.seed,
                &wanted,
                copy_dir,
                args.quiet,
            )?;
            // Held-out voices: every clip's speaker becomes its voice, once for all seeds.
            let clips = if args.hold_out_voices {
                let (text, source) = mapping(&args.voices, BUILTIN_VOICES, "voices")?;
                Voices::parse(&text, &source)?.apply(&clips)
            } else {
                clips
            };
            let title = match cv {
                Cv::System => {
                    "leave-one-system-out: each generator scored by models trained (and \
                     calibrated) without it, against real speakers those models never heard \
                     (mean over 5 speaker folds)"
                }
                Cv::Family => {
                    "leave-one-family-out: each generator family scored by models trained (and \
                     calibrated) without any of its generators, against real speakers those \
                     models never heard (mean over 5 speaker folds)"
                }
                Cv::Speaker => {
                    "speaker-held-out 5-fold: every clip scored by a model that never heard its \
                     speaker or voice (figures within each fold, averaged)"
                }
            };
            let outcomes = (args.seed..args.seed + args.seeds)
                .map(|seed| {
                    let cfg = CvConfig {
                        k: 5,
                        seed,
                        copy: args.copy.condition(),
                        fit: fit.clone(),
                        hold_out_voices: args.hold_out_voices,
                    };
                    cross_validate(cv, &clips, &feats, &families, &cfg, args.copy, seed)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let title = if args.hold_out_voices {
                format!("{title}; the tested voices held out of training too")
            } else {
                title.to_string()
            };
            let title = match args.fit.classifier() {
                kind if kind == ClassifierKind::default() => title,
                kind => format!("{title} [classifier: {}]", kind.description()),
            };
            let title = match fit.frame_weight {
                w if w == FRAME_WEIGHT => title,
                w => format!("{title} [frame weight: {w}]"),
            };
            let title = match fit.deviation_weight {
                w if w == DEVIATION_WEIGHT
                    || args.fit.classifier() != ClassifierKind::default() =>
                {
                    title
                }
                w => format!("{title} [deviation weight: {w}]"),
            };
            let title = if fit.narrowband_bands.is_empty() {
                format!("{title} [one Gaussian of real speech]")
            } else {
                title
            };
            (title, clips, outcomes)
        }
    };
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        EvalFormat::Table
    } else {
        EvalFormat::Json
    });
    match format {
        EvalFormat::Table => print_table(&title, &outcomes, args.seed),
        EvalFormat::Json => print_json(&title, &outcomes, args.seed),
    }
    if let Some(path) = &args.plot {
        plot_det(path, &outcomes[0], args.cv.is_some())?;
    }
    if let Some(path) = &args.scores {
        write_scores(path, &clips, &outcomes)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn score_model(
    model: &Calibrated,
    clips: &[Clip],
    feats: &[ClipFeatures],
    copy: TestCopy,
    seed: u64,
) -> Outcome {
    let all: Vec<usize> = (0..clips.len()).collect();
    let mut sets: [ScoreSet; 2] = Default::default();
    score_clips(model, clips, feats, &all, copy.condition(), &mut sets);
    let [clean, phone] = sets;
    let rows = clean
        .per_system()
        .into_iter()
        .zip(phone.per_system())
        .collect();
    Outcome {
        seed,
        copy,
        rows,
        pooled: Some((clean.pooled(), phone.pooled())),
        sets: [vec![clean], vec![phone]],
    }
}

fn cross_validate(
    cv: Cv,
    clips: &[Clip],
    feats: &[ClipFeatures],
    families: &Families,
    cfg: &CvConfig,
    copy: TestCopy,
    seed: u64,
) -> anyhow::Result<Outcome> {
    // Rows are keyed by what is held out: for families, the family.
    let keyed = match cv {
        Cv::Family => regroup(clips, &|s| families.family(s))?,
        Cv::System | Cv::Speaker => clips.to_vec(),
    };
    let [clean, phone] = match cv {
        Cv::System | Cv::Family => cv_groups(clips, &keyed, feats, cfg)?,
        Cv::Speaker => cv_speakers(clips, feats, cfg)?,
    };
    let (clean_rows, clean_pooled) = summarize(&keyed, &clean);
    let (phone_rows, phone_pooled) = summarize(&keyed, &phone);
    Ok(Outcome {
        seed,
        copy,
        rows: clean_rows.into_iter().zip(phone_rows).collect(),
        pooled: (cv == Cv::Speaker).then_some((clean_pooled, phone_pooled)),
        sets: [clean, phone],
    })
}

fn metrics_json(m: &SystemMetrics) -> Value {
    json!({"eer": m.eer, "min_dcf": m.min_dcf, "cllr": m.cllr})
}

/// Mean and standard deviation over seeds of one summary figure.
fn spread(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// The summary figures of every seed: (name, per-seed values).
fn seed_summary(outcomes: &[Outcome]) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    let means: Vec<_> = outcomes.iter().map(Outcome::mean).collect();
    let copy = outcomes[0].copy.name();
    for (cond, pick) in [("clean", 0), (copy, 1)] {
        let get =
            |m: &(SystemMetrics, SystemMetrics)| if pick == 0 { m.0.clone() } else { m.1.clone() };
        out.push((
            format!("mean EER {cond}"),
            means.iter().map(|m| get(m).eer).collect(),
        ));
        out.push((
            format!("mean minDCF {cond}"),
            means.iter().map(|m| get(m).min_dcf).collect(),
        ));
        out.push((
            format!("mean Cllr {cond}"),
            means.iter().map(|m| get(m).cllr).collect(),
        ));
    }
    out
}

fn print_json(title: &str, outcomes: &[Outcome], first_seed: u64) {
    let first = &outcomes[0];
    let copy = first.copy.name();
    let pair = |c: Value, t: Value| {
        let mut m = serde_json::Map::new();
        m.insert("clean".into(), c);
        m.insert(copy.into(), t);
        Value::Object(m)
    };
    let (mean_clean, mean_copy) = first.mean();
    let systems: Vec<Value> = first
        .rows
        .iter()
        .map(|(c, t)| {
            let mut row = json!({
                "system": c.system,
                "spoof": c.spoof,
                "bonafide": c.bonafide,
                "eer_clean": c.eer,
                "clean": metrics_json(c),
            });
            row[format!("eer_{copy}")] = json!(t.eer);
            row[copy] = metrics_json(t);
            row
        })
        .collect();
    let [rel_clean, rel_copy] = first.reliability();
    let seeds: Vec<Value> = seed_summary(outcomes)
        .into_iter()
        .map(|(name, v)| {
            let (mean, sd) = spread(&v);
            json!({"figure": name, "values": v, "mean": mean, "sd": sd})
        })
        .collect();
    let doc = json!({
        "description": title,
        "seed": first_seed,
        "copy": copy,
        "systems": systems,
        "mean_system_eer": pair(json!(mean_clean.eer), json!(mean_copy.eer)),
        "mean_system": pair(metrics_json(&mean_clean), metrics_json(&mean_copy)),
        "pooled_eer": first.pooled.as_ref().map(|(c, t)| pair(json!(c.eer), json!(t.eer))),
        "pooled": first.pooled.as_ref().map(|(c, t)| pair(metrics_json(c), metrics_json(t))),
        "reliability": pair(json!(rel_clean), json!(rel_copy)),
        "seeds": seeds,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("serialisable")
    );
}

fn print_table(title: &str, outcomes: &[Outcome], first_seed: u64) {
    let first = &outcomes[0];
    println!("{title}");
    println!(
        "{:<28} {:>5} {:>5} | {:>6} {:>6} {:>5} | {:>6} {:>6} {:>5}",
        "",
        "",
        "",
        "clean",
        "",
        "",
        format!("{} copy", first.copy.name()),
        "",
        ""
    );
    println!(
        "{:<28} {:>5} {:>5} | {:>6} {:>6} {:>5} | {:>6} {:>6} {:>5}",
        "system", "spoof", "bona", "EER", "minDCF", "Cllr", "EER", "minDCF", "Cllr"
    );
    let line = |name: &str, spoof: String, bona: String, c: &SystemMetrics, t: &SystemMetrics| {
        println!(
            "{:<28} {:>5} {:>5} | {:>5.1}% {:>6.3} {:>5.2} | {:>5.1}% {:>6.3} {:>5.2}",
            name,
            spoof,
            bona,
            100.0 * c.eer,
            c.min_dcf,
            c.cllr,
            100.0 * t.eer,
            t.min_dcf,
            t.cllr
        );
    };
    for (c, t) in &first.rows {
        line(&c.system, c.spoof.to_string(), c.bonafide.to_string(), c, t);
    }
    let (mc, mt) = first.mean();
    line("mean over rows", String::new(), String::new(), &mc, &mt);
    if let Some((c, t)) = &first.pooled {
        line(
            "pooled: all spoof, all bona",
            String::new(),
            String::new(),
            c,
            t,
        );
    }
    let [rel_clean, rel_copy] = first.reliability();
    println!(
        "\nreliability of the calibrated scores (all models pooled; classes weighted equally)"
    );
    println!(
        "{:<11} | {:>5} {:>5} {:>9} {:>8} | {:>5} {:>5} {:>9} {:>8}",
        "predicted",
        "bona",
        "spoof",
        "mean pred",
        "observed",
        "bona",
        "spoof",
        "mean pred",
        "observed"
    );
    // An empty band has no mean prediction and no observed rate: a dash, not -0.000 and NaN.
    let band = |b: &ReliabilityBin| match b.bonafide + b.spoof {
        0 => format!("{:>5} {:>5} {:>9} {:>8}", 0, 0, "-", "-"),
        _ => format!(
            "{:>5} {:>5} {:>9.3} {:>8.3}",
            b.bonafide, b.spoof, b.predicted, b.observed
        ),
    };
    for (c, t) in rel_clean.iter().zip(&rel_copy) {
        println!("{:.1}-{:.1}     | {} | {}", c.from, c.to, band(c), band(t));
    }
    if outcomes.len() > 1 {
        println!(
            "\nover seeds {first_seed}..{} (mean ± standard deviation)",
            first_seed + outcomes.len() as u64 - 1
        );
        for (name, values) in seed_summary(outcomes) {
            let (mean, sd) = spread(&values);
            println!("{name:<22} {mean:.3} ± {sd:.3}");
        }
    }
}

/// Draws the DET curves of both conditions; cross-validation folds are pooled into one curve
/// (the figure says so; each fold model is calibrated, but pooled curves can still be
/// pessimistic next to the per-fold EERs of the table).
fn plot_det(path: &Path, outcome: &Outcome, cv: bool) -> anyhow::Result<()> {
    let format = ImageFormat::from_path(path)?;
    let sets = &outcome.sets;
    let curves = ["clean".to_string(), format!("{} copy", outcome.copy.name())]
        .iter()
        .zip(sets)
        .map(|(label, folds)| {
            let (bonafide, spoof) = pooled_scores(folds);
            DetCurve {
                label: label.to_string(),
                bonafide,
                spoof,
            }
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

/// Fails early, before a long run, when `path`'s directory does not exist.
fn check_output_dir(path: &Path) -> anyhow::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => anyhow::bail!(
            "cannot write {}: the directory {} does not exist",
            path.display(),
            dir.display()
        ),
        _ => Ok(()),
    }
}

/// Writes every clip score of `outcomes` (see `--scores`): per seed, condition and model, in the
/// order the models scored them.
fn write_scores(path: &Path, clips: &[Clip], outcomes: &[Outcome]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "seed",
        "model",
        "file",
        "label",
        "system",
        "group",
        "condition",
        "llr",
    ])?;
    for outcome in outcomes {
        let conditions = ["clean", outcome.copy.name()];
        for (models, condition) in outcome.sets.iter().zip(conditions) {
            for (model, set) in models.iter().enumerate() {
                for scored in &set.scored {
                    let clip = &clips[scored.index];
                    w.write_record([
                        outcome.seed.to_string().as_str(),
                        model.to_string().as_str(),
                        clip.path.display().to_string().as_str(),
                        clip.label.as_str(),
                        clip.system.as_str(),
                        scored.group.as_str(),
                        condition,
                        scored.llr.to_string().as_str(),
                    ])?;
                }
            }
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    write_atomically(path, &bytes)
}
