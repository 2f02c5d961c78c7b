//! A search request, parsed once from query-string pairs and checked: nothing a user sends
//! reaches SQL or a Meilisearch filter except as a bound value or an escaped string literal.

use rust_decimal::Decimal;

use crate::error::{AppError, AppResult, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Name,
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "" | "relevance" => Sort::Relevance,
            "price_asc" | "price" => Sort::PriceAsc,
            "price_desc" | "-price" => Sort::PriceDesc,
            "name" => Sort::Name,
            "newest" | "new" => Sort::Newest,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Name => "name",
            Sort::Newest => "newest",
        }
    }
}

/// The longest search text accepted (longer is a 422, not a silent cut).
pub const MAX_Q: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub q: String,
    /// Category codes as sent; resolved to id subtrees by the caller.
    pub category: Option<String>,
    pub category_ids: Vec<i64>,
    pub brands: Vec<String>,
    /// `(attribute code, value)`: equal match; codes are checked against the tenant's attributes.
    pub attrs: Vec<(String, String)>,
    /// `in_stock` (in stock or low), `upcoming`, `out_of_stock`.
    pub availability: Option<String>,
    pub price_min: Option<Decimal>,
    pub price_max: Option<Decimal>,
    pub sort: Sort,
    pub page: i64,
    pub per_page: i64,
    pub with_facets: bool,
}

impl Query {
    /// Parses query-string pairs: `q, category, brand (repeatable), attr.<code>, availability,
    /// price_min, price_max, sort, page, per_page`, and `filters=brand:X,color:white,…`.
    pub fn from_pairs(pairs: &[(String, String)], known_attrs: &[String]) -> AppResult<Query> {
        let mut q = Query { page: 1, per_page: 20, with_facets: true, ..Query::default() };
        let mut errors = FieldErrors::new();
        let mut filters: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            let v = v.trim();
            match k.as_str() {
                "q" => {
                    if v.chars().count() > MAX_Q {
                        errors.insert("q".into(), format!("at most {MAX_Q} characters"));
                    } else {
                        q.q = v.to_owned();
                    }
                }
                "filters" => {
                    for part in v.split(',').filter(|p| !p.trim().is_empty()) {
                        match part.split_once(':') {
                            Some((fk, fv)) => filters.push((fk.trim().to_owned(), fv.trim().to_owned())),
                            None => {
                                errors.insert("filters".into(), "use key:value pairs separated by commas".into());
                            }
                        }
                    }
                }
                "sort" => match Sort::parse(v) {
                    Some(s) => q.sort = s,
                    None => {
                        errors.insert("sort".into(), "must be relevance, price_asc, price_desc, name or newest".into());
                    }
                },
                "page" => match v.parse::<i64>() {
                    Ok(p) if (1..=10_000).contains(&p) => q.page = p,
                    _ => {
                        errors.insert("page".into(), "must be a number from 1 to 10000".into());
                    }
                },
                "per_page" => match v.parse::<i64>() {
                    Ok(p) if (1..=100).contains(&p) => q.per_page = p,
                    _ => {
                        errors.insert("per_page".into(), "must be a number from 1 to 100".into());
                    }
                },
                "facets" => q.with_facets = v != "0" && v != "false",
                _ => filters.push((k.clone(), v.to_owned())),
            }
        }
        for (k, v) in filters {
            if v.is_empty() {
                continue;
            }
            if v.chars().count() > 200 {
                errors.insert(k.clone(), "at most 200 characters".into());
                continue;
            }
            match k.as_str() {
                "category" => q.category = Some(v),
                "brand" => q.brands.push(v),
                "availability" => match v.as_str() {
                    "in_stock" | "upcoming" | "out_of_stock" => q.availability = Some(v),
                    _ => {
                        errors.insert("availability".into(), "must be in_stock, upcoming or out_of_stock".into());
                    }
                },
                "price_min" | "price_max" => match crate::money::parse_amount(&v) {
                    Ok(d) => {
                        if k == "price_min" {
                            q.price_min = Some(d)
                        } else {
                            q.price_max = Some(d)
                        }
                    }
                    Err(e) => {
                        errors.insert(k.clone(), e);
                    }
                },
                other => {
                    let code = other.strip_prefix("attr.").unwrap_or(other);
                    if known_attrs.iter().any(|a| a == code) {
                        q.attrs.push((code.to_owned(), v));
                    } else {
                        errors.insert(other.to_owned(), "unknown filter".into());
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(q)
        } else {
            Err(AppError::Validation(errors))
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_parse_and_unknown_ones_are_refused() {
        let known = vec!["color".to_string()];
        let q = Query::from_pairs(
            &pairs(&[
                ("q", "профиль"),
                ("filters", "brand:Rehau,color:white"),
                ("attr.color", "grey"),
                ("sort", "price_desc"),
            ]),
            &known,
        )
        .expect("parsed");
        assert_eq!(q.brands, vec!["Rehau"]);
        assert_eq!(
            q.attrs,
            vec![("color".to_string(), "white".to_string()), ("color".to_string(), "grey".to_string())]
        );
        assert_eq!(q.sort, Sort::PriceDesc);
        for bad in [
            pairs(&[("q", &"я".repeat(10_000))]),
            pairs(&[("filters", "price > 0 OR 1=1")]),
            pairs(&[("sku = 'x' OR tenant", "1")]),
            pairs(&[("price_min", "-5")]),
            pairs(&[("sort", "id; DROP TABLE products")]),
            pairs(&[("per_page", "1000000")]),
        ] {
            assert!(Query::from_pairs(&bad, &known).is_err(), "{bad:?}");
        }
    }
}
