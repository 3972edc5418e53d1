-- `drchrono-sync connect`: the OAuth authorization-code flow.

-- One row per connect waiting for DrChrono's callback. The state itself is
-- never stored, only its SHA-256, so reading this table does not let anyone
-- forge a callback. The callback (GET /oauth/callback, on the service or on
-- connect's own listener) fills in the code, sealed with
-- TOKEN_ENCRYPTION_KEY, or DrChrono's error; connect then exchanges the code
-- and deletes the row. A row is good for ten minutes.
CREATE TABLE oauth_pending (
    state_hash   bytea       PRIMARY KEY,
    redirect_uri text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    code_enc     bytea,
    -- The OAuth error code the callback carried (`access_denied`, ...).
    error        text,
    received_at  timestamptz
);

COMMENT ON TABLE oauth_pending IS
    'OAuth authorizations awaiting their callback: SHA-256 of the state, the sealed code once received.';

-- The scopes DrChrono granted with the pair (space-separated), for the
-- preflight and connect's report.
ALTER TABLE oauth_tokens ADD COLUMN granted_scope text;
