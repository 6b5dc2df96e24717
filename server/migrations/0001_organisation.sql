-- Haven's store: the organisation's own data only. Nothing about members (names, chat,
-- bans, attendance, addresses) ever has a table here. Applied once, in order, by
-- server/src/store/mod.rs; the version is SQLite's `PRAGMA user_version`.

CREATE TABLE meetings (
    id          INTEGER PRIMARY KEY,
    -- The member link is /m/{slug}: stable, readable, unique.
    slug        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    -- BCP 47 tag, `en`, `es-MX`; empty: not said.
    language    TEXT    NOT NULL DEFAULT '',
    guidelines  TEXT    NOT NULL DEFAULT '',
    -- JSON object of room settings overriding [room_defaults] (store::MeetingSettings).
    settings    TEXT    NOT NULL DEFAULT '{}',
    listed      INTEGER NOT NULL DEFAULT 0,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- At most one schedule per meeting: a JSON schedule::Schedule (time zone, rules, duration).
CREATE TABLE schedules (
    meeting_id INTEGER PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
    spec       TEXT    NOT NULL
);

-- Several per meeting, each with a label ("Tuesday chair"). Only the SHA-256 of the secret.
CREATE TABLE facilitator_keys (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    label      TEXT    NOT NULL,
    key_sha256 BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX facilitator_keys_meeting ON facilitator_keys(meeting_id);

CREATE TABLE admins (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    -- Argon2id PHC string.
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Only the SHA-256 of the cookie's token.
CREATE TABLE admin_sessions (
    token_sha256 BLOB    PRIMARY KEY,
    admin_id     INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    expires_at   INTEGER NOT NULL
);
