ALTER FUNCTION waitlist_arrival() RESET search_path;
ALTER FUNCTION stock_sync() RESET search_path;
