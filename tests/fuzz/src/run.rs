//! Sends cases `first..first + count` of a seed, at most `concurrency` at
//! once, until they are all sent or the deadline passes.

use std::time::Instant;

use futures::{StreamExt as _, future};

use crate::{
    case::generate,
    samples::{Samples, Target},
    send::{client, send},
    tally::Tally,
};

#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub first: u64,
    pub count: u64,
    pub concurrency: usize,
    /// No case starts after it.
    pub deadline: Option<Instant>,
    /// Print a progress line to stderr every this many answers.
    pub progress_every: Option<u64>,
}

pub async fn run(target: &Target, samples: &Samples, plan: &Plan) -> Tally {
    let http = client();
    let deadline = plan.deadline;
    let started = Instant::now();
    futures::stream::iter(plan.first..plan.first.saturating_add(plan.count))
        .take_while(|_| future::ready(deadline.is_none_or(|d| Instant::now() < d)))
        .map(|index| {
            let http = &http;
            async move {
                let case = generate(plan.seed, index, target, samples);
                let answer = send(http, target, &case).await;
                (case, answer)
            }
        })
        .buffer_unordered(plan.concurrency.max(1))
        .fold(Tally::default(), |mut tally, (case, answer)| {
            tally.add(&case, &answer);
            if let Some(every) = plan.progress_every {
                progress(&tally, plan.count, every, started);
            }
            future::ready(tally)
        })
        .await
}

/// `fuzz: 20000/100000 answered, 0 failed, 410 req/s` on every `every`th answer.
fn progress(tally: &Tally, count: u64, every: u64, started: Instant) {
    let total = tally.total();
    if !total.sent.is_multiple_of(every.max(1)) {
        return;
    }
    let rate = total.sent as f64 / started.elapsed().as_secs_f64().max(0.001);
    eprintln!("fuzz: {}/{count} answered, {} failed, {rate:.0} req/s", total.sent, tally.failures.len());
}
