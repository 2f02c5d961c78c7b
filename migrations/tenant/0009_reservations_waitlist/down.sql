DROP TRIGGER waitlist_arrival ON products;
DROP FUNCTION waitlist_arrival();
DROP TABLE waitlist;
DROP TABLE reservation_allocations;
DROP TABLE reservations;
