//! Amounts in words, as invoices and acts write the total: «Сто двадцать четыре тысячи
//! пятьсот рублей 00 копеек» (thousands feminine, the currency's own gender and plural
//! forms), or "One hundred twenty-four thousand five hundred roubles 00 kopecks".

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Singular, paucal (2–4) and plural forms, and whether the noun is feminine.
struct Noun {
    forms: [&'static str; 3],
    feminine: bool,
}

const THOUSAND: Noun = Noun { forms: ["тысяча", "тысячи", "тысяч"], feminine: true };
const MILLION: Noun = Noun { forms: ["миллион", "миллиона", "миллионов"], feminine: false };
const BILLION: Noun =
    Noun { forms: ["миллиард", "миллиарда", "миллиардов"], feminine: false };

/// The Russian names of a currency's major and minor units.
fn units(currency: &str) -> (Noun, Noun) {
    match currency {
        "USD" => (
            Noun {
                forms: ["доллар США", "доллара США", "долларов США"], feminine: false
            },
            Noun { forms: ["цент", "цента", "центов"], feminine: false },
        ),
        "EUR" => (
            Noun { forms: ["евро", "евро", "евро"], feminine: false },
            Noun { forms: ["цент", "цента", "центов"], feminine: false },
        ),
        "KZT" => (
            Noun { forms: ["тенге", "тенге", "тенге"], feminine: false },
            Noun { forms: ["тиын", "тиына", "тиынов"], feminine: false },
        ),
        "BYN" => (
            Noun {
                forms: ["белорусский рубль", "белорусских рубля", "белорусских рублей"], feminine: false
            },
            Noun { forms: ["копейка", "копейки", "копеек"], feminine: true },
        ),
        _ => (
            Noun { forms: ["рубль", "рубля", "рублей"], feminine: false },
            Noun { forms: ["копейка", "копейки", "копеек"], feminine: true },
        ),
    }
}

/// Which form of a noun follows `n`.
fn form(n: u64, noun: &Noun) -> &'static str {
    let (tens, ones) = (n % 100, n % 10);
    if (11..=14).contains(&tens) {
        noun.forms[2]
    } else {
        match ones {
            1 => noun.forms[0],
            2..=4 => noun.forms[1],
            _ => noun.forms[2],
        }
    }
}

