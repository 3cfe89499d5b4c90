-- Notifications: an outbox of messages, each stored (in the transaction that changed the run) before it is
-- sent, then delivered by the queue with retries; and the send log behind per-destination rate limits,
-- shared by every instance on the database.
create table notifications (
  id                integer generated always as identity primary key,
  run_id            integer not null references runs(id) on delete cascade,
  -- The job the message is about (job-level rule, approval) or that sends it (notification job).
  job_id            integer,
  -- Which rule made it: `notify[0]` (workflow level), `jobs.deploy.notify[1]`, `job` (a notification job).
  source            text not null,
  -- The event (`passed`, `wait_for_approval`, …), `notification` for a notification job, `decided` for
  -- an in-place card update.
  reason            text not null,
  channel           text not null,
  -- Who or where, for people reading the delivery log: secrets in URLs are already redacted here.
  target            text not null,
  im_app_id         text,
  -- The recipient as the rule names it ({chat}, {person}, {people}, {email}, {part}); never secret.
  recipient         jsonb not null default '{}',
  -- Webhook URL, signing secret and headers, sealed with the secret box (bound to dedup_key).
  sealed            text,
  -- What to say: the NotificationMessage snapshot taken when the event happened.
  message           jsonb not null,
  -- `send`, or `update` (an in-place card update of the message `updates_id`).
  action            text not null default 'send',
  updates_id        integer references notifications(id) on delete cascade,
  -- One message per event, rule and recipient, however often the event is looked at.
  dedup_key         text not null unique,
  status            text not null default 'pending',
  attempts          integer not null default 0,
  next_attempt_at   timestamptz not null default now(),
  claimed_by        text,
  claimed_at        timestamptz,
  last_error        text,
  vendor_message_id text,
  created_at        timestamptz not null default now(),
  delivered_at      timestamptz
);
create index notifications_run on notifications (run_id, id);
create index notifications_job on notifications (job_id) where job_id is not null;
create index notifications_active on notifications (status, next_attempt_at) where status in ('pending', 'sending');
create index notifications_recent on notifications (id desc);

-- One row per send, per rate-limit key (a Feishu chat, a DingTalk robot, …), in ms since the epoch: when
-- its slot was taken while the request is in flight, when it ended afterwards.
create table rate_log (
  key        text not null,
  at         bigint not null,
  in_flight  boolean not null default false
);
create index rate_log_key on rate_log (key, at desc);
