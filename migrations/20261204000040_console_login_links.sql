-- One-time console login links (`cargo xtask demo` prints one): only the
-- SHA-256 of the link's token is kept, and the first use deletes the row.
CREATE TABLE console_login_links (
    token_sha256 bytea       PRIMARY KEY,
    role         text        NOT NULL CHECK (role IN ('admin', 'readonly')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

COMMENT ON TABLE console_login_links IS
    'One-time console login links: SHA-256 of the token, role, expiry; deleted on first use.';
