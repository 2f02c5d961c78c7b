//! Fixed-window limits on attempts (login, registration, password reset, invitations),
//! per client address and per account. Counted in Redis when `REDIS_URL` is set, so every
//! replica shares them, and always in an in-process window too: a key is refused when
//! either count has reached the limit. So when Redis fails the node's own count takes over
//! with every attempt it saw before the outage, and when Redis is back the attempts of the
//! outage still count (SECURITY.md T13: the limit is never reset by a Redis outage).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::error::AppError;

/// One kind of limited action.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

pub struct Limits {
    pub login: Policy,
    pub register: Policy,
    pub reset: Policy,
    pub invite: Policy,
    prefix: String,
    redis: OnceLock<ConnectionManager>,
    local: Mutex<HashMap<String, (u32, Instant)>>,
}

const REDIS_TIMEOUT: Duration = Duration::from_millis(300);

impl Limits {
    pub fn new(login_attempts: u32, login_window: Duration, prefix: &str) -> Limits {
        Limits {
            login: Policy { name: "login", limit: login_attempts, window: login_window },
            register: Policy { name: "register", limit: 10, window: Duration::from_secs(3600) },
            reset: Policy { name: "reset", limit: 5, window: Duration::from_secs(3600) },
            invite: Policy { name: "invite", limit: 30, window: Duration::from_secs(3600) },
            prefix: prefix.to_owned(),
            redis: OnceLock::new(),
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Starts using Redis (called once the connection is up).
    pub fn use_redis(&self, conn: ConnectionManager) {
        let _ = self.redis.set(conn);
    }

    pub fn uses_redis(&self) -> bool {
        self.redis.get().is_some()
    }

    fn key(&self, p: &Policy, key: &str) -> String {
        format!("{}:rl:{}:{}", self.prefix, p.name, key)
    }

    /// 429 with `Retry-After` when any key has used up its window, in this node's count or
    /// in Redis's (when it answers).
    pub async fn check(&self, p: &Policy, keys: &[String]) -> Result<(), AppError> {
        self.check_local(p, keys)?;
        if let Some(conn) = self.redis.get() {
            match self.check_redis(conn.clone(), p, keys).await {
                Ok(result) => return result,
                Err(e) => tracing::warn!(error = %e, "rate limit store unavailable; using the in-process window"),
            }
        }
        Ok(())
    }

    /// Counts an attempt against every key, in this node's window and in Redis.
    pub async fn hit(&self, p: &Policy, keys: &[String]) {
        self.hit_local(p, keys);
        if let Some(conn) = self.redis.get() {
            if let Err(e) = self.hit_redis(conn.clone(), p, keys).await {
                tracing::warn!(error = %e, "rate limit store unavailable; using the in-process window");
            }
        }
    }

    async fn check_redis(
        &self,
        mut conn: ConnectionManager,
        p: &Policy,
        keys: &[String],
    ) -> redis::RedisResult<Result<(), AppError>> {
        for key in keys {
            let k = self.key(p, key);
            let mut pipe = redis::pipe();
            pipe.get(&k).ttl(&k);
            let (count, ttl) = tokio_timeout(pipe.query_async::<(Option<u32>, i64)>(&mut conn)).await?;
            if count.unwrap_or(0) >= p.limit {
                let retry = if ttl > 0 { ttl as u64 } else { p.window.as_secs() };
                return Ok(Err(AppError::RateLimited { retry_after_secs: retry.max(1) }));
            }
        }
        Ok(Ok(()))
    }

    async fn hit_redis(&self, mut conn: ConnectionManager, p: &Policy, keys: &[String]) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        for key in keys {
            let k = self.key(p, key);
            pipe.incr(&k, 1).ignore().cmd("EXPIRE").arg(&k).arg(p.window.as_secs()).arg("NX").ignore();
        }
        tokio_timeout(pipe.query_async::<()>(&mut conn)).await
    }

    fn check_local(&self, p: &Policy, keys: &[String]) -> Result<(), AppError> {
        let now = Instant::now();
        let hits = self.local.lock().map_err(|_| AppError::RateLimited { retry_after_secs: p.window.as_secs() })?;
        for key in keys {
            if let Some((count, started)) = hits.get(&self.key(p, key)) {
                let elapsed = now.duration_since(*started);
                if elapsed < p.window && *count >= p.limit {
                    return Err(AppError::RateLimited { retry_after_secs: (p.window - elapsed).as_secs().max(1) });
                }
            }
        }
        Ok(())
    }

    fn hit_local(&self, p: &Policy, keys: &[String]) {
        let now = Instant::now();
        let Ok(mut hits) = self.local.lock() else { return };
        if hits.len() > 100_000 {
            hits.retain(|_, (_, started)| now.duration_since(*started) < Duration::from_secs(3600));
        }
        for key in keys {
            let entry = hits.entry(self.key(p, key)).or_insert((0, now));
            if now.duration_since(entry.1) >= p.window {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }
}

async fn tokio_timeout<T>(fut: impl std::future::Future<Output = redis::RedisResult<T>>) -> redis::RedisResult<T> {
    match actix_web::rt::time::timeout(REDIS_TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(redis::RedisError::from((redis::ErrorKind::Io, "redis timed out"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn blocks_after_the_limit_until_the_window_ends() {
        let l = Limits::new(3, Duration::from_millis(200), "t");
        let keys = vec!["a".to_string()];
        for _ in 0..3 {
            assert!(l.check(&l.login, &keys).await.is_ok());
            l.hit(&l.login, &keys).await;
        }
        assert!(matches!(l.check(&l.login, &keys).await, Err(AppError::RateLimited { .. })));
        assert!(l.check(&l.login, &["b".to_string()]).await.is_ok());
        assert!(l.check(&l.register, &keys).await.is_ok(), "policies count separately");
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.check(&l.login, &keys).await.is_ok());
    }
}
