// A Feishu, Lark, DingTalk or WeCom approval as the vendor sees it: what happened there, each step (node)
// in order with its kind (all must approve, or any one), and each approver's face, decision, comment and time.
import { Avatar } from '../../components/avatar';
import { platformLabel } from '../../components/platform-icon';
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import type { VendorApproval, VendorApprover } from './types';

const strings = defineStrings({
  en: {
    atVendor: 'At {platform}',
    vendorStatus: 'Vendor status',
    instance: 'Instance',
    notCreated: 'not created yet',
    open: 'Open in {platform}',
    synced: 'Last read from {platform} {ago}',
    node: 'Step {index}',
    AND: 'everyone must approve (会签)',
    OR: 'any one decides (或签)',
    transferred: 'transferred',
    notNeeded: 'no longer needed',
    approvers: 'Approvers of step {index}',
  },
  'zh-CN': {
    atVendor: '{platform} 中',
    vendorStatus: '平台状态',
    instance: '审批实例',
    notCreated: '尚未创建',
    open: '在{platform}中打开',
    synced: '{ago}从{platform}同步',
    node: '第 {index} 步',
    AND: '会签（需所有人同意）',
    OR: '或签（一人同意即可）',
    transferred: '已转交',
    notNeeded: '无需处理',
    approvers: '第 {index} 步的审批人',
  },
});

export function VendorProgress({ vendor }: { vendor: VendorApproval }) {
  const t = useT(strings);
  const format = useFormat();
  const platform = platformLabel[vendor.platform];
  return (
    <div className="runs-vendor">
      <dl className="runs-facts">
        {vendor.status_text && (
          <div className="runs-facts-wide">
            <dt>{t('atVendor', { platform })}</dt>
            <dd>{vendor.status_text}</dd>
          </div>
        )}
        <div>
          <dt>{t('vendorStatus')}</dt>
          <dd>
            <code>{vendor.status ?? '—'}</code>
          </dd>
        </div>
        <div>
          <dt>{t('instance')}</dt>
          <dd>{vendor.instance_id ? <code>{vendor.instance_id}</code> : t('notCreated')}</dd>
        </div>
      </dl>
      {vendor.link && (
        <p>
          <a className="button" href={vendor.link} target="_blank" rel="noopener noreferrer">
            {t('open', { platform })}
          </a>
        </p>
      )}
      <ol className="runs-nodes">
        {vendor.nodes.map((node, index) => (
          // Nodes are the vendor's steps in order; their position is their identity.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above.
          <li key={index} className="runs-node">
            <h4>
              {t('node', { index: index + 1 })} · <span>{t(node.type)}</span>{' '}
              <StatusBadge status={node.status} />
            </h4>
            <ul className="runs-people" aria-label={t('approvers', { index: index + 1 })}>
              {node.approvers.map((approver) => (
                <VendorPerson
                  key={approver.id}
                  approver={approver}
                  stepDecided={node.status === 'approved' || node.status === 'rejected'}
                />
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {vendor.last_synced_at && (
        <p className="hint">{t('synced', { platform, ago: format.ago(vendor.last_synced_at) })}</p>
      )}
    </div>
  );
}

/** In a step already decided (an OR step someone else decided), a person who did not act no longer has to. */
function VendorPerson({ approver, stepDecided }: { approver: VendorApprover; stepDecided: boolean }) {
  const t = useT(strings);
  const format = useFormat();
  const name = approver.name ?? approver.id;
  return (
    <li className="runs-person">
      <Avatar name={name} src={approver.avatar} size={32} />
      <div className="runs-person-body">
        <div className="runs-person-head">
          <strong>{name}</strong>
          {approver.decision === 'transferred' ? (
            <span className="badge badge-muted">{t('transferred')}</span>
          ) : stepDecided && approver.decision === 'pending' ? (
            <span className="hint">{t('notNeeded')}</span>
          ) : (
            <StatusBadge status={approver.decision} />
          )}
          {approver.decided_at && (
            <time className="hint" dateTime={approver.decided_at}>
              {format.time(approver.decided_at)}
            </time>
          )}
        </div>
        {approver.comment && <p className="runs-comment">{approver.comment}</p>}
      </div>
    </li>
  );
}
