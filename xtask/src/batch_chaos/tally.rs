//! The chaos run's counts, from the simulator's side: which job each task
//! the simulator created belongs to (the job id is in the prompt), how many
//! tasks beyond one per job, which jobs were paid for but have no video on
//! disk, and the checks the summary line rests on.
//!
//! Owns pure counting over lists it is given; it must not talk to the
//! simulator, start processes or read the disk (the command does, and hands
//! the lists in), so every rule here is tested without a run.

use std::collections::{BTreeMap, BTreeSet};

use vidspec_sim::SimTask;

/// What every chaos prompt starts with; the job id follows.
pub const PROMPT_PREFIX: &str = "chaos job ";

/// The prompt of job `id`.
pub fn prompt_of(id: &str) -> String {
    format!("{PROMPT_PREFIX}{id}")
}

/// The job id a prompt names, if it is a chaos prompt.
pub fn job_of_prompt(prompt: &str) -> Option<&str> {
    prompt
        .strip_prefix(PROMPT_PREFIX)
        .filter(|id| !id.is_empty())
}

/// What the command observed once every worker had finished.
pub struct Observed<'a> {
    /// The manifest's job ids.
    pub jobs: &'a BTreeSet<String>,
    /// `GET /__sim/tasks`: every task the simulator created.
    pub tasks: &'a [SimTask],
    /// The simulator's own submit counter (`Stats::submits`).
    pub sim_submits: u64,
    /// Video files saved per job id (from the file names in the output folder).
    pub videos: &'a BTreeMap<String, usize>,
    /// Jobs the ledger leaves `unknown` (sent, never answered, no key to resend).
    pub unknown: &'a BTreeSet<String>,
}

/// The counts of the summary line, the jobs behind them, and failed checks.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    /// Tasks the simulator created.
    pub submits: usize,
    /// Job video files saved on disk.
    pub videos: usize,
    /// Tasks beyond one per job.
    pub duplicates: usize,
    /// Jobs whose task completed on the simulator but whose video was not
    /// saved, and which the ledger does not report as `unknown`.
    pub lost: Vec<String>,
    /// Jobs left `unknown` whose task the simulator did create (paid, not
    /// downloaded, listed for reconciliation).
    pub unknown_paid: Vec<String>,
    /// Jobs with more than one task.
    pub duplicated: Vec<String>,
    /// Distinct jobs the simulator created tasks for.
    pub jobs_with_tasks: usize,
    /// Every check that did not hold, as a sentence.
    pub failures: Vec<String>,
}

