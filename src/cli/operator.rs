//! `tradeport operator create --email E --password P [--name N]`.

use clap::Subcommand;

use super::database;
use crate::config::Settings;
use crate::identity::accounts::{self, NewAccount};

#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Create a platform operator (an existing account is promoted and its password set).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Operator")]
        name: String,
    },
}

pub fn run(settings: &Settings, cmd: OperatorCommand) -> anyhow::Result<()> {
    let OperatorCommand::Create { email, password, name } = cmd;
    let mut conn = database::connect(&settings.database)?;
    let created = ensure_operator(&mut conn, &email, &password, &name)?;
    println!("operator {email} {}", if created { "created" } else { "updated" });
    Ok(())
}

/// Creates the operator or promotes the existing account; true if created.
pub fn ensure_operator(
    conn: &mut diesel::PgConnection,
    email: &str,
    password: &str,
    name: &str,
) -> anyhow::Result<bool> {
    let email = accounts::normalize_email(email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
    let existing = accounts::find_by_email(conn, &email).map_err(|e| anyhow::anyhow!("{e}"))?;
    match existing {
        Some((account, _)) => {
            accounts::make_operator(conn, account.id, password).map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
            Ok(false)
        }
        None => {
            accounts::create(conn, NewAccount { email: &email, name, password: Some(password), is_operator: true })
                .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
            Ok(true)
        }
    }
}

/// A validation error as "field: message" pairs, anything else as its message.
pub fn describe(e: crate::error::AppError) -> String {
    match e {
        crate::error::AppError::Validation(fields) => {
            fields.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
