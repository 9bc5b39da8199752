-- Version 14: payments are found by booking only once they have one: a charge is recorded before
-- its booking exists, and every pending charge put a NULL into the booking index, a page
-- more written by the payment's first durable commit (BENCHMARKS.md).

DROP INDEX payments_by_booking;
CREATE INDEX payments_by_booking ON payments (booking_id) WHERE booking_id IS NOT NULL;