/// Counts `observed`.
pub fn tally(observed: &Observed<'_>) -> Tally {
    let mut per_job: BTreeMap<&str, Vec<&SimTask>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut strangers = 0usize;
    for task in observed.tasks {
        match job_of_prompt(&task.prompt).filter(|id| observed.jobs.contains(*id)) {
            Some(job) => per_job.entry(job).or_default().push(task),
            None => strangers += 1,
        }
    }
    if strangers > 0 {
        failures.push(format!(
            "{strangers} task(s) on the simulator belong to no job of the manifest"
        ));
    }
    let submits = observed.tasks.len();
    if observed.sim_submits != submits as u64 {
        failures.push(format!(
            "the simulator counted {} submits but lists {submits} tasks",
            observed.sim_submits
        ));
    }
    let duplicated: Vec<String> = per_job
        .iter()
        .filter(|(_, tasks)| tasks.len() > 1)
        .map(|(job, _)| (*job).to_owned())
        .collect();
    let duplicates = per_job.values().map(|tasks| tasks.len() - 1).sum();
    let jobs_with_tasks = per_job.len();
    if submits != jobs_with_tasks {
        failures.push(format!(
            "submits={submits} but the simulator created tasks for {jobs_with_tasks} distinct jobs"
        ));
    }
    let saved = |job: &str| observed.videos.get(job).copied().unwrap_or(0) > 0;
    let mut lost = Vec::new();
    let mut unknown_paid = Vec::new();
    let mut unfinished = Vec::new();
    for job in observed.jobs {
        let tasks = per_job.get(job.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let completed = tasks.iter().any(|task| task.status == "completed");
        let failed = !tasks.is_empty() && tasks.iter().all(|task| task.status == "failed");
        let unknown = observed.unknown.contains(job);
        if saved(job) || failed {
            continue;
        }
        if unknown {
            if !tasks.is_empty() {
                unknown_paid.push(job.clone());
            }
        } else if completed {
            lost.push(job.clone());
        } else {
            unfinished.push(job.clone());
        }
    }
    if !unfinished.is_empty() {
        failures.push(format!(
            "{} job(s) ended neither downloaded, failed nor unknown (first: {})",
            unfinished.len(),
            unfinished[0]
        ));
    }
    let strays: Vec<&String> = observed
        .videos
        .keys()
        .filter(|job| !observed.jobs.contains(*job))
        .collect();
    if let Some(first) = strays.first() {
        failures.push(format!(
            "{} video file(s) name no job of the manifest (first: {first})",
            strays.len()
        ));
    }
    Tally {
        submits,
        videos: observed.videos.values().sum(),
        duplicates,
        lost,
        unknown_paid,
        duplicated,
        jobs_with_tasks,
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, job: &str, status: &str) -> SimTask {
        SimTask {
            id: id.to_owned(),
            status: status.to_owned(),
            prompt: prompt_of(job),
        }
    }

    fn jobs(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    fn videos(entries: &[(&str, usize)]) -> BTreeMap<String, usize> {
        entries
            .iter()
            .map(|(job, count)| ((*job).to_owned(), *count))
            .collect()
    }

    fn run(
        all: &BTreeSet<String>,
        tasks: &[SimTask],
        saved: &BTreeMap<String, usize>,
        unknown: &BTreeSet<String>,
    ) -> Tally {
        tally(&Observed {
            jobs: all,
            tasks,
            sim_submits: tasks.len() as u64,
            videos: saved,
            unknown,
        })
    }

    #[test]
    fn one_task_and_one_video_per_job_is_a_clean_run() {
        let all = jobs(&["a", "b"]);
        let tasks = [task("t1", "a", "completed"), task("t2", "b", "completed")];
        let counted = run(&all, &tasks, &videos(&[("a", 1), ("b", 1)]), &jobs(&[]));
        assert_eq!(
            (counted.submits, counted.videos, counted.duplicates),
            (2, 2, 0)
        );
        assert!(
            counted.lost.is_empty() && counted.failures.is_empty(),
            "{counted:?}"
        );
    }

    #[test]
    fn a_second_task_for_a_job_is_a_duplicate_and_fails_the_submits_check() {
        let all = jobs(&["a"]);
        let tasks = [task("t1", "a", "completed"), task("t2", "a", "completed")];
        let counted = run(&all, &tasks, &videos(&[("a", 1)]), &jobs(&[]));
        assert_eq!(counted.duplicates, 1);
        assert_eq!(counted.duplicated, ["a"]);
        assert!(counted.failures[0].contains("submits=2"), "{counted:?}");
    }

    #[test]
    fn a_completed_task_without_a_video_is_lost() {
        let all = jobs(&["a"]);
        let counted = run(
            &all,
            &[task("t1", "a", "completed")],
            &videos(&[]),
            &jobs(&[]),
        );
        assert_eq!(counted.lost, ["a"]);
    }

    #[test]
    fn a_job_the_ledger_lists_as_unknown_is_counted_apart_not_lost() {
        let all = jobs(&["a"]);
        let counted = run(
            &all,
            &[task("t1", "a", "completed")],
            &videos(&[]),
            &jobs(&["a"]),
        );
        assert!(counted.lost.is_empty());
        assert_eq!(counted.unknown_paid, ["a"]);
    }

    #[test]
    fn a_failed_task_is_final_without_a_video() {
        let all = jobs(&["a"]);
        let counted = run(&all, &[task("t1", "a", "failed")], &videos(&[]), &jobs(&[]));
        assert!(
            counted.lost.is_empty() && counted.failures.is_empty(),
            "{counted:?}"
        );
    }

    #[test]
    fn a_job_never_submitted_and_not_unknown_fails_a_check() {
        let all = jobs(&["a", "b"]);
        let counted = run(
            &all,
            &[task("t1", "a", "completed")],
            &videos(&[("a", 1)]),
            &jobs(&[]),
        );
        assert!(counted.failures[0].contains("first: b"), "{counted:?}");
    }

    #[test]
    fn a_task_whose_prompt_names_no_job_fails_a_check() {
        let all = jobs(&["a"]);
        let tasks = [task("t1", "a", "completed"), task("t2", "zz", "completed")];
        let counted = run(&all, &tasks, &videos(&[("a", 1)]), &jobs(&[]));
        assert!(
            counted
                .failures
                .iter()
                .any(|failure| failure.contains("belong to no job"))
        );
    }

    #[test]
    fn the_simulators_counter_must_agree_with_its_task_list() {
        let all = jobs(&["a"]);
        let tasks = [task("t1", "a", "completed")];
        let counted = tally(&Observed {
            jobs: &all,
            tasks: &tasks,
            sim_submits: 2,
            videos: &videos(&[("a", 1)]),
            unknown: &jobs(&[]),
        });
        assert!(
            counted.failures[0].contains("counted 2 submits"),
            "{counted:?}"
        );
    }
}
