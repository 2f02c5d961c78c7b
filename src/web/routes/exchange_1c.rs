//! `GET`/`POST /1c/exchange` on a store's host or under `/s/<slug>`: the CommerceML exchange
//! 1C drives (COMMERCEML.md §2). Answers are plain text lines (`success`, `progress`,
//! `failure` + a message 1C writes to its log) with HTTP 200, or the orders XML for
//! `mode=query`, in the encoding the store chose. Every request is logged for staff.

use std::collections::HashMap;
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;

use crate::app::AppState;
use crate::db::{run_blocking, with_tenant};
use crate::error::{AppError, AppResult};
use crate::exchange::onec::sessions::{self, Logged, Session};
use crate::exchange::onec::{files, imports, Answer, ExchangeOptions, Kind, COOKIE};
use crate::exchange::report::AnswerEncoding;
use crate::platform::features::Feature;
use crate::web::routes::auth_api::client_ip;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/1c/exchange").route(web::get().to(exchange)).route(web::post().to(exchange)));
}

/// What a request gets back.
enum Reply {
    Lines(Answer),
    Xml(Vec<u8>),
}

struct Ctx<'a> {
    state: &'a web::Data<AppState>,
    t: &'a TenantCtx,
    q: &'a HashMap<String, String>,
    opts: &'a ExchangeOptions,
}

impl Ctx<'_> {
    fn param(&self, k: &str) -> Option<&str> {
        self.q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

async fn exchange(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    q: web::Query<HashMap<String, String>>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    t.require(Feature::Exchange1c)?;
    let started = Instant::now();
    let schema = t.tenant.schema.clone();
    let opts = with_tenant(&state.pool, &schema, ExchangeOptions::load).await?;
    let ctx = Ctx { state: &state, t: &t, q: &q, opts: &opts };
    let mode = ctx.param("mode").unwrap_or_default().to_owned();
    let (reply, session_id, bytes) = handle(&ctx, &req, &mode, payload).await?;
    let (status, message) = match &reply {
        Reply::Lines(a) if mode == "checkauth" && a.status == "success" => ("success", "сеанс открыт".to_owned()),
        Reply::Lines(a) if a.status.is_empty() => ("success", a.lines.join(" ")),
        Reply::Lines(a) => (a.status, a.message()),
        Reply::Xml(x) => ("xml", format!("{} байт", x.len())),
    };
    let (kind, filename) =
        (ctx.param("type").unwrap_or_default().to_owned(), ctx.param("filename").unwrap_or_default().to_owned());
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let message = message.clone();
    with_tenant(&state.pool, &schema, move |c| {
        sessions::log(
            c,
            &Logged {
                session_id,
                kind: &kind,
                mode: &mode,
                filename: &filename,
                bytes,
                status,
                message: &message,
                duration_ms,
            },
        )
    })
    .await?;
    Ok(respond(opts.encoding, reply))
}

fn respond(enc: AnswerEncoding, reply: Reply) -> HttpResponse {
    let (body, ctype) = match reply {
        Reply::Lines(a) => (enc.encode(&a.text()), "text/plain"),
        Reply::Xml(x) => (x, "application/xml"),
    };
    HttpResponse::Ok()
        .content_type(format!("{ctype}; charset={}", enc.charset()))
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let h = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, rest) = h.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    // 1C sends the login in UTF-8; older setups in windows-1251.
    let text = match String::from_utf8(raw) {
        Ok(s) => s,
        Err(e) => encoding_rs::WINDOWS_1251.decode(e.as_bytes()).0.into_owned(),
    };
    let (login, password) = text.split_once(':')?;
    Some((login.to_owned(), password.to_owned()))
}

