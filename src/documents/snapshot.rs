//! What a document shows, frozen when it is issued: parties, lines with their codes, totals,
//! signers and the images placed on it. Stored as JSONB with the document; every later
//! rendering (PDF, XML) reads only this, so a document never changes after issue.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::db::schema_tenant::{companies, order_lines, orders};
use crate::error::AppResult;
use crate::finance::invoice_pdf::Supplier;

/// A party with the details the forms ask for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PartyData {
    pub name: String,
    pub inn: String,
    pub kpp: String,
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub bank: String,
    #[serde(default)]
    pub bic: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub correspondent: String,
    /// Participant id at the EDO operator (file names).
    #[serde(default)]
    pub edo_id: String,
}

/// One line of goods or services.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineData {
    pub no: u32,
    pub name: String,
    pub sku: String,
    /// Our unit code (`pcs`, `m`, …, `service`).
    pub unit: String,
    /// ОКЕИ code and short name of the unit.
    pub okei: String,
    pub unit_name: String,
    pub qty: Decimal,
    /// Price per unit without VAT.
    pub price_net: Decimal,
    pub net: Decimal,
    /// `20`, `10`, `0` or `none`.
    pub vat_rate: String,
    pub vat: Decimal,
    pub gross: Decimal,
    pub service: bool,
}

/// Images that go on the document (ids of `document_assets`, never changed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Assets {
    pub logo: Option<i64>,
    pub director_signature: Option<i64>,
    pub accountant_signature: Option<i64>,
    pub stamp: Option<i64>,
}

/// Everything a document shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub kind: String,
    pub number: String,
    pub issued_on: NaiveDate,
    /// УПД status: 1 (счёт-фактура and transfer document, VAT payer) or 2 (transfer only).
    #[serde(default)]
    pub upd_status: u8,
    pub seller: PartyData,
    pub buyer: PartyData,
    pub director: String,
    pub accountant: String,
    pub order_number: String,
    pub order_date: NaiveDate,
    pub currency: String,
    pub lines: Vec<LineData>,
    pub net_total: Decimal,
    pub vat_total: Decimal,
    pub total: Decimal,
    #[serde(default)]
    pub assets: Assets,
    /// The document this one corrects: (number, date).
    #[serde(default)]
    pub corrects: Option<(String, NaiveDate)>,
}

/// ОКЕИ (Russian classifier of units) code and short name of our unit codes.
pub fn okei(unit: &str) -> (&'static str, &'static str) {
    match unit {
        "m" => ("006", "м"),
        "m2" => ("055", "м2"),
        "m3" => ("113", "м3"),
        "kg" => ("166", "кг"),
        "l" => ("112", "л"),
        "pack" => ("778", "упак"),
        "set" => ("839", "компл"),
        "roll" => ("736", "рул"),
        "service" => ("876", "усл. ед"),
        _ => ("796", "шт"),
    }
}

/// The order's parties and lines, before the document's kind and number are known.
pub struct OrderData {
    pub company_id: i64,
    pub seller: PartyData,
    pub buyer: PartyData,
    pub director: String,
    pub accountant: String,
    pub order_number: String,
    pub order_date: NaiveDate,
    pub currency: String,
    pub lines: Vec<LineData>,
}

pub fn load_order(conn: &mut PgConnection, order: i64, store_name: &str) -> AppResult<OrderData> {
    type O = (String, i64, String, String, chrono::DateTime<chrono::Utc>);
    let (number, company, vat_mode, currency, created): O = orders::table
        .find(order)
        .select((orders::number, orders::company_id, orders::vat_mode, orders::currency, orders::created_at))
        .first(conn)?;
    type C = (String, String, Option<String>, String, String, Option<String>);
    let c: C = companies::table
        .find(company)
        .select((
            companies::name,
            companies::inn,
            companies::kpp,
            companies::legal_address,
            companies::phone,
            companies::edo_id,
        ))
        .first(conn)?;
    type L = (String, String, String, Decimal, Decimal, String, Decimal);
    let rows: Vec<L> = order_lines::table
        .filter(order_lines::order_id.eq(order))
        .order(order_lines::line_no)
        .select((
            order_lines::name,
            order_lines::sku,
            order_lines::unit,
            order_lines::qty,
            order_lines::amount,
            order_lines::vat_rate,
            order_lines::vat_amount,
        ))
        .load(conn)?;
    let included = vat_mode != "excluded";
    let lines = rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, sku, unit, qty, amount, vat_rate, vat))| {
            let (net, gross) = if included { (amount - vat, amount) } else { (amount, amount + vat) };
            let (code, short) = okei(&unit);
            let price_net = if qty.is_zero() { Decimal::ZERO } else { crate::pricing::round_money(net / qty) };
            LineData {
                no: u32::try_from(i + 1).unwrap_or(u32::MAX),
                name,
                sku,
                service: unit == "service",
                unit,
                okei: code.into(),
                unit_name: short.into(),
                qty,
                price_net,
                net,
                vat_rate,
                vat,
                gross,
            }
        })
        .collect();
    let s = Supplier::load(conn, store_name)?;
    let details = crate::finance::requisites::load(conn)?;
    let phone = details.get("phone").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let own_edo = crate::platform::tenant_settings::get(conn, super::settings::EDO_ID)?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(OrderData {
        company_id: company,
        seller: PartyData {
            name: s.party.name,
            inn: s.party.inn,
            kpp: s.party.kpp,
            address: s.party.address,
            phone,
            bank: s.bank,
            bic: s.bic,
            account: s.account,
            correspondent: s.correspondent,
            edo_id: own_edo,
        },
        buyer: PartyData {
            name: c.0,
            inn: c.1,
            kpp: c.2.unwrap_or_default(),
            address: c.3,
            phone: c.4,
            edo_id: c.5.unwrap_or_default(),
            ..PartyData::default()
        },
        director: s.director,
        accountant: s.accountant,
        order_number: number,
        order_date: created.date_naive(),
        currency,
        lines,
    })
}

impl Snapshot {
    /// A document of `kind` over `lines` of the order (all of them, or the goods or services).
    pub fn of(
        kind: &str,
        number: String,
        issued_on: NaiveDate,
        upd_status: u8,
        o: &OrderData,
        lines: Vec<LineData>,
        assets: Assets,
    ) -> Snapshot {
        let mut lines = lines;
        for (i, l) in lines.iter_mut().enumerate() {
            l.no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        Snapshot {
            kind: kind.into(),
            number,
            issued_on,
            upd_status,
            seller: o.seller.clone(),
            buyer: o.buyer.clone(),
            director: o.director.clone(),
            accountant: o.accountant.clone(),
            order_number: o.order_number.clone(),
            order_date: o.order_date,
            currency: o.currency.clone(),
            net_total: lines.iter().map(|l| l.net).sum(),
            vat_total: lines.iter().map(|l| l.vat).sum(),
            total: lines.iter().map(|l| l.gross).sum(),
            lines,
            assets,
            corrects: None,
        }
    }
}
