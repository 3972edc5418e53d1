-- The DrChrono client's shared state (see DESIGN.md, "The DrChrono client").
-- Every process reads and writes these rows; Postgres is the only coordinator.

-- OAuth tokens, one row per practice/app ('default'). Both tokens are
-- encrypted with TOKEN_ENCRYPTION_KEY (AES-256-GCM, a random nonce per write:
-- version byte || 12-byte nonce || ciphertext and tag); the plaintext never
-- reaches the database. A refresh holds this row's lock (SELECT ... FOR
-- UPDATE), so only one process refreshes at a time, and the rotated pair is
-- committed before anyone uses it.
CREATE TABLE oauth_tokens (
    key               text        PRIMARY KEY,
    access_token_enc  bytea       NOT NULL,
    refresh_token_enc bytea,
    -- From `expires_in`; NULL when unknown (tokens seeded from the environment).
    access_expires_at timestamptz,
    -- Bumped on every rotation, so an operator sees how often it happens.
    generation        bigint      NOT NULL DEFAULT 0,
    -- HMAC of the environment's seed tokens: a lockout is lifted by setting
    -- *new* DRCHRONO_ACCESS_TOKEN / DRCHRONO_REFRESH_TOKEN, never by the old ones.
    seed_fingerprint  bytea,
    -- Set when DrChrono refused the refresh (invalid_grant / invalid_client):
    -- a person must re-authorize. Every call checks it before the network.
    needs_reauth      boolean     NOT NULL DEFAULT false,
    reauth_reason     text,
    reauth_since      timestamptz,
    refreshed_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE oauth_tokens IS
    'DrChrono OAuth tokens, encrypted at rest; one row per app. needs_reauth stops every API call.';

-- The shared hourly call budget. DrChrono resets its count at the top of the
-- (UTC) clock hour; `calls` counts this process fleet's calls in the window
-- that starts at `window_start`. A 429 sets `blocked_until`, which stops every
-- caller until then. One row per app; a call is taken with one atomic
-- INSERT ... ON CONFLICT DO UPDATE ... WHERE calls < limit.
CREATE TABLE drchrono_rate_budget (
    app           text        PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    calls         integer     NOT NULL,
    blocked_until timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE drchrono_rate_budget IS
    'DrChrono calls made in the current clock hour, shared by every process, and any 429 block.';
