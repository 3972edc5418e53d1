//! `cargo xtask bench pdf`: provider-check throughput on generated note
//! PDFs of 1, 10 and 100 pages, one JSON line per corpus.
//!
//! The name sits on the last page, so every page is read. The reference,
//! measured in the same run on the same PDFs, is lopdf's own load plus
//! `extract_text` of every page: `ratio_to_reference` above 1 means the
//! check is faster than that plain extraction. The two alternate in ten
//! slices, so a noisy neighbour on a shared machine slows both alike. Peak
//! memory is the process's peak resident set over one pass of the check on
//! a corpus (the kernel's high-water mark is reset before it), the corpus
//! itself included.

use anyhow::Result;
use jobs::archive::{Needle, Verdict, check};
use sandbox::pdf::{NameFont, NotePdf};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct PdfArgs {
    /// Seconds to spend measuring each corpus (and as much on its reference).
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

const PROVIDER: &str = "Dr. Jane Smith";
/// Distinct PDFs per corpus, so no single file's layout dominates.
const DOCS_PER_CORPUS: usize = 8;
/// Alternating slices of check and reference.
const SLICES: u32 = 10;

#[derive(Serialize)]
struct PdfLine {
    system: String,
    workload: String,
    jobs: u64,
    concurrency: usize,
    seconds: f64,
    jobs_per_sec: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    pages_per_doc: u32,
    bytes_per_doc: u64,
    mb_per_sec: f64,
    pages_per_sec: f64,
    peak_rss_mb: Option<f64>,
    rss_before_mb: Option<f64>,
    reference: &'static str,
    reference_mb_per_sec: f64,
    ratio_to_reference: f64,
    build: &'static str,
}

fn corpus(pages: u32) -> Vec<Vec<u8>> {
    (0..DOCS_PER_CORPUS)
        .map(|i| {
            NotePdf {
                title: format!("Clinical note {}, last updated 2026-11-0{}T10:00:00", 9000 + i, 1 + i % 9),
                pages,
                signature_page: Some(pages),
                provider: PROVIDER.into(),
                name_font: if i % 2 == 0 { NameFont::Split } else { NameFont::ToUnicode },
                lines: (0..pages as usize * 40)
                    .map(|l| format!("Line {l}: assessment and plan as discussed."))
                    .collect(),
            }
            .render()
        })
        .collect()
}

/// Runs `f` over the corpus round after round until `budget` is spent;
/// returns (documents done, elapsed, per-document milliseconds).
fn measure(docs: &[Vec<u8>], budget: Duration, mut f: impl FnMut(&[u8])) -> (u64, Duration, Vec<f64>) {
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < budget || samples.len() < docs.len() {
        for doc in docs {
            let t = Instant::now();
            f(doc);
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    (samples.len() as u64, started.elapsed(), samples)
}

fn lopdf_extract(pdf: &[u8]) {
    let doc = lopdf::Document::load_mem(pdf).expect("generated PDFs load");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    std::hint::black_box(doc.extract_text(&pages).ok());
}

pub async fn run(args: PdfArgs) -> Result<()> {
    let needle = Needle::new(PROVIDER).expect("a provider name");
    let budget = Duration::from_secs_f64(args.seconds.max(0.1));
    for pages in [1u32, 10, 100] {
        let docs = corpus(pages);
        let bytes_per_doc = docs.iter().map(|d| d.len() as u64).sum::<u64>() / docs.len() as u64;
        for doc in &docs {
            let verdict = check(doc, &needle);
            anyhow::ensure!(
                matches!(verdict, Verdict::Matched { page, .. } if page == pages),
                "unexpected {verdict:?}"
            );
        }
        let rss_before = memory::reset_peak();
        for doc in &docs {
            std::hint::black_box(check(doc, &needle));
        }
        let peak = memory::peak_mb();
        let (mut n, mut elapsed, mut samples) = (0, Duration::ZERO, Vec::new());
        let (mut rn, mut relapsed) = (0, Duration::ZERO);
        for _ in 0..SLICES {
            let (done, took, mut times) = measure(&docs, budget / SLICES, |pdf| {
                std::hint::black_box(check(pdf, &needle));
            });
            (n, elapsed) = (n + done, elapsed + took);
            samples.append(&mut times);
            let (done, took, _) = measure(&docs, budget / SLICES, lopdf_extract);
            (rn, relapsed) = (rn + done, relapsed + took);
        }
        let secs = elapsed.as_secs_f64();
        let mb = |n: u64, s: f64| n as f64 * bytes_per_doc as f64 / 1e6 / s;
        let (mb_per_sec, reference_mb_per_sec) = (mb(n, secs), mb(rn, relapsed.as_secs_f64()));
        let line = PdfLine {
            system: super::report::system(),
            workload: format!("pdf_check_{pages}p"),
            jobs: n,
            concurrency: 1,
            seconds: r3(secs),
            jobs_per_sec: Some(r3(n as f64 / secs)),
            p50_ms: None,
            p99_ms: None,
            pages_per_doc: pages,
            bytes_per_doc,
            mb_per_sec: r3(mb_per_sec),
            pages_per_sec: r3(n as f64 * f64::from(pages) / secs),
            peak_rss_mb: peak.map(r3),
            rss_before_mb: rss_before.map(r3),
            reference: "lopdf load_mem + extract_text, all pages",
            reference_mb_per_sec: r3(reference_mb_per_sec),
            ratio_to_reference: r3(mb_per_sec / reference_mb_per_sec),
            build: super::report::build(),
        };
        eprintln!(
            "bench: {pages}-page PDFs: median {:.3} ms per document",
            super::report::percentile(&samples, 50.0).unwrap_or_default()
        );
        println!("{}", serde_json::to_string(&line)?);
    }
    Ok(())
}

fn r3(x: f64) -> f64 {
    super::report::r3(x)
}

/// The process's resident memory, from `/proc/self` (Linux); `None` elsewhere.
mod memory {
    fn status_mb(field: &str) -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }

    /// Resets the peak (VmHWM) to the current resident size, which it returns.
    pub fn reset_peak() -> Option<f64> {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        status_mb("VmRSS:")
    }

    pub fn peak_mb() -> Option<f64> {
        status_mb("VmHWM:")
    }
}
