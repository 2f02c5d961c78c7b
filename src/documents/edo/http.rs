//! The skeleton of an EDO operator API client, shaped after the common operators' HTTP APIs
//! (Kontur.Diadoc, SBIS, Taxcom: authenticate with a token, post the XML to the sender's box
//! naming the receiver's box, then ask for the document's state). Configured per store
//! (`edo_http_url`, `edo_http_credentials` = `env:NAME`, a reference to where the token is,
//! never the token). It builds the requests it would send; it does not send them: no
//! operator's test account is reachable from here, so calling it would be untested code
//! talking to a real operator. `send` and `receipts` answer 503 `edo_unavailable`.

use super::{EdoProvider, Outgoing, Receipt};
use crate::error::{AppError, AppResult};

pub struct HttpProvider {
    pub base_url: String,
    pub credentials: String,
}

/// One request the provider would make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpProvider {
    /// The token, read from where the settings point (an environment variable).
    fn token(&self) -> AppResult<String> {
        let name = self
            .credentials
            .strip_prefix("env:")
            .ok_or_else(|| AppError::Unavailable("EDO credentials are not configured".into()))?;
        std::env::var(name).map_err(|_| AppError::Unavailable(format!("EDO credentials: {name} is not set")))
    }

    /// Posting the XML into the sender's box for the receiver's box.
    pub fn send_request(&self, out: &Outgoing, token: &str) -> Request {
        Request {
            method: "POST",
            url: format!("{}/v1/boxes/{}/documents", self.base_url.trim_end_matches('/'), out.sender_id),
            headers: vec![
                ("Authorization".into(), format!("Bearer {token}")),
                ("Content-Type".into(), "application/xml; charset=windows-1251".into()),
                ("X-Document-Type".into(), "UniversalTransferDocument".into()),
                ("X-File-Name".into(), out.file_name.clone()),
                ("X-Receiver-Box".into(), out.receiver_id.clone()),
                ("Idempotency-Key".into(), out.file_name.clone()),
            ],
            body: out.xml.clone(),
        }
    }

    /// Asking for the state of a document we sent.
    pub fn status_request(&self, sender: &str, file_name: &str, token: &str) -> Request {
        Request {
            method: "GET",
            url: format!("{}/v1/boxes/{sender}/documents/{file_name}/status", self.base_url.trim_end_matches('/')),
            headers: vec![("Authorization".into(), format!("Bearer {token}"))],
            body: Vec::new(),
        }
    }
}

fn not_here() -> AppError {
    AppError::Unavailable("the HTTP EDO provider is a skeleton: no operator is connected here".into())
}

impl EdoProvider for HttpProvider {
    fn name(&self) -> &'static str {
        "http"
    }

    fn send(&self, out: &Outgoing) -> AppResult<()> {
        let _request = self.send_request(out, &self.token()?);
        Err(not_here())
    }

    fn receipts(&self) -> AppResult<Vec<(String, Receipt)>> {
        self.token()?;
        Err(not_here())
    }

    fn done(&self, _key: &str, _applied: bool) -> AppResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_boxes_and_never_carry_the_reference_as_a_secret() {
        let p =
            HttpProvider { base_url: "https://edo.example/api/".into(), credentials: "env:TP_EDO_TOKEN_TEST".into() };
        let out = Outgoing {
            file_name: "ON_X.xml".into(),
            xml: b"<x/>".to_vec(),
            sender_id: "S1".into(),
            receiver_id: "R1".into(),
        };
        let r = p.send_request(&out, "t0ken");
        assert_eq!(r.url, "https://edo.example/api/v1/boxes/S1/documents");
        assert!(r.headers.contains(&("X-Receiver-Box".into(), "R1".into())));
        assert!(r.headers.contains(&("Authorization".into(), "Bearer t0ken".into())));
        assert!(p.send(&out).is_err(), "not callable here");
        assert_eq!(
            p.status_request("S1", "ON_X.xml", "t").url,
            "https://edo.example/api/v1/boxes/S1/documents/ON_X.xml/status"
        );
    }
}
