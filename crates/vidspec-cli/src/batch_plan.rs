//! `vidspec batch plan`: what a manifest is estimated to cost, per model and
//! in total, the jobs without a known price, and where each price came
//! from (the price file or the ledger's learned prices). Nothing is sent.
//!
//! The arithmetic and the plan's JSON shape are vidspec-batch's
//! (`cost_plan`); this module reads the inputs and prints. It must not price
//! anything itself and must not know any model.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use vidspec_batch::prices::format_usd;
use vidspec_batch::{CostPlan, Job, PriceBook, PriceSource, cost_plan};
use vidspec_journal::{State, TaskStore};

use crate::Exit;
use crate::batch;
use crate::batch_run::report_invalid;
use crate::cli::BatchPlanArgs;
use crate::gateway::runtime;
use crate::output::terminal;
use crate::registry;

/// Runs `batch plan`.
pub fn plan(args: &BatchPlanArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let source = args.manifest.display().to_string();
    let manifest = vidspec_batch::manifest::load(&args.manifest, &registry)?;
    report_invalid(&source, &manifest.invalid);
    let run = batch::run_name(args.run.as_deref(), Some(&args.manifest))?;
    let runtime = runtime()?;
    let store = batch::open_store(&runtime, &args.ledger)?;
    let prices = price_book(&runtime, store.as_ref(), args.prices.as_deref())?;
    let remaining = not_downloaded(&runtime, store.as_ref(), &run, &manifest.jobs)?;
    let already = manifest.jobs.len() - remaining.len();
    let plan = cost_plan(
        remaining
            .iter()
            .map(|job| (job.id.as_str(), job.model.as_str(), &job.billing)),
        &prices,
    );
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &plan)?;
        writeln!(out)?;
    } else {
        write_plan(&mut out, &source, &run, &plan, already)?;
    }
    out.flush()?;
    if manifest.invalid.is_empty() {
        Ok(Exit::Valid)
    } else {
        eprintln!(
            "{}",
            terminal(&format!(
                "{source}: {} invalid line(s) are not in the estimate",
                manifest.invalid.len()
            ))
        );
        Ok(Exit::Invalid)
    }
}

/// The prices: the lines of the price file (if any) over what the ledger
/// learned from the costs the gateway reported.
pub fn price_book(
    runtime: &tokio::runtime::Runtime,
    store: &dyn TaskStore,
    file: Option<&Path>,
) -> anyhow::Result<PriceBook> {
    let prices = match file {
        Some(path) => PriceBook::from_yaml_file(path)?,
        None => PriceBook::empty(),
    };
    let learned = runtime
        .block_on(store.learned_prices())
        .context("cannot read the learned prices from the ledger")?;
    Ok(prices.with_learned(learned))
}

/// The jobs of run `run` whose videos are not saved yet, in order.
pub fn not_downloaded<'j>(
    runtime: &tokio::runtime::Runtime,
    store: &dyn TaskStore,
    run: &str,
    jobs: &'j [Job],
) -> anyhow::Result<Vec<&'j Job>> {
    let entries = runtime
        .block_on(vidspec_journal::all_run_entries(store, run))
        .with_context(|| format!("cannot read run {} from the ledger", terminal(run)))?;
    let downloaded: HashSet<&str> = entries
        .iter()
        .filter(|entry| entry.state == State::Downloaded)
        .filter_map(|entry| entry.job.as_ref().map(|job| job.job.as_str()))
        .collect();
    Ok(jobs
        .iter()
        .filter(|job| !downloaded.contains(job.id.as_str()))
        .collect())
}

/// Where a price came from, in words.
fn source_words(source: &PriceSource) -> String {
    match source {
        PriceSource::File { pattern } => format!("price file: {pattern}"),
        PriceSource::Learned { tasks } => {
            format!("learned from {tasks} completed task(s) in the ledger")
        }
    }
}

/// Pads `cells` into aligned columns (the last one unpadded); numbers are
/// right-aligned where `right[i]`.
fn aligned(rows: &[Vec<String>], right: &[bool]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::from(" ");
            for (column, cell) in row.iter().enumerate() {
                let pad = widths[column].saturating_sub(cell.chars().count());
                line.push(' ');
                if right.get(column).copied().unwrap_or(false) {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if column + 1 < row.len() {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
                line.push(' ');
            }
            line.trim_end().to_owned()
        })
        .collect()
}

fn write_plan(
    out: &mut dyn Write,
    source: &str,
    run: &str,
    plan: &CostPlan,
    already: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        terminal(&format!(
            "estimate for {source} (run {run}): {} job(s), {}{}",
            plan.jobs,
            format_usd(plan.total),
            if plan.fully_priced() {
                String::new()
            } else {
                format!(
                    " for the priced ones; {} without a price",
                    plan.unpriced_jobs.len()
                )
            }
        ))
    )?;
    if already > 0 {
        writeln!(
            out,
            "{already} job(s) already downloaded in this run are not counted"
        )?;
    }
    if !plan.per_model.is_empty() {
        writeln!(out, "\nper model:")?;
        let mut rows = vec![vec![
            "MODEL".to_owned(),
            "JOBS".to_owned(),
            "ESTIMATE".to_owned(),
            "NO PRICE".to_owned(),
        ]];
        for model in &plan.per_model {
            rows.push(vec![
                terminal(&model.model).into_owned(),
                model.jobs.to_string(),
                format_usd(model.estimate),
                model.unpriced.to_string(),
            ]);
        }
        rows.push(vec![
            "total".to_owned(),
            plan.jobs.to_string(),
            format_usd(plan.total),
            plan.unpriced_jobs.len().to_string(),
        ]);
        for line in aligned(&rows, &[false, true, true, true]) {
            writeln!(out, "{line}")?;
        }
    }
    if !plan.per_key.is_empty() {
        writeln!(out, "\nper billing key:")?;
        let mut rows = vec![vec![
            "BILLING KEY".to_owned(),
            "UNITS".to_owned(),
            "PRICE".to_owned(),
            "ESTIMATE".to_owned(),
            "PRICE FROM".to_owned(),
        ]];
        for key in &plan.per_key {
            let (price, from) = match &key.price {
                Some(price) => (format_usd(price.amount), source_words(&price.source)),
                None => ("-".to_owned(), "no price".to_owned()),
            };
            rows.push(vec![
                terminal(&key.key).into_owned(),
                key.units.to_string(),
                price,
                key.estimate
                    .map(format_usd)
                    .unwrap_or_else(|| "-".to_owned()),
                terminal(&from).into_owned(),
            ]);
        }
        for line in aligned(&rows, &[false, true, true, true, false]) {
            writeln!(out, "{line}")?;
        }
    }
    if !plan.unpriced_jobs.is_empty() {
        writeln!(
            out,
            "\nno known price ({} job(s)); add their billing keys to a --prices file:",
            plan.unpriced_jobs.len()
        )?;
        for job in &plan.unpriced_jobs {
            writeln!(
                out,
                "  {}",
                terminal(&format!("{} ({}): {}", job.job, job.model, job.key))
            )?;
        }
    }
    Ok(())
}
