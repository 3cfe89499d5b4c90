-- The callback hot path writes a replay key and an event for every callback. Measured on PGlite, the
-- foreign-key checks were about 30 % of that statement and the never-read "unprocessed" index another
-- cost per insert. Events are only ever read by app, and deleting an app now deletes its events and
-- replay keys itself (store/im-apps.ts deleteImApp), so both constraints and the index go.
drop index if exists im_events_unprocessed;
alter table im_events drop column processed_at;
alter table im_events drop constraint im_events_im_app_id_fkey;
alter table im_callback_replays drop constraint im_callback_replays_im_app_id_fkey;
