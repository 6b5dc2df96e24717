-- A meeting's Meeting Guide types (server/src/meeting_types.rs): a JSON array of codes,
-- `["O","D"]`. The organisation's description of its meeting, nothing about members.
ALTER TABLE meetings ADD COLUMN types TEXT NOT NULL DEFAULT '[]';
