DROP TABLE exchange_requests;
DROP TABLE exchange_files;
DROP TABLE exchange_sessions;
