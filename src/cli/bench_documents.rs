//! `tradeport bench documents`: how long drawing a PDF takes (no database): an invoice of 1,
//! 20 and 200 lines and a reconciliation statement of 1,000 movements, each drawn `runs`
//! times on one thread. One JSON line per document with the median, p95 and size.

use std::time::Instant;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use crate::config::Settings;
use crate::finance::invoice_pdf::{self, InvoiceDoc, Line, Party, Supplier};
use crate::finance::reconciliation::{self, Movement, Reconciliation};
use crate::pdf::Fonts;

fn supplier() -> Supplier {
    Supplier {
        party: Party {
            name: "ООО «ОкнаПрофи»".into(),
            inn: "7707083893".into(),
            kpp: "773601001".into(),
            address: "117997, г. Москва, ул. Оконная, д. 4, стр. 1".into(),
        },
        bank: "ПАО Сбербанк".into(),
        bic: "044525225".into(),
        account: "40702810200000000001".into(),
        correspondent: "30101810400000000225".into(),
        director: "Соколова Ирина Викторовна".into(),
        accountant: "Белова Марина Петровна".into(),
    }
}

/// An invoice of `n` lines, as the demo's window-profile store would issue it.
pub fn invoice(n: usize) -> InvoiceDoc {
    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    let lines: Vec<Line> = (0..n)
        .map(|i| {
            let price = Decimal::new(6490 + (i as i64 % 17) * 131, 2);
            let qty = Decimal::from(6 + i as i64 % 5);
            let amount = price * qty;
            Line {
                name: format!("Армирование Г-образное 1,{} мм для профиля серии {}", 2 + i % 4, 100 + i),
                sku: format!("ARM-G-{i:05}"),
                qty,
                unit: "м".into(),
                price,
                amount,
                vat_rate: "20".into(),
                vat_amount: (amount * Decimal::from(20) / Decimal::from(120)).round_dp(2),
            }
        })
        .collect();
    let amount: Decimal = lines.iter().map(|l| l.amount).sum();
    let vat: Decimal = lines.iter().map(|l| l.vat_amount).sum();
    InvoiceDoc {
        number: "1234".into(),
        issued_on: day,
        due_on: day + chrono::Duration::days(5),
        status: "unpaid".into(),
        order_number: "Z-001234".into(),
        po_number: "PO-77".into(),
        supplier: supplier(),
        buyer: Party {
            name: "ООО «Окна Севера»".into(),
            inn: "7736207543".into(),
            kpp: "773601001".into(),
            address: "Москва, ул. Демонстрационная, 1".into(),
        },
        lines,
        amount,
        vat_amount: vat,
        paid: Decimal::ZERO,
        vat_mode: "included".into(),
        currency: "RUB".into(),
    }
}

fn statement(n: usize) -> Reconciliation {
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let movements = (0..n)
        .map(|i| Movement {
            date: from + chrono::Duration::days((i / 3) as i64 % 330),
            kind: if i % 2 == 0 { "shipment".into() } else { "payment".into() },
            document: if i % 2 == 0 { format!("Z-{i:06}") } else { format!("п/п № {i} от 01.02.2026") },
            debit: if i % 2 == 0 { Decimal::new(1_234_550, 2) } else { Decimal::ZERO },
            credit: if i % 2 == 0 { Decimal::ZERO } else { Decimal::new(1_200_000, 2) },
        })
        .collect();
    Reconciliation {
        supplier: supplier(),
        buyer: Party {
            name: "ООО «Окна Севера»".into(),
            inn: "7736207543".into(),
            kpp: "773601001".into(),
            address: String::new(),
        },
        from,
        to: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default(),
        opening: Decimal::new(-12_450_000, 2),
        movements,
        contract: Some(("Д-2026-0001".into(), from)),
        currency: "RUB".into(),
    }
}

pub fn run(settings: &Settings, runs: usize) -> anyhow::Result<()> {
    let fonts = Fonts::get(&settings.documents.font_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let runs = runs.max(1);
    type Draw = Box<dyn Fn() -> crate::error::AppResult<Vec<u8>>>;
    let cases: Vec<(&str, Draw)> = vec![
        (
            "invoice, 1 line",
            Box::new({
                let (f, d) = (fonts.clone(), invoice(1));
                move || invoice_pdf::render(&f, &d, true)
            }),
        ),
        (
            "invoice, 20 lines",
            Box::new({
                let (f, d) = (fonts.clone(), invoice(20));
                move || invoice_pdf::render(&f, &d, true)
            }),
        ),
        (
            "invoice, 200 lines",
            Box::new({
                let (f, d) = (fonts.clone(), invoice(200));
                move || invoice_pdf::render(&f, &d, true)
            }),
        ),
        (
            "reconciliation, 1000 movements",
            Box::new({
                let (f, d) = (fonts.clone(), statement(1000));
                move || reconciliation::render(&f, &d, true)
            }),
        ),
    ];
    for (name, draw) in cases {
        let mut times = Vec::with_capacity(runs);
        let mut size = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let pdf = draw().map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            size = pdf.len();
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "{}",
            json!({"bench": "documents", "document": name, "runs": runs, "median_ms": (at(0.5) * 100.0).round() / 100.0,
                   "p95_ms": (at(0.95) * 100.0).round() / 100.0, "bytes": size})
        );
    }
    Ok(())
}
