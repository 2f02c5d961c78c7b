DROP TABLE payment_allocations;
DROP TABLE invoices;
DROP TABLE invoice_counters;
