-- The position query of finance::ledger::position (one statement), for :company.
SELECT coalesce(b.debit, 0) AS debit, coalesce(b.credit, 0) AS credit,
   (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
     WHERE e.company_id = :company AND e.side = 'debit' AND e.due_on >= current_date) AS not_due,
   (SELECT coalesce(sum(o.total), 0) FROM orders o
     WHERE o.company_id = :company AND o.payment_method = 'on_account'
       AND o.status IN ('awaiting_approval', 'new', 'confirmed', 'in_production', 'assembled')) AS on_order
FROM (SELECT 1) one LEFT JOIN company_balances b ON b.company_id = :company;
