//! Tenant logos: the type is read from the bytes (never from the client's say-so), the
//! size is bounded, and SVG is accepted only without script, event handlers or external
//! references. Logos are served with a sandboxing CSP as a second line of defence.

use diesel::prelude::*;

use crate::db::schema_platform::tenants;
use crate::error::AppResult;

pub const MAX_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub mime: String,
}

impl Logo {
    /// Recognises PNG, JPEG, WebP and (clean) SVG from the content.
    pub fn sniff(bytes: Vec<u8>) -> Result<Logo, String> {
        if bytes.is_empty() {
            return Err("the file is empty".into());
        }
        if bytes.len() > MAX_BYTES {
            return Err("must be at most 512 KB".into());
        }
        let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            "image/webp"
        } else if is_clean_svg(&bytes)? {
            "image/svg+xml"
        } else {
            return Err("must be a PNG, JPEG, WebP or SVG image".into());
        };
        Ok(Logo { bytes, mime: mime.into() })
    }
}

fn is_clean_svg(bytes: &[u8]) -> Result<bool, String> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(false) };
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<svg") {
        return Ok(false);
    }
    let forbidden = [
        "<script",
        "javascript:",
        "<foreignobject",
        "<!entity",
        "<!doctype",
        "xlink:href=\"http",
        "href=\"http",
        "<iframe",
        "<embed",
        "<object",
    ];
    if forbidden.iter().any(|f| lower.contains(f)) || has_event_handler(&lower) {
        return Err("SVG logos may not contain scripts, event handlers or external references".into());
    }
    Ok(true)
}

/// `on…=` attributes such as `onload=`.
fn has_event_handler(lower: &str) -> bool {
    lower.match_indices(" on").any(|(i, _)| {
        let rest = &lower[i + 3..];
        let name_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        name_len > 0 && rest[name_len..].trim_start().starts_with('=')
    })
}

/// Replaces (or with `None` removes) a tenant's logo.
pub fn set(conn: &mut PgConnection, tenant_id: i64, logo: Option<&Logo>) -> AppResult<()> {
    diesel::update(tenants::table.find(tenant_id))
        .set((
            tenants::logo.eq(logo.map(|l| l.bytes.as_slice())),
            tenants::logo_mime.eq(logo.map(|l| l.mime.as_str())),
            tenants::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_content() {
        assert_eq!(Logo::sniff(b"\x89PNG\r\n\x1a\nrest".to_vec()).map(|l| l.mime), Ok("image/png".into()));
        assert_eq!(Logo::sniff(vec![0xFF, 0xD8, 0xFF, 0xE0]).map(|l| l.mime), Ok("image/jpeg".into()));
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>"#;
        assert_eq!(Logo::sniff(svg.to_vec()).map(|l| l.mime), Ok("image/svg+xml".into()));
        assert!(Logo::sniff(b"MZ\x90\x00 an exe".to_vec()).is_err());
        assert!(Logo::sniff(b"<html><body>hi</body></html>".to_vec()).is_err());
        assert!(Logo::sniff(Vec::new()).is_err());
        assert!(Logo::sniff(vec![0x89; MAX_BYTES + 1]).is_err());
    }

    #[test]
    fn scriptable_svg_is_refused() {
        for bad in [
            r#"<svg><script>alert(1)</script></svg>"#,
            r#"<svg onload="alert(1)"></svg>"#,
            r#"<svg><a href="javascript:alert(1)">x</a></svg>"#,
            r#"<svg><image href="http://evil.example/x.png"/></svg>"#,
            r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>"#,
            r#"<svg><foreignObject><div>x</div></foreignObject></svg>"#,
            r#"<svg ONCLICK = "x()"></svg>"#,
        ] {
            assert!(Logo::sniff(bad.as_bytes().to_vec()).is_err(), "{bad}");
        }
    }
}
