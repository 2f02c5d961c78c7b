//! Typo tolerance that scales: the words of product names and brands are kept in a small
//! dictionary (`search_words` per tenant, `public.marketplace_words` for the marketplace,
//! written in the transaction of the product change). A query word that is neither a word
//! nor the start of one is replaced by its closest dictionary words (pg_trgm similarity on
//! the dictionary, a few thousand rows), and the product search itself stays on the
//! full-text index: no trigram comparison against every product name.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int8, Text};

use crate::error::AppResult;

/// Which dictionary to consult. The table names are ours, never a user's.
#[derive(Clone, Copy)]
pub enum Dict {
    /// `search_words` in the tenant's schema (inside the tenant door).
    Tenant,
    /// `public.marketplace_words`.
    Marketplace,
}

impl Dict {
    fn table(self) -> &'static str {
        match self {
            Dict::Tenant => "search_words",
            Dict::Marketplace => "public.marketplace_words",
        }
    }
}

/// Shorter words are taken as typed (too short to correct reliably).
const MIN_CORRECTED: usize = 4;
/// How close a dictionary word must be (pg_trgm similarity) to stand in for a typo.
const SIMILARITY: &str = "0.35";

/// Adds the words of these products (in the tenant's transaction).
pub fn record_products(conn: &mut PgConnection, ids: &[i64]) -> AppResult<()> {
    diesel::sql_query(
        "INSERT INTO search_words SELECT DISTINCT w FROM products p, \
         regexp_split_to_table(lower(p.name || ' ' || p.brand || ' ' || coalesce(p.i18n -> 'en' ->> 'name', '')), '[^[:alnum:]]+') w \
         WHERE p.id = ANY($1) AND length(w) BETWEEN 2 AND 60 ON CONFLICT DO NOTHING",
    )
    .bind::<Array<Int8>, _>(ids)
    .execute(conn)?;
    Ok(())
}

/// Adds the words of these marketplace listings.
pub fn record_listings(conn: &mut PgConnection, tenant_id: i64, ids: &[i64]) -> AppResult<()> {
    diesel::sql_query(
        "INSERT INTO public.marketplace_words SELECT DISTINCT w FROM public.marketplace_products m, \
         regexp_split_to_table(lower(m.name || ' ' || m.brand), '[^[:alnum:]]+') w \
         WHERE m.tenant_id = $1 AND m.product_id = ANY($2) AND length(w) BETWEEN 2 AND 60 ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(tenant_id)
    .bind::<Array<Int8>, _>(ids)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Known {
    #[diesel(sql_type = Bool)]
    known: bool,
}

#[derive(QueryableByName)]
struct Word {
    #[diesel(sql_type = Text)]
    word: String,
}

/// The words of a query: letters and digits only, lower case, at most 8.
pub fn words_of(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(8).map(str::to_lowercase).collect()
}

/// The `to_tsquery` text for `q` with typos corrected: `(профль | профиль | профи) & rehau:*`
/// (the last word also matches as a prefix, for typing). `None` when `q` has no words.
/// Only letters and digits reach it, so the tsquery syntax is never the user's.
pub fn tsquery_text(conn: &mut PgConnection, dict: Dict, q: &str) -> AppResult<Option<String>> {
    let words = words_of(q);
    if words.is_empty() {
        return Ok(None);
    }
    let table = dict.table();
    let mut groups = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let mut alts = vec![w.clone()];
        let correctable = w.chars().count() >= MIN_CORRECTED && !w.chars().all(|c| c.is_ascii_digit());
        if correctable {
            let known = diesel::sql_query(format!(
                "SELECT EXISTS (SELECT 1 FROM {table} WHERE word = $1 OR ($2 AND word LIKE $3)) AS known"
            ))
            .bind::<Text, _>(w)
            .bind::<Bool, _>(last)
            .bind::<Text, _>(format!("{}%", crate::db::escape_like(w)))
            .get_result::<Known>(conn)?
            .known;
            if !known {
                let near: Vec<Word> = diesel::sql_query(format!(
                    "SELECT word FROM {table} WHERE word % $1 AND similarity(word, $1) >= {SIMILARITY} \
                     ORDER BY similarity(word, $1) DESC, word LIMIT 3"
                ))
                .bind::<Text, _>(w)
                .load(conn)?;
                alts.extend(near.into_iter().map(|n| n.word).filter(|n| n != w));
            }
        }
        // The last word also matches as a prefix (typing), unless it is a single character:
        // `0:*` would match every number.
        let prefix = last && w.chars().count() > 1;
        let part: Vec<String> = alts.iter().map(|a| if prefix { format!("{a}:*") } else { a.clone() }).collect();
        groups.push(format!("({})", part.join(" | ")));
    }
    Ok(Some(groups.join(" & ")))
}

#[cfg(test)]
mod tests {
    use super::words_of;

    #[test]
    fn only_letters_and_digits_make_words() {
        assert_eq!(words_of("Профиль  Rehau-70 мм!"), vec!["профиль", "rehau", "70", "мм"]);
        assert_eq!(words_of("a' | !b & (c:*)"), vec!["a", "b", "c"]);
        assert!(words_of("'; -- ()").is_empty());
    }
}
