-- Version 20: a box office made with `boxoffice init` is for its own catalog: it stays empty
-- until venues and concerts are added (0), where an empty one gets the demo catalog (1).

ALTER TABLE box_office ADD COLUMN demo INTEGER NOT NULL DEFAULT 1;
