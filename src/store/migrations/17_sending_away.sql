-- Version 17: messages can leave through a mail relay or an SMS gateway: where each went (`via`:
-- spool, smtp or sms-gateway; `file` keeps the path, or the server and what it answered),
-- and a lease on a row being sent, so two terminals never send one message twice.

ALTER TABLE outbox ADD COLUMN via TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
UPDATE outbox SET via = 'spool' WHERE state = 'delivered';
