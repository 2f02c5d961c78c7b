//! Tracing set up once: compact lines in development, JSON in production (one object per
//! line on stderr: `timestamp`, `level`, `target`, `message` and the event's fields at the top
//! level, plus `spans`, the fields of the request or job being served, outermost first: every
//! line logged while serving a request carries `spans[0].request_id` — see
//! docs/OBSERVABILITY.md).

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

pub fn init(format: &str, filter: &str) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_span_events(FmtSpan::NONE)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

/// For tests: output captured by the test harness, warnings only unless RUST_LOG says more.
pub fn init_for_test() {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}