/// Words for 1..=999 (none for 0).
fn triad(n: u64, feminine: bool, out: &mut Vec<&'static str>) {
    const HUNDREDS: [&str; 10] =
        ["", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"];
    const TENS: [&str; 10] =
        ["", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"];
    const TEENS: [&str; 10] = [
        "десять",
        "одиннадцать",
        "двенадцать",
        "тринадцать",
        "четырнадцать",
        "пятнадцать",
        "шестнадцать",
        "семнадцать",
        "восемнадцать",
        "девятнадцать",
    ];
    const ONES: [&str; 10] = ["", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"];
    let (h, t, o) = ((n / 100) as usize, (n / 10 % 10) as usize, (n % 10) as usize);
    if h > 0 {
        out.push(HUNDREDS[h]);
    }
    if t == 1 {
        out.push(TEENS[o]);
        return;
    }
    if t > 1 {
        out.push(TENS[t]);
    }
    match (o, feminine) {
        (0, _) => {}
        (1, true) => out.push("одна"),
        (2, true) => out.push("две"),
        _ => out.push(ONES[o]),
    }
}

/// «27 ноября 2026 г.» or "27 November 2026".
pub fn long_date(d: chrono::NaiveDate, ru: bool) -> String {
    use chrono::Datelike;
    const RU: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let m = d.month0() as usize;
    if ru {
        format!("{} {} {} г.", d.day(), RU[m], d.year())
    } else {
        format!("{} {} {}", d.day(), EN[m], d.year())
    }
}

/// «27.11.2026» or "2026-11-27".
pub fn short_date(d: chrono::NaiveDate, ru: bool) -> String {
    if ru {
        d.format("%d.%m.%Y").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// Amounts above this (999 billion) are written in figures.
const MAX: u64 = 999_999_999_999;

fn split(amount: Decimal) -> (u64, u64) {
    let a = amount.abs().round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let major = a.trunc().to_u64().unwrap_or(0);
    let minor = ((a - a.trunc()) * Decimal::ONE_HUNDRED).to_u64().unwrap_or(0);
    (major, minor)
}

/// «Сто двадцать четыре тысячи пятьсот рублей 00 копеек», capitalised, for `currency`.
pub fn russian(amount: Decimal, currency: &str) -> String {
    let (major, minor) = split(amount);
    let (unit, sub) = units(currency);
    if major > MAX {
        return format!("{major} {} {minor:02} {}", form(major, &unit), form(minor, &sub));
    }
    let mut words: Vec<&'static str> = Vec::new();
    if major == 0 {
        words.push("ноль");
    }
    let groups = [(1_000_000_000, Some(&BILLION)), (1_000_000, Some(&MILLION)), (1_000, Some(&THOUSAND)), (1, None)];
    let mut rest = major;
    for (size, noun) in groups {
        let n = rest / size;
        rest %= size;
        if n == 0 {
            continue;
        }
        match noun {
            Some(noun) => {
                triad(n, noun.feminine, &mut words);
                words.push(form(n, noun));
            }
            None => triad(n, unit.feminine, &mut words),
        }
    }
    let text = format!("{} {} {minor:02} {}", words.join(" "), form(major, &unit), form(minor, &sub));
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// "One hundred twenty-four thousand five hundred roubles 00 kopecks" (short scale).
pub fn english(amount: Decimal, currency: &str) -> String {
    const ONES: [&str; 20] = [
        "",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    fn triad(n: u64, out: &mut Vec<String>) {
        let (h, r) = ((n / 100) as usize, (n % 100) as usize);
        if h > 0 {
            out.push(format!("{} hundred", ONES[h]));
        }
        if r >= 20 {
            out.push(if r % 10 == 0 { TENS[r / 10].to_owned() } else { format!("{}-{}", TENS[r / 10], ONES[r % 10]) });
        } else if r > 0 {
            out.push(ONES[r].to_owned());
        }
    }
    let (major, minor) = split(amount);
    let (unit, sub) = match currency {
        "USD" => ("dollar", "cent"),
        "EUR" => ("euro", "cent"),
        _ => ("rouble", "kopeck"),
    };
    let plural = |n: u64, w: &str| if n == 1 || w == "euro" { w.to_owned() } else { format!("{w}s") };
    if major > MAX {
        return format!("{major} {} {minor:02} {}", plural(major, unit), plural(minor, sub));
    }
    let mut words = Vec::new();
    if major == 0 {
        words.push("zero".to_owned());
    }
    let mut rest = major;
    for (size, name) in [(1_000_000_000, " billion"), (1_000_000, " million"), (1_000, " thousand"), (1, "")] {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            triad(n, &mut words);
            if !name.is_empty() {
                words.push(name.trim().to_owned());
            }
        }
    }
    let text = format!("{} {} {minor:02} {}", words.join(" "), plural(major, unit), plural(minor, sub));
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn russian_totals_read_as_an_accountant_writes_them() {
        assert_eq!(russian(d("124500"), "RUB"), "Сто двадцать четыре тысячи пятьсот рублей 00 копеек");
        assert_eq!(russian(d("1"), "RUB"), "Один рубль 00 копеек");
        assert_eq!(russian(d("2.01"), "RUB"), "Два рубля 01 копейка");
        assert_eq!(russian(d("21.22"), "RUB"), "Двадцать один рубль 22 копейки");
        assert_eq!(russian(d("1002.11"), "RUB"), "Одна тысяча два рубля 11 копеек");
        assert_eq!(russian(d("2000"), "RUB"), "Две тысячи рублей 00 копеек");
        assert_eq!(russian(d("11000"), "RUB"), "Одиннадцать тысяч рублей 00 копеек");
        assert_eq!(russian(d("0.5"), "RUB"), "Ноль рублей 50 копеек");
        assert_eq!(
            russian(d("3212345.67"), "RUB"),
            "Три миллиона двести двенадцать тысяч триста сорок пять рублей 67 копеек"
        );
        assert_eq!(russian(d("1000000"), "RUB"), "Один миллион рублей 00 копеек");
        assert_eq!(russian(d("114"), "RUB"), "Сто четырнадцать рублей 00 копеек");
        assert_eq!(russian(d("99.995"), "RUB"), "Сто рублей 00 копеек", "half-up to kopecks first");
        assert_eq!(russian(d("5"), "USD"), "Пять долларов США 00 центов");
        assert_eq!(russian(d("1000000000000"), "RUB"), "1000000000000 рублей 00 копеек", "no panic past billions");
    }

    #[test]
    fn dates() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 7).expect("date");
        assert_eq!(long_date(d, true), "7 ноября 2026 г.");
        assert_eq!(long_date(d, false), "7 November 2026");
        assert_eq!(short_date(d, true), "07.11.2026");
    }

    #[test]
    fn english_totals() {
        assert_eq!(english(d("124500"), "RUB"), "One hundred twenty-four thousand five hundred roubles 00 kopecks");
        assert_eq!(english(d("1.01"), "USD"), "One dollar 01 cent");
        assert_eq!(english(d("0"), "EUR"), "Zero euro 00 cents");
    }
}
