-- Version 5: catalog changes: a concert's calendar sequence (reschedules) and why it was cancelled;
-- every concert gets an external id so exports re-import onto the same rows.

ALTER TABLE concerts ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE concerts ADD COLUMN cancel_reason TEXT;
UPDATE concerts SET external_id = 'bx-' || id WHERE external_id IS NULL;
