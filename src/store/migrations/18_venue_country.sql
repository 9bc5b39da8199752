-- Version 18: a venue's country (ISO 3166 code), which decides a phone number typed without one;
-- NULL: from the venue's time zone (`catalog::country_of_zone`).

ALTER TABLE venues ADD COLUMN country TEXT;
