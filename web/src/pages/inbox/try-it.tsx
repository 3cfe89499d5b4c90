// What to do when a fake has nothing yet: a ready workflow (an approval on the fake's IM app, or a message
// to its group) to paste into the workflow editor, with the fake's own ids filled in.
import { CopyButton } from '../../components/copy-button';
import { defineStrings, useT } from '../../i18n';
import { Link } from '../../router';
import type { SandboxVendorState } from './sandbox-state';

const strings = defineStrings({
  en: {
    approval:
      'Run a workflow with an approval on {app}, for example with {name} as the approver: the approval waits here for {name} to decide.',
    message: 'Run a workflow that sends a message to this fake, for example:',
    newWorkflow: 'New workflow',
    copyApproval: 'Copy the example approval workflow',
    copyMessage: 'Copy the example message workflow',
  },
  'zh-CN': {
    approval: '运行一个在 {app} 上审批的工作流，例如由 {name} 审批：审批会出现在这里，等待 {name} 处理。',
    message: '运行一个给这个模拟平台发消息的工作流，例如：',
    newWorkflow: '新建工作流',
    copyApproval: '复制示例审批工作流',
    copyMessage: '复制示例消息工作流',
  },
});

export function TryIt({ vendor, what }: { vendor: SandboxVendorState; what: 'approval' | 'message' }) {
  const t = useT(strings);
  const approver = vendor.people[0];
  const yaml = what === 'approval' ? approvalExample(vendor) : messageExample(vendor);
  if (!yaml) return null;
  return (
    <div className="inbox-try">
      <p>
        {what === 'approval'
          ? t('approval', { app: vendor.im_app.name, name: approver?.name ?? '' })
          : t('message')}
      </p>
      <pre className="inbox-raw">{yaml}</pre>
      <div className="inbox-try-actions">
        <CopyButton value={yaml} label={what === 'approval' ? t('copyApproval') : t('copyMessage')} />
        <Link className="button button-small" href="/workflows/new">
          {t('newWorkflow')}
        </Link>
      </div>
    </div>
  );
}

function approvalExample(vendor: SandboxVendorState): string | undefined {
  const approver = vendor.people[0];
  if (!approver) return undefined;
  return `name: try-${vendor.type}-approval
stages:
  - name: approve
    jobs:
      - name: go-live
        type: approval
        spec:
          type: ${vendor.type}
          app: ${vendor.im_app.name}
          title: Ship it?
          nodes:
            - approvers: [{ id: ${approver.id} }]   # ${approver.name}
`;
}

function messageExample(vendor: SandboxVendorState): string | undefined {
  const robot = vendor.developer_console.robots[0];
  const chat = vendor.chats[0];
  let spec: string;
  if ((vendor.type === 'feishu' || vendor.type === 'lark') && chat) {
    spec = `channel: ${vendor.type}_app
          app: ${vendor.im_app.name}
          chat: ${chat.id}   # ${chat.name}`;
  } else if (vendor.type === 'dingtalk' && robot) {
    spec = `channel: dingtalk_robot
          url: ${robot.url}${robot.secret ? `\n          secret: ${robot.secret}` : ''}`;
  } else if (vendor.type === 'wecom' && robot) {
    spec = `channel: wecom_robot
          url: ${robot.url}`;
  } else {
    return undefined;
  }
  return `name: try-${vendor.type}-message
stages:
  - name: tell
    jobs:
      - name: tell-the-group
        type: notification
        spec:
          ${spec}
          title: Hello from Signoff
`;
}
