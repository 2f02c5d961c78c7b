-- Schemas migrated before the account keys were taken out of 0001 and 0002 still have them: drop them.
-- One key per tenant table into public.accounts meant two triggers per key on that table
-- (12,006 at 1,000 tenants), seconds per account deletion and a lock on accounts per onboarding.
ALTER TABLE staff DROP CONSTRAINT IF EXISTS staff_account_id_fkey;
ALTER TABLE companies DROP CONSTRAINT IF EXISTS companies_manager_account_id_fkey,
    DROP CONSTRAINT IF EXISTS companies_decided_by_fkey;
ALTER TABLE company_members DROP CONSTRAINT IF EXISTS company_members_account_id_fkey;
ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_invited_by_fkey,
    DROP CONSTRAINT IF EXISTS invitations_accepted_by_fkey;