/// Checks Basic credentials against the store's, counting failures against a rate limit.
async fn check_credentials(ctx: &Ctx<'_>, req: &HttpRequest) -> AppResult<Result<(), Answer>> {
    let keys = [format!("1c:{}:{}", ctx.t.tenant.id, client_ip(req))];
    let limits = &ctx.state.limits;
    if limits.check(&limits.login, &keys).await.is_err() {
        return Ok(Err(Answer::failure("Слишком много неудачных попыток входа; повторите позже")));
    }
    let Some((login, password)) = basic_auth(req) else {
        return Ok(Err(Answer::failure("Ошибка авторизации: не переданы логин и пароль (Basic)")));
    };
    let opts = ctx.opts.clone();
    let ok = run_blocking(move || Ok(sessions::credentials_match(&opts, &login, &password))).await?;
    if ok {
        Ok(Ok(()))
    } else {
        limits.hit(&limits.login, &keys).await;
        Ok(Err(Answer::failure("Ошибка авторизации: неверный логин или пароль обмена")))
    }
}

async fn handle(
    ctx: &Ctx<'_>,
    req: &HttpRequest,
    mode: &str,
    payload: web::Payload,
) -> AppResult<(Reply, Option<i64>, i64)> {
    let lines = |a: Answer| Ok((Reply::Lines(a), None, 0));
    if !ctx.opts.usable() {
        return lines(Answer::failure(
            "Обмен с 1С выключен: включите его и задайте логин и пароль в разделе «Обмен с 1С» панели магазина",
        ));
    }
    let Some(kind) = ctx.param("type").and_then(Kind::parse) else {
        return lines(Answer::failure("Неизвестный тип обмена: ожидается type=catalog или type=sale"));
    };
    let schema = ctx.t.tenant.schema.clone();
    if mode == "checkauth" {
        if let Err(a) = check_credentials(ctx, req).await? {
            return lines(a);
        }
        let (ip, ua) =
            (client_ip(req), req.headers().get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or("").to_owned());
        let keep = ctx.state.settings.exchange.keep_sessions;
        let (opened, old) = with_tenant(&ctx.state.pool, &schema, move |c| {
            let opened = sessions::open(c, kind, &ip, &ua)?;
            Ok((opened, sessions::beyond_kept(c, keep)?))
        })
        .await?;
        let dirs: Vec<_> =
            old.iter().map(|id| files::session_dir(&ctx.state.settings.exchange, &schema, *id)).collect();
        run_blocking(move || {
            dirs.iter().for_each(|d| files::remove_dir(d));
            Ok(())
        })
        .await?;
        let mut out = vec![COOKIE.to_owned(), opened.token, format!("sessid={}", opened.sessid)];
        if kind == Kind::Catalog {
            out.push(format!("timestamp={}", chrono::Utc::now().timestamp()));
        }
        return Ok((Reply::Lines(Answer::success(out)), Some(opened.id), 0));
    }
    // Later requests: the session by its cookie; Basic credentials alone open one.
    let token = req.cookie(COOKIE).map(|c| c.value().to_owned());
    let sessid = ctx.param("sessid").map(str::to_owned);
    let found =
        with_tenant(&ctx.state.pool, &schema, move |c| sessions::find(c, token.as_deref(), sessid.as_deref())).await?;
    let session = match found {
        Ok(s) => s,
        Err(sessions::NotFound::NoCookie) if basic_auth(req).is_some() => {
            if let Err(a) = check_credentials(ctx, req).await? {
                return lines(a);
            }
            let (ip, ua) = (client_ip(req), String::new());
            with_tenant(&ctx.state.pool, &schema, move |c| {
                let o = sessions::open(c, kind, &ip, &ua)?;
                sessions::find(c, Some(&o.token), None)
            })
            .await?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("new exchange session not found: {e:?}")))?
        }
        Err(e) => return lines(Answer::failure(e.message())),
    };
    let sid = Some(session.id);
    let (reply, bytes) = match mode {
        "init" => (Reply::Lines(init(ctx, &session).await?), 0),
        "file" => {
            if req.method() != actix_web::http::Method::POST {
                (Reply::Lines(Answer::failure("mode=file ожидает POST с содержимым файла")), 0)
            } else {
                let (a, n) = receive_file(ctx, &session, payload).await?;
                (Reply::Lines(a), n)
            }
        }
        "import" => (Reply::Lines(import(ctx, &session).await?), 0),
        "query" if kind == Kind::Sale => (Reply::Xml(sale_query(ctx).await?), 0),
        "success" if kind == Kind::Sale => (Reply::Lines(sale_success(ctx).await?), 0),
        "success" => (Reply::Lines(Answer::success(Vec::new())), 0),
        "deactivate" => (
            Reply::Lines(Answer::success([
                "Товары, которых нет в полной выгрузке, сняты с продажи при её загрузке".to_owned()
            ])),
            0,
        ),
        "complete" => {
            let id = session.id;
            with_tenant(&ctx.state.pool, &schema, move |c| sessions::finish(c, id, None)).await?;
            (Reply::Lines(Answer::success(["Обмен завершён".to_owned()])), 0)
        }
        other => (Reply::Lines(Answer::failure(format!("Неизвестная команда mode={other}"))), 0),
    };
    Ok((reply, sid, bytes))
}

