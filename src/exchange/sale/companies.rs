//! Counterparties from 1C create or update buyer companies: found by their 1C id, else by
//! INN (and KPP); the INN checked as registration checks it. A new company is active with no
//! price group, as one staff add; its 1C id is kept.

use diesel::prelude::*;

use crate::db::schema_tenant::companies;
use crate::error::{AppResult, FieldErrors};
use crate::exchange::commerceml::Counterparty;
use crate::exchange::report::ImportReport;
use crate::identity::companies::{create, CompanyInput};

type Row = (i64, String, Option<String>, String, String, String, Option<String>);

fn load(conn: &mut PgConnection, c: &Counterparty, inn: &str) -> AppResult<Option<Row>> {
    let select = (
        companies::id,
        companies::name,
        companies::kpp,
        companies::legal_address,
        companies::phone,
        companies::contact_person,
        companies::external_id,
    );
    if !c.id.is_empty() {
        let by_id: Option<Row> =
            companies::table.filter(companies::external_id.eq(&c.id)).select(select).first(conn).optional()?;
        if by_id.is_some() {
            return Ok(by_id);
        }
    }
    let found: Vec<Row> =
        companies::table.filter(companies::inn.eq(inn)).order(companies::id).select(select).load(conn)?;
    let kpp = c.kpp.as_deref().map(str::trim).filter(|k| !k.is_empty());
    Ok(found.iter().find(|r| kpp.is_some() && r.2.as_deref() == kpp).or_else(|| found.first()).cloned())
}

fn input(c: &Counterparty, inn: &str) -> CompanyInput {
    let phone = c.contact("телефон").map(str::to_owned);
    CompanyInput {
        name: c.legal_name().trim().chars().take(300).collect(),
        inn: inn.to_owned(),
        kpp: c.kpp.clone(),
        address: c.address.clone(),
        delivery_address: None,
        phone,
        contact_person: c.representatives.first().cloned(),
    }
}

fn fields(errors: &FieldErrors) -> String {
    errors.iter().map(|(k, v)| format!("{}: {v}", k.trim_start_matches("company."))).collect::<Vec<_>>().join("; ")
}

/// Creates or updates the company of counterparty `c`; `warn_without_inn`: a contragents
/// file's entry without an INN is worth a warning, a private buyer of an order is not.
pub fn upsert(
    conn: &mut PgConnection,
    c: &Counterparty,
    report: &mut ImportReport,
    warn_without_inn: bool,
) -> AppResult<()> {
    let Some(inn) = c.inn.as_deref().map(str::trim).filter(|i| !i.is_empty()) else {
        if warn_without_inn {
            report.warn(c.line, format!("counterparty {} ({}) has no INN: skipped", c.id, c.legal_name()));
        }
        return Ok(());
    };
    let new = input(c, inn);
    let mut errors = FieldErrors::new();
    new.validate(&mut errors);
    // A phone 1C writes differently is not a reason to refuse the company.
    let phone_ok = !errors.contains_key("company.phone");
    errors.remove("company.phone");
    let new = CompanyInput { phone: if phone_ok { new.phone } else { None }, ..new };
    let existing = load(conn, c, inn)?;
    let Some((id, name, _kpp, address, phone, contact, ext)) = existing else {
        if !errors.is_empty() {
            report.warn(c.line, format!("counterparty {} (INN {inn}): {}", c.id, fields(&errors)));
            return Ok(());
        }
        let company = create(conn, &new, "active")?;
        if !c.id.is_empty() {
            set_external_id(conn, company.id, &c.id)?;
        }
        report.of("companies").created += 1;
        return Ok(());
    };
    // A money document names its payer by INN alone: the company stays as it is then.
    let want_name = if new.name.trim().is_empty() { name.clone() } else { new.name.trim().to_owned() };
    let pick = |v: &Option<String>, max: usize, now: &String| {
        v.as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty() && a.chars().count() <= max)
            .map_or(now.clone(), str::to_owned)
    };
    let want_address = pick(&new.address, 500, &address);
    let want_phone = pick(&new.phone, 40, &phone);
    let want_contact = pick(&new.contact_person, 200, &contact);
    let want_ext = if c.id.is_empty() { ext.clone() } else { Some(c.id.clone()) };
    if (&want_name, &want_address, &want_phone, &want_contact, &want_ext) == (&name, &address, &phone, &contact, &ext) {
        report.of("companies").unchanged += 1;
        return Ok(());
    }
    diesel::update(companies::table.find(id))
        .set((
            companies::name.eq(&want_name),
            companies::legal_address.eq(&want_address),
            companies::phone.eq(&want_phone),
            companies::contact_person.eq(&want_contact),
            companies::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if want_ext != ext {
        if let Some(e) = &want_ext {
            set_external_id(conn, id, e)?;
        }
    }
    report.of("companies").updated += 1;
    Ok(())
}

/// Keeps 1C's id on company `id` (taken from another company that had it, if any).
fn set_external_id(conn: &mut PgConnection, id: i64, ext: &str) -> AppResult<()> {
    let ext: String = ext.chars().take(200).collect();
    diesel::update(companies::table.filter(companies::external_id.eq(&ext)).filter(companies::id.ne(id)))
        .set(companies::external_id.eq(None::<String>))
        .execute(conn)?;
    diesel::update(companies::table.find(id)).set(companies::external_id.eq(&ext)).execute(conn)?;
    Ok(())
}
