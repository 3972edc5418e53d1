//! `cargo xtask deepcura unlinked`: the Deep Cura notes no clinical note
//! could be matched to, for review (the same list as
//! `GET /admin/deepcura/unlinked`). Ids and dates only, no note text.
//! `cargo xtask deepcura show ID`: one note's text, unsealed on purpose.
//! `cargo xtask deepcura link ID --clinical-note N` and `unlinkable ID`:
//! settle a note by hand (`jobs::deepcura::manual`), audited.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use jobs::deepcura::{
    manual,
    review::{OpenNote, open_notes},
};

use crate::config;

#[derive(Subcommand, Debug)]
pub enum DeepCuraCommand {
    /// List unlinked and ambiguous notes, oldest first.
    Unlinked(UnlinkedArgs),
    /// Unseal and print one note's SOAP sections and transcript (PHI: only when the note must be read).
    Show {
        /// The note's id (`deepcura_notes.id`, as `unlinked` lists it).
        id: i64,
    },
    /// Link a note to a clinical note of its patient by hand; automatic linking never changes it afterwards.
    Link {
        /// The note's id (`deepcura_notes.id`, as `unlinked` lists it).
        id: i64,
        /// The DrChrono clinical note it documents.
        #[arg(long)]
        clinical_note: i64,
        /// Who is acting, for operator_actions (default: $USER).
        #[arg(long)]
        actor: Option<String>,
    },
    /// Mark a note as not linkable: it leaves the unlinked list and is never linked automatically.
    Unlinkable {
        /// The note's id (`deepcura_notes.id`, as `unlinked` lists it).
        id: i64,
        /// Why, kept on the note (not in operator_actions).
        #[arg(long)]
        reason: Option<String>,
        /// Who is acting, for operator_actions (default: $USER).
        #[arg(long)]
        actor: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct UnlinkedArgs {
    /// Only this state.
    #[arg(long, value_enum)]
    status: Option<Status>,
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Status {
    Unlinked,
    Ambiguous,
}

pub async fn run(cmd: DeepCuraCommand) -> Result<()> {
    let args = match cmd {
        DeepCuraCommand::Unlinked(args) => args,
        DeepCuraCommand::Show { id } => return show(id).await,
        DeepCuraCommand::Link { id, clinical_note, actor } => {
            let pool = config::service_pool(&config::service_settings()).await?;
            manual::link_by_hand(&pool, id, clinical_note, &config::operator(actor)).await?;
            println!("Deep Cura note {id} is linked to clinical note {clinical_note} by hand.");
            return Ok(());
        }
        DeepCuraCommand::Unlinkable { id, reason, actor } => {
            let pool = config::service_pool(&config::service_settings()).await?;
            manual::mark_unlinkable(&pool, id, reason.as_deref(), &config::operator(actor)).await?;
            println!("Deep Cura note {id} is marked not linkable and left the unlinked list.");
            return Ok(());
        }
    };
    let pool = config::service_pool(&config::service_settings()).await?;
    let status = args.status.map(|s| match s {
        Status::Unlinked => "unlinked",
        Status::Ambiguous => "ambiguous",
    });
    let notes = open_notes(&pool, status, args.limit.max(1)).await?;
    jobs::domain::audit::record_read(&pool, &config::cli_actor(), "deepcura unlinked", notes.len()).await?;
    if args.json {
        for note in &notes {
            println!("{}", serde_json::to_string(note)?);
        }
    } else {
        print_table(&notes);
    }
    Ok(())
}

/// Fits 80 columns: the session id is cut to its last 14 characters.
fn print_table(notes: &[OpenNote]) {
    if notes.is_empty() {
        println!("No unlinked or ambiguous Deep Cura notes.");
        return;
    }
    println!(
        "{:>6}  {:<14}  {:<9}  {:>9}  {:>8}  {:<10}  candidates",
        "id", "session", "status", "appt", "patient", "date"
    );
    for n in notes {
        let session = n.session_id.get(n.session_id.len().saturating_sub(14)..).unwrap_or(&n.session_id);
        let opt = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        let date = n.session_date.map_or_else(|| "-".to_string(), |d| d.to_string());
        let candidates: Vec<String> = n.link_candidates.iter().map(i64::to_string).collect();
        println!(
            "{:>6}  {:<14}  {:<9}  {:>9}  {:>8}  {:<10}  {}",
            n.id,
            session,
            n.link_status,
            opt(n.appointment_id),
            opt(n.patient_id),
            date,
            candidates.join(",")
        );
    }
    println!(
        "\n{} note(s). Settle one: `deepcura link ID --clinical-note N` or `deepcura unlinkable ID`.",
        notes.len()
    );
}

/// Prints a note's text as JSON, unsealed with TOKEN_ENCRYPTION_KEY.
async fn show(id: i64) -> Result<()> {
    let settings = config::service_settings();
    let keys = settings.token_keys().ok_or_else(|| {
        anyhow::anyhow!("TOKEN_ENCRYPTION_KEY is not set: notes are sealed with it; set it as the service has it")
    })?;
    let pool = config::service_pool(&settings).await?;
    let text = jobs::deepcura::open_text(&mut *pool.acquire().await?, id, &keys).await?;
    jobs::domain::audit::record_read(&pool, &config::cli_actor(), "deepcura show", usize::from(text.is_some())).await?;
    let text = text.ok_or_else(|| {
        anyhow::anyhow!("note {id} is not there, its text was pruned (RETENTION_DEEPCURA_TEXT_DAYS), or it was sealed with another TOKEN_ENCRYPTION_KEY; `cargo xtask deepcura unlinked` lists notes")
    })?;
    println!("{}", serde_json::to_string_pretty(&text)?);
    Ok(())
}
