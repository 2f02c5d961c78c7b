//! Fixed-window limits on failed attempts (login), kept in process. With several
//! replicas each enforces its own window, which still bounds a brute force per node;
//! the Redis-backed store arrives with the identity issue and keeps this as fallback.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (u32, Instant)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter { limit, window, hits: Mutex::new(HashMap::new()) }
    }

    /// Refuses with 429 and `Retry-After` when any key has used up its window.
    pub fn check(&self, keys: &[&str]) -> Result<(), AppError> {
        let now = Instant::now();
        let hits = self.hits.lock().map_err(|_| AppError::RateLimited { retry_after_secs: self.window.as_secs() })?;
        for key in keys {
            if let Some((count, started)) = hits.get(*key) {
                let elapsed = now.duration_since(*started);
                if elapsed < self.window && *count >= self.limit {
                    let retry = (self.window - elapsed).as_secs().max(1);
                    return Err(AppError::RateLimited { retry_after_secs: retry });
                }
            }
        }
        Ok(())
    }

    /// Counts a failed attempt against every key.
    pub fn record(&self, keys: &[&str]) {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return;
        };
        if hits.len() > 100_000 {
            hits.retain(|_, (_, started)| now.duration_since(*started) < self.window);
        }
        for key in keys {
            let entry = hits.entry((*key).to_owned()).or_insert((0, now));
            if now.duration_since(entry.1) >= self.window {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let rl = RateLimiter::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(rl.check(&["a"]).is_ok());
            rl.record(&["a"]);
        }
        assert!(matches!(rl.check(&["a"]), Err(AppError::RateLimited { .. })));
        assert!(rl.check(&["b"]).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(rl.check(&["a"]).is_ok());
    }
}