async fn init(ctx: &Ctx<'_>, s: &Session) -> AppResult<Answer> {
    let version = ctx.param("version").map(|v| v.chars().take(20).collect::<String>());
    let (id, schema) = (s.id, ctx.t.tenant.schema.clone());
    let v = version.clone();
    with_tenant(&ctx.state.pool, &schema, move |c| {
        imports::forget_pending(c, id)?;
        sessions::set_version(c, id, v.as_deref())
    })
    .await?;
    let limit = ctx.opts.file_limit.min(ctx.state.settings.exchange.file_limit).max(64 * 1024);
    let mut out = vec![format!("zip={}", if ctx.opts.zip { "yes" } else { "no" }), format!("file_limit={limit}")];
    if s.kind() == Kind::Sale {
        if let Some(v) = version {
            out.push(format!("sessid={}", s.sessid));
            out.push(format!("version={v}"));
        }
    }
    Ok(Answer::bare(out))
}

/// `mode=file`: the body appended to the named file of the session, streamed to disk.
async fn receive_file(ctx: &Ctx<'_>, s: &Session, mut payload: web::Payload) -> AppResult<(Answer, i64)> {
    let name = match files::clean_name(ctx.param("filename").unwrap_or_default()) {
        Ok(n) => n,
        Err(e) => return Ok((Answer::failure(e), 0)),
    };
    let cfg = &ctx.state.settings.exchange;
    let limit = ctx.opts.file_limit.min(cfg.file_limit).max(64 * 1024);
    let dir = files::session_dir(cfg, &ctx.t.tenant.schema, s.id);
    let (sid, schema, n2) = (s.id, ctx.t.tenant.schema.clone(), name.clone());
    let existing = with_tenant(&ctx.state.pool, &schema, move |c| imports::find_file(c, sid, &n2)).await?;
    let before = existing.as_ref().map_or(0, |f| f.size_bytes.max(0) as u64);
    // A new file, or one sent again after it was imported, starts from nothing.
    let restart = existing.as_ref().is_none_or(|f| f.status != "received");
    let quota_left = cfg.session_quota.saturating_sub(s.bytes_received.max(0) as u64);
    let mut w = Writer { dir: dir.clone(), name: name.clone(), restart, truncated: None, size: before };
    let (mut buf, mut total, mut refused) = (Vec::new(), 0u64, None);
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                refused = Some(format!("передача файла «{name}» прервана: {e}"));
                break;
            }
        };
        total += chunk.len() as u64;
        if total > limit {
            refused = Some(format!("часть файла «{name}» больше file_limit={limit} байт"));
            break;
        }
        if total > quota_left {
            refused = Some("превышен объём файлов одного сеанса обмена".to_owned());
            break;
        }
        buf.extend_from_slice(&chunk);
        if buf.len() >= 1024 * 1024 {
            w.write(std::mem::take(&mut buf)).await?;
        }
    }
    if let Some(msg) = refused {
        // Back to what it was before this request (nothing, if it had started over).
        let keep = if w.truncated == Some(true) { 0 } else { before };
        let (d, n) = (dir, name);
        run_blocking(move || files::truncate(&d, &n, keep).map_err(|e| AppError::Internal(e.into()))).await?;
        return Ok((Answer::failure(msg), 0));
    }
    if !buf.is_empty() || w.truncated.is_none() {
        w.write(buf).await?;
    }
    let (n2, size, fresh) = (name.clone(), w.size, w.truncated == Some(true));
    with_tenant(&ctx.state.pool, &schema, move |c| imports::received(c, sid, &n2, size, fresh)).await?;
    let bytes = i64::try_from(total).unwrap_or(i64::MAX);
    // The old sale protocol imports at once and answers with the result.
    if s.old_sale_protocol() && name.to_ascii_lowercase().ends_with(".xml") {
        return Ok((import_now(ctx, s, &name).await?, bytes));
    }
    Ok((Answer::success(Vec::new()), bytes))
}

