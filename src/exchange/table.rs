//! Reading a spreadsheet (XLSX, or CSV in UTF-8 or Windows-1251 with `,` `;` or tab) into
//! rows of text, and writing rows back as CSV or XLSX.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// The largest spreadsheet accepted, in rows.
pub const MAX_ROWS: usize = 200_000;

/// Which encoding a CSV turned out to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1251,
}

/// A table of text cells; the first row is the header.
pub struct Table {
    pub rows: Vec<Vec<String>>,
    pub encoding: Option<Encoding>,
}

/// Is this an XLSX (a zip) rather than text?
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

pub fn read(bytes: &[u8]) -> Result<Table, String> {
    if is_xlsx(bytes) {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                // Shortest text that reads back as the same double: 1234.5, not 1234.4999999.
                let s = format!("{f}");
                s
            }
        }
        Data::Bool(b) => if *b { "true" } else { "false" }.into(),
        // Excel's serial day number (1900 system): days since 1899-12-30.
        Data::DateTime(d) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|base| base.checked_add_signed(chrono::Duration::days(d.as_f64().floor() as i64)))
            .map(|d| d.to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, String> {
    let mut wb: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("the file is not a readable XLSX workbook: {e}"))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheets")?
        .map_err(|e| format!("the first sheet cannot be read: {e}"))?;
    if range.height() > MAX_ROWS + 1 {
        return Err(format!("at most {MAX_ROWS} rows per file"));
    }
    let rows = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
    Ok(Table { rows, encoding: None })
}

/// Decodes text: UTF-8 (with or without BOM) when it is valid, else Windows-1251 (what 1C
/// and Russian Excel write by default).
pub fn decode(bytes: &[u8]) -> (String, Encoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), Encoding::Utf8),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
            (text.into_owned(), Encoding::Windows1251)
        }
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, String> {
    let (text, encoding) = decode(bytes);
    if text.contains('\0') {
        return Err("the file is neither CSV text nor an XLSX workbook".into());
    }
    let first = text.lines().next().unwrap_or("");
    let delimiter = [b';', b',', b'\t'].into_iter().max_by_key(|d| first.matches(*d as char).count()).unwrap_or(b',');
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", i + 1))?;
        if rows.len() > MAX_ROWS {
            return Err(format!("at most {MAX_ROWS} rows per file"));
        }
        rows.push(rec.iter().map(str::to_owned).collect());
    }
    Ok(Table { rows, encoding: Some(encoding) })
}

/// Cells starting with these are formulas to spreadsheet programs.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Neutralises formula injection in an exported CSV cell with a leading apostrophe.
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The inverse of [`defuse`] on import, so an export imports unchanged.
pub fn undefuse(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// CSV in UTF-8 with a BOM (Excel then reads Cyrillic correctly), `;`-separated as Russian
/// Excel expects, formula-looking cells defused.
pub fn write_csv(rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(&mut out);
        for r in rows {
            w.write_record(r.iter().map(|c| defuse(c))).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// XLSX with every cell written as text: nothing is ever evaluated as a formula.
pub fn write_xlsx(rows: &[Vec<String>], sheet: &str) -> Result<Vec<u8>, String> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(|e| e.to_string())?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                ws.write_string(r as u32, c as u16, cell).map_err(|e| e.to_string())?;
            }
        }
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1251_is_detected_and_decoded() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("артикул;наименование\nA-1;Профиль оконный\n");
        let t = read(&bytes).expect("read");
        assert_eq!(t.encoding, Some(Encoding::Windows1251));
        assert_eq!(t.rows[1], vec!["A-1", "Профиль оконный"]);
        let t = read("sku,name\nA-1,Профиль\n".as_bytes()).expect("read");
        assert_eq!((t.encoding, t.rows[1][1].as_str()), (Some(Encoding::Utf8), "Профиль"));
    }

    #[test]
    fn exports_defuse_formulas_and_read_back_unchanged() {
        let rows = vec![
            vec!["sku".to_string(), "name".to_string()],
            vec!["A-1".to_string(), "=HYPERLINK(\"http://evil\")".to_string()],
            vec!["A-2".to_string(), "-5% скидка; \"кавычки\"".to_string()],
        ];
        let csv = write_csv(&rows).expect("csv");
        let text = String::from_utf8(csv.clone()).expect("utf8");
        assert!(text.contains("'=HYPERLINK"), "{text}");
        let back = read(&csv).expect("read");
        let cells: Vec<Vec<String>> =
            back.rows.iter().map(|r| r.iter().map(|c| undefuse(c).to_owned()).collect()).collect();
        assert_eq!(cells, rows);
        let xlsx = write_xlsx(&rows, "Товары").expect("xlsx");
        let back = read(&xlsx).expect("read xlsx");
        assert_eq!(back.rows, rows);
    }
}
