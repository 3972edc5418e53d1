//! `cargo xtask patients search`: find patients in the mirror by name,
//! birth date or phone, with the search of `GET /api/patients/search`
//! (`jobs::domain::patient_search`), audited as `cli:<user>`. DrChrono is
//! not called.

use anyhow::Result;
use clap::{Args, Subcommand};
use jobs::domain::patient_search::{self, Criteria, CriteriaError, PatientHit, RawCriteria};

use crate::config;

#[derive(Subcommand, Debug)]
pub enum PatientsCommand {
    /// Patients by name (accents, case and typos forgiven), birth date or phone; at least one.
    Search(SearchArgs),
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// A name or the start of one; a full name in either order.
    #[arg(long)]
    name: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long)]
    dob: Option<String>,
    /// A phone number in any format; without `+` it is read in PHONE_DEFAULT_COUNTRY.
    #[arg(long)]
    phone: Option<String>,
    /// Hits to show (1 to 100).
    #[arg(long, default_value_t = patient_search::DEFAULT_LIMIT)]
    limit: u32,
    /// Hits to skip, for the next page.
    #[arg(long, default_value_t = 0)]
    offset: u32,
}

pub async fn run(cmd: PatientsCommand) -> Result<()> {
    let PatientsCommand::Search(args) = cmd;
    let settings = config::service_settings();
    let (limit, offset) = (args.limit.to_string(), args.offset.to_string());
    let raw = RawCriteria {
        name: args.name.as_deref(),
        date_of_birth: args.dob.as_deref(),
        phone: args.phone.as_deref(),
        limit: Some(&limit),
        offset: Some(&offset),
    };
    let criteria = Criteria::parse(raw, settings.phone_default_country).map_err(in_flags)?;
    let pool = config::service_pool(&settings).await?;
    let page = patient_search::search(&pool, &criteria, &config::cli_actor(), "patients search").await?;
    print_table(&page.patients);
    if let Some(next) = page.next_offset {
        println!("More: --offset {next}.");
    }
    Ok(())
}

/// The library's message, with this command's flag names for the API's.
fn in_flags(e: CriteriaError) -> anyhow::Error {
    match e {
        CriteriaError::NoCriterion => anyhow::anyhow!("give at least one of --name, --dob or --phone"),
        CriteriaError::BadDate => anyhow::anyhow!("--dob must be a date as YYYY-MM-DD"),
        CriteriaError::BadName => {
            anyhow::anyhow!("--name must be at most {} characters", patient_search::MAX_NAME_CHARS)
        }
        other => other.into(),
    }
}

/// Fits 80 columns: names are cut to 20 characters.
fn print_table(hits: &[PatientHit]) {
    if hits.is_empty() {
        println!("No patient matches.");
        return;
    }
    let cut = |v: &Option<String>| v.as_deref().unwrap_or("-").chars().take(20).collect::<String>();
    println!("{:>10}  {:<20}  {:<20}  {:<10}  chart", "id", "last name", "first name", "born");
    for h in hits {
        let born = h.date_of_birth.map_or_else(|| "-".to_string(), |d| d.to_string());
        println!(
            "{:>10}  {:<20}  {:<20}  {:<10}  {}",
            h.id,
            cut(&h.last_name),
            cut(&h.first_name),
            born,
            h.chart_id.as_deref().unwrap_or("-")
        );
    }
    println!("\n{} patient(s).", hits.len());
}
