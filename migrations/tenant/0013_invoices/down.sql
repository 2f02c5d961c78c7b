DROP TABLE payment_allocations;
DROP TABLE invoices;
DROP TABLE invoice_years;
DROP SEQUENCE invoice_seq;