/// Appends a request's body to its file in batches; the first batch decides whether the
/// file starts over (a new file, or 1C re-sending an XML file from its declaration).
struct Writer {
    dir: std::path::PathBuf,
    name: String,
    restart: bool,
    /// `None` until the first batch is written; then whether it truncated the file.
    truncated: Option<bool>,
    size: u64,
}

impl Writer {
    async fn write(&mut self, data: Vec<u8>) -> AppResult<()> {
        let truncate = self.truncated.is_none() && (self.restart || files::starts_new_file(&data));
        if self.truncated.is_none() {
            self.truncated = Some(truncate);
        }
        let (d, n) = (self.dir.clone(), self.name.clone());
        self.size =
            run_blocking(move || files::append(&d, &n, &data, truncate).map_err(|e| AppError::Internal(e.into())))
                .await?;
        Ok(())
    }
}

async fn import(ctx: &Ctx<'_>, s: &Session) -> AppResult<Answer> {
    let name = match files::clean_name(ctx.param("filename").unwrap_or_default()) {
        Ok(n) => n,
        Err(e) => return Ok(Answer::failure(e)),
    };
    let (answer, queued) = imports::step(ctx.state, ctx.t.tenant.id, &ctx.t.tenant.schema, s, &name).await?;
    if queued {
        // Start the job now rather than on the worker's next poll.
        let state = ctx.state.clone();
        let tenant_id = ctx.t.tenant.id;
        actix_web::rt::spawn(async move {
            if let Err(e) = crate::jobs::worker::run_once(&state, Some(tenant_id)).await {
                tracing::warn!(error = %e, "exchange import job not started");
            }
        });
    }
    Ok(answer)
}

async fn import_now(ctx: &Ctx<'_>, s: &Session, name: &str) -> AppResult<Answer> {
    let (sid, n, schema) = (s.id, name.to_owned(), ctx.t.tenant.schema.clone());
    let Some(file) = with_tenant(&ctx.state.pool, &schema, move |c| imports::find_file(c, sid, &n)).await? else {
        return Ok(Answer::failure(format!("Файл «{name}» не получен")));
    };
    imports::run_file(ctx.state, ctx.t.tenant.id, &schema, file.id, true).await?;
    Ok(imports::step(ctx.state, ctx.t.tenant.id, &schema, s, name).await?.0)
}

async fn sale_query(ctx: &Ctx<'_>) -> AppResult<Vec<u8>> {
    let enc = ctx.opts.encoding;
    with_tenant(&ctx.state.pool, &ctx.t.tenant.schema, move |c| crate::exchange::sale::query(c, enc)).await
}

async fn sale_success(ctx: &Ctx<'_>) -> AppResult<Answer> {
    let n = with_tenant(&ctx.state.pool, &ctx.t.tenant.schema, crate::exchange::sale::success).await?;
    Ok(Answer::success([format!("Заказов отмечено выгруженными: {n}")]))
}
