DROP TABLE settings;
DROP TABLE staff;
