-- The 1C exchange (CommerceML over HTTP): one row per session 1C opens with mode=checkauth,
-- the files it sends in it, and every request with our answer, for the staff's exchange log.

CREATE TABLE exchange_sessions (
    id            bigserial PRIMARY KEY,
    -- SHA-256 of the cookie value 1C sends back; the value itself is never stored.
    token_hash    text NOT NULL UNIQUE,
    -- The `sessid=` 1C appends to later URLs (checked when present).
    sessid        text NOT NULL,
    type          text NOT NULL CHECK (type IN ('catalog', 'sale')),
    -- `version=` sent with mode=init (type=sale: the new protocol imports with mode=import).
    version       text,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'failed')),
    remote_addr   text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300),
    requests      int NOT NULL DEFAULT 0,
    bytes_received bigint NOT NULL DEFAULT 0,
    error         text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX exchange_sessions_started_idx ON exchange_sessions (started_at DESC, id DESC);

-- A file received in a session (appended chunk by chunk), or unpacked from a zip it sent.
CREATE TABLE exchange_files (
    id          bigserial PRIMARY KEY,
    session_id  bigint NOT NULL REFERENCES exchange_sessions (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    size_bytes  bigint NOT NULL DEFAULT 0,
    chunks      int NOT NULL DEFAULT 0,
    -- received → (mode=import) queued → running → done | failed; a zip becomes `unpacked`.
    status      text NOT NULL DEFAULT 'received'
                CHECK (status IN ('received', 'unpacked', 'queued', 'running', 'done', 'failed')),
    from_zip    text,
    report      jsonb,
    error       text,
    received_at timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz,
    UNIQUE (session_id, name)
);

-- Every request of a session and the first line of our answer.
CREATE TABLE exchange_requests (
    id          bigserial PRIMARY KEY,
    session_id  bigint REFERENCES exchange_sessions (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    type        text NOT NULL DEFAULT '',
    mode        text NOT NULL DEFAULT '',
    filename    text NOT NULL DEFAULT '',
    bytes       bigint NOT NULL DEFAULT 0,
    status      text NOT NULL,
    message     text NOT NULL DEFAULT '',
    duration_ms int NOT NULL DEFAULT 0
);
CREATE INDEX exchange_requests_session_idx ON exchange_requests (session_id, id);
CREATE INDEX exchange_requests_at_idx ON exchange_requests (at DESC);
