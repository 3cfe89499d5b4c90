// The sandbox's inboxes: one tab per fake company (Feishu, Lark, DingTalk, WeCom) with the approvals
// waiting for its fake people (act as any of them), the messages it received drawn as the platform shows
// them, its people, and its developer console. Read live from the sandbox's own JSON (/sandbox/state).
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { Avatar } from '../../components/avatar';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { PlatformIcon } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link, useLocation } from '../../router';
import { ApprovalsWaiting } from './approvals-waiting';
import { DeveloperConsole } from './developer-console';
import { MessagesReceived } from './messages-received';
import { loadSandboxState, type SandboxType, type SandboxVendorState } from './sandbox-state';
import './inbox.css';

const strings = defineStrings({
  en: {
    title: 'Sandbox',
    intro:
      'Fake Feishu, Lark, DingTalk and WeCom companies, each with an IM app already registered in Signoff. Act as any fake person: a decision taken here reaches Signoff through the platform’s real callback protocol, and every message Signoff sends them shows up here.',
    companies: 'Fake companies',
    imApp: 'IM app {name}',
    people: '{count} people',
    waiting: '{count} waiting',
    registeredAs: 'Registered in Signoff as the IM app',
    peopleList: 'People ({count})',
    loading: 'Loading the sandbox…',
  },
  'zh-CN': {
    title: '沙箱',
    intro:
      '模拟的飞书、Lark、钉钉和企业微信公司，每个都已在 Signoff 中注册了 IM 应用。可以以任何模拟成员的身份操作：在这里做出的审批通过平台真实的回调协议送达 Signoff，Signoff 发给它们的每条消息也都显示在这里。',
    companies: '模拟公司',
    imApp: 'IM 应用 {name}',
    people: '{count} 人',
    waiting: '{count} 个待审批',
    registeredAs: '在 Signoff 中注册的 IM 应用',
    peopleList: '成员（{count}）',
    loading: '正在加载沙箱…',
  },
});

export function InboxPage() {
  const t = useT(strings);
  const { query } = useLocation();
  const { data, error, reload } = usePoll(loadSandboxState, [], { live: true, intervalMs: 1500 });
  const [chosen, setChosen] = useState<SandboxType | undefined>(
    () => (query.get('vendor') as SandboxType | null) ?? undefined,
  );
  const vendors = data?.vendors ?? [];

  // Without a choice, open the company where something happens (once: polling must not switch tabs).
  useEffect(() => {
    if (chosen || vendors.length === 0) return;
    setChosen(busiest(vendors));
  }, [chosen, vendors]);

  const current = vendors.find((vendor) => vendor.type === chosen) ?? vendors[0];
  const choose = (type: SandboxType) => {
    setChosen(type);
    // The tab is part of the URL, so a reload or a shared link opens it again.
    history.replaceState(null, '', `/inbox?vendor=${type}`);
  };

  return (
    <Page title={t('title')}>
      <p className="inbox-intro">{t('intro')}</p>
      <ErrorNotice error={error} />
      {!data && !error && <p className="hint">{t('loading')}</p>}
      {current && (
        <>
          <VendorTabs vendors={vendors} current={current.type} onChoose={choose} />
          <div
            role="tabpanel"
            id={`inbox-panel-${current.type}`}
            aria-labelledby={`inbox-tab-${current.type}`}
            className="inbox-panel"
          >
            <VendorPanel key={current.type} vendor={current} onDecided={() => void reload()} />
          </div>
        </>
      )}
    </Page>
  );
}

/** The company with approvals waiting, else the one that received the latest message, else the first. */
function busiest(vendors: SandboxVendorState[]): SandboxType | undefined {
  const waiting = vendors.find((vendor) => vendor.pending_approvals.length > 0);
  if (waiting) return waiting.type;
  // ISO times sort as text.
  const latest = (vendor: SandboxVendorState) =>
    vendor.messages
      .map((message) => message.at)
      .sort()
      .at(-1) ?? '';
  const active = [...vendors].sort((a, b) => latest(b).localeCompare(latest(a)))[0];
  return active && latest(active) ? active.type : vendors[0]?.type;
}

/** Tabs as the ARIA pattern has them: arrow keys, Home and End move between companies. */
function VendorTabs({
  vendors,
  current,
  onChoose,
}: {
  vendors: SandboxVendorState[];
  current: SandboxType;
  onChoose: (type: SandboxType) => void;
}) {
  const t = useT(strings);
  const tabs = useRef(new Map<SandboxType, HTMLButtonElement>());
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = vendors.findIndex((vendor) => vendor.type === current);
    const target = {
      ArrowRight: index + 1,
      ArrowDown: index + 1,
      ArrowLeft: index - 1,
      ArrowUp: index - 1,
      Home: 0,
      End: vendors.length - 1,
    }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = vendors[(target + vendors.length) % vendors.length]!;
    onChoose(next.type);
    tabs.current.get(next.type)?.focus();
  };
  return (
    <div role="tablist" aria-label={t('companies')} className="inbox-tabs" onKeyDown={onKeyDown}>
      {vendors.map((vendor) => {
        const selected = vendor.type === current;
        const waiting = vendor.pending_approvals.length;
        return (
          <button
            key={vendor.type}
            ref={(element) => {
              if (element) tabs.current.set(vendor.type, element);
            }}
            type="button"
            role="tab"
            id={`inbox-tab-${vendor.type}`}
            aria-selected={selected}
            aria-controls={`inbox-panel-${vendor.type}`}
            tabIndex={selected ? 0 : -1}
            className="inbox-tab"
            onClick={() => onChoose(vendor.type)}
          >
            <span className="inbox-tab-name">
              <span aria-hidden="true">
                <PlatformIcon platform={vendor.type} />
              </span>
              {vendor.label}
              {waiting > 0 && <span className="badge badge-wait">{t('waiting', { count: waiting })}</span>}
            </span>
            <small className="inbox-tab-detail">
              {t('imApp', { name: vendor.im_app.name })} · {t('people', { count: vendor.people.length })}
            </small>
          </button>
        );
      })}
    </div>
  );
}

function VendorPanel({ vendor, onDecided }: { vendor: SandboxVendorState; onDecided: () => void }) {
  const t = useT(strings);
  return (
    <>
      <header className="inbox-panel-header">
        <h2>
          <PlatformIcon platform={vendor.type} size={24} /> {vendor.label}
        </h2>
        <p className="hint">
          {t('registeredAs')}{' '}
          <Link href={`/settings/im/${encodeURIComponent(vendor.im_app.id)}`}>{vendor.im_app.name}</Link> ·{' '}
          {t('people', { count: vendor.people.length })}
        </p>
      </header>
      <ApprovalsWaiting vendor={vendor} onDecided={onDecided} />
      <MessagesReceived vendor={vendor} />
      <details className="card inbox-people">
        <summary>{t('peopleList', { count: vendor.people.length })}</summary>
        <ul className="plain-list">
          {vendor.people.map((person) => (
            <li key={person.id} className="inbox-person">
              <Avatar name={person.name} src={person.avatar ?? null} />
              <span>
                {person.name}{' '}
                <small className="hint">
                  {[person.id, person.email ?? person.mobile].filter(Boolean).join(' · ')}
                </small>
              </span>
            </li>
          ))}
        </ul>
      </details>
      <DeveloperConsole vendor={vendor} />
    </>
  );
}
