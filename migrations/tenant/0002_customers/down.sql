DROP TABLE invitations;
DROP TABLE company_addresses;
DROP TABLE company_members;
DROP TABLE companies;
ALTER TABLE staff DROP COLUMN updated_at;
ALTER TABLE staff DROP COLUMN status;
