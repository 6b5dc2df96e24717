-- A meeting's readings (docs/protocol.md "Readings"): a JSON array of `{"title","text"}`,
-- plain texts the group reads together. The organisation's own texts, nothing about members.
ALTER TABLE meetings ADD COLUMN readings TEXT NOT NULL DEFAULT '[]';
