//! Fluent translations from `templates/locales/<lang>/*.ftl`, and the locale of a request.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

pub struct I18n {
    bundles: HashMap<String, FluentBundle<FluentResource>>,
    /// Per language: the domain's English messages (validation, conflicts) → translation.
    messages: HashMap<String, HashMap<String, String>>,
}

/// The fallback language for a missing message.
const FALLBACK: &str = "en";

impl I18n {
    pub fn load(dir: &Path) -> anyhow::Result<I18n> {
        let mut bundles = HashMap::new();
        let mut messages = HashMap::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let lang = entry.file_name().to_string_lossy().into_owned();
            let id: LanguageIdentifier = lang.parse().with_context(|| format!("bad locale folder {lang}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            bundle.set_use_isolating(false);
            let mut files: Vec<_> = std::fs::read_dir(entry.path())?.filter_map(Result::ok).collect();
            files.sort_by_key(|f| f.file_name());
            for file in files.into_iter().filter(|f| f.path().extension().is_some_and(|e| e == "ftl")) {
                let text = std::fs::read_to_string(file.path())?;
                let res = FluentResource::try_new(text)
                    .map_err(|(_, errs)| anyhow::anyhow!("{}: {errs:?}", file.path().display()))?;
                bundle
                    .add_resource(res)
                    .map_err(|errs| anyhow::anyhow!("{}: duplicate messages {errs:?}", file.path().display()))?;
            }
            let table = entry.path().join("messages.tsv");
            if table.is_file() {
                let text = std::fs::read_to_string(&table)?;
                let map: HashMap<String, String> = text
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .filter_map(|l| l.split_once('\t'))
                    .map(|(en, tr)| (en.trim().to_owned(), tr.trim().to_owned()))
                    .collect();
                messages.insert(lang.clone(), map);
            }
            bundles.insert(lang, bundle);
        }
        Ok(I18n { bundles, messages })
    }

    pub fn has_locale(&self, lang: &str) -> bool {
        self.bundles.contains_key(lang)
    }

    /// Message `key` in `lang`, falling back to English, then to the key itself.
    pub fn tr(&self, lang: &str, key: &str, args: Option<&FluentArgs>) -> String {
        for l in [lang, FALLBACK] {
            if let Some(bundle) = self.bundles.get(l) {
                if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
                    let mut errors = Vec::new();
                    return bundle.format_pattern(pattern, args, &mut errors).into_owned();
                }
            }
        }
        key.to_owned()
    }

    /// A domain message (English) in `lang`, or unchanged when there is no translation.
    pub fn message(&self, lang: &str, english: &str) -> String {
        self.messages.get(lang).and_then(|m| m.get(english)).cloned().unwrap_or_else(|| english.to_owned())
    }

    /// Message keys present in one language and missing in another (a test keeps this empty).
    pub fn missing_keys(&self, dir: &Path) -> anyhow::Result<Vec<String>> {
        let mut keys: HashMap<String, Vec<String>> = HashMap::new();
        for lang in self.bundles.keys() {
            for file in std::fs::read_dir(dir.join(lang))?.filter_map(Result::ok) {
                let text = std::fs::read_to_string(file.path())?;
                for line in text.lines() {
                    if let Some((k, _)) = line.split_once(" =") {
                        if !k.starts_with([' ', '#', '.']) && !k.is_empty() {
                            keys.entry(k.trim().to_owned()).or_default().push(lang.clone());
                        }
                    }
                }
            }
        }
        let n = self.bundles.len();
        let mut missing: Vec<String> = keys
            .into_iter()
            .filter(|(_, langs)| langs.len() != n)
            .map(|(k, langs)| format!("{k} (only in {})", langs.join(",")))
            .collect();
        missing.sort();
        Ok(missing)
    }
}

/// Picks the request's language: the `tp_lang` cookie, then `Accept-Language`, then the default.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>, allowed: &[String], default: &str) -> String {
    if let Some(c) = cookie {
        if allowed.iter().any(|a| a == c) {
            return c.to_owned();
        }
    }
    if let Some(header) = accept_language {
        for part in header.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(found) = allowed.iter().find(|a| a.as_str() == primary) {
                return found.clone();
            }
        }
    }
    default.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/locales")
    }

    #[test]
    fn russian_and_english_have_the_same_messages() {
        let i18n = I18n::load(&dir()).expect("locales load");
        assert!(i18n.has_locale("ru") && i18n.has_locale("en"));
        assert_eq!(i18n.missing_keys(&dir()).expect("read"), Vec::<String>::new());
        assert_ne!(i18n.tr("ru", "nav-login", None), i18n.tr("en", "nav-login", None));
        assert_eq!(i18n.message("ru", "KPP must be 9 digits"), "КПП — 9 цифр");
        assert_eq!(i18n.message("en", "KPP must be 9 digits"), "KPP must be 9 digits");
    }

    #[test]
    fn negotiation_prefers_cookie_then_header_then_default() {
        let allowed = vec!["ru".to_string(), "en".to_string()];
        assert_eq!(negotiate(Some("en"), Some("ru"), &allowed, "ru"), "en");
        assert_eq!(negotiate(Some("de"), Some("de-DE,en;q=0.8"), &allowed, "ru"), "en");
        assert_eq!(negotiate(None, None, &allowed, "ru"), "ru");
    }
}
