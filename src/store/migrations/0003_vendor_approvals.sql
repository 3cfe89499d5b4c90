-- Approvals decided in a platform's own approval app (Feishu/Lark, DingTalk, WeCom). They are waitpoints
-- like native ones (same row, `kind` = the platform), plus what ties them to the vendor's instance.
alter table approvals add column im_app_id text;
-- Ours, unique per approval: Feishu's `uuid` idempotency field, and written into every vendor form so an
-- instance created just before a crash can be found again.
alter table approvals add column vendor_key text;
-- The request as resolved (vendor user ids, definition code), kept for reconcile and revoke.
alter table approvals add column vendor_request jsonb;
alter table approvals add column create_attempted_at timestamptz;
alter table approvals add column vendor_instance_id text;
alter table approvals add column vendor_status text;
-- The last InstanceState read from the vendor: nodes, approvers, decisions, comments.
alter table approvals add column vendor_state jsonb;
alter table approvals add column vendor_link text;
-- Words for people about what happened at the vendor (e.g. "WeCom cannot withdraw an approval by API").
alter table approvals add column status_text text;
alter table approvals add column next_poll_at timestamptz;
alter table approvals add column polls integer not null default 0;
alter table approvals add column last_synced_at timestamptz;
alter table approvals add column remind_at timestamptz;
alter table approvals add column reminded_at timestamptz;
create unique index approvals_vendor_instance on approvals (im_app_id, vendor_instance_id)
  where vendor_instance_id is not null;
create index approvals_next_poll on approvals (next_poll_at)
  where status = 'pending' and vendor_instance_id is not null;

-- One vendor definition (Feishu approval code, DingTalk process code, WeCom template id) per app and
-- shape. The row is claimed before the vendor is asked, so concurrent runs never create two.
create table im_approval_definitions (
  im_app_id   text not null references im_apps(id) on delete cascade,
  shape_key   text not null,
  code        text,
  claimed_at  timestamptz not null default now(),
  created_at  timestamptz,
  primary key (im_app_id, shape_key)
);
