-- The key id (16 bits, not secret: docs/e2ee.md "Key derivation") of an encrypted meeting's
-- newest links, sent by the admin page when it makes them, so a page opened with an older
-- link says so instead of joining and decoding nothing. NULL: not known. Never the key.
ALTER TABLE meetings ADD COLUMN e2ee_key_id INTEGER;
