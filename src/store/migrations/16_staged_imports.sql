-- Version 16: a large import writes its new concerts a few hundred to a transaction, so the counter
-- keeps selling meanwhile; they carry the import's id and stay invisible until its last
-- transaction marks the import done (one row), so the import is still all or nothing. The
-- ids are cleared afterwards, a chunk at a time. An import that died is found by its lease
-- (or its process gone): its rows are removed, or, if it was done, cleared.

ALTER TABLE concerts ADD COLUMN import_batch TEXT;
CREATE INDEX concerts_importing ON concerts (import_batch) WHERE import_batch IS NOT NULL;
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0
);
