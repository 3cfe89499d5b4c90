-- A sender told to wait keeps a place in line: a planned send at the time its slot opens, owned by it
-- (`notification:<id>`), so the senders waiting on one robot wake one after another at the times their
-- slots open instead of all at the first one. Rows with an owner are plans, never sends.
alter table rate_log add column planned_by text;
create index rate_log_planned_by on rate_log (planned_by) where planned_by is not null;
