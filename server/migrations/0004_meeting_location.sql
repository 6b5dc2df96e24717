-- A meeting's approximate place ("Chicago, IL, USA"): the Meeting Guide app lists an online
-- meeting only with one (its `formatted_address`, a point of origin or affinity). A city or
-- region of the organisation, never anyone's address; nothing about members.
ALTER TABLE meetings ADD COLUMN location TEXT NOT NULL DEFAULT '';
