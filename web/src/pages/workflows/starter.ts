// What /workflows/new starts from: a small workflow that is valid as it is, with comments that say where
// to go next (in the console's language).
import type { Language } from '../../i18n';

const comments: Record<Language, { intro: string; params: string; stages: string; more: string }> = {
  en: {
    intro:
      '# A workflow: stages run one after another; the jobs of a stage run side by side.\n' +
      '# Every field is described in docs/workflow.md. Problems show at their line as you type.',
    params: '# Inputs a run can set; templates read them as {{ params.version }}.',
    stages: '# Job types: shell, approval (native, feishu, lark, dingtalk, wecom) and notification.',
    more: '# Add approval and notification jobs with the buttons above, or type them here.',
  },
  'zh-CN': {
    intro:
      '# 工作流：阶段依次执行，同一阶段内的任务并行执行。\n' +
      '# 所有字段见 docs/workflow.md。输入时问题会标注在对应的行。',
    params: '# 运行时可填写的参数；模板中以 {{ params.version }} 读取。',
    stages: '# 任务类型：shell、approval（native、feishu、lark、dingtalk、wecom）和 notification。',
    more: '# 可用上方的按钮添加审批和通知任务，也可以直接在这里编写。',
  },
};

export function starterWorkflow(language: Language): string {
  const say = comments[language];
  return `${say.intro}
name: my-workflow
description: Build, then ask for a go
${say.params}
params:
  - name: version
    description: Version to ship
    default: "1.0.0"
${say.stages}
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          script: echo "building {{ params.version }}"
  ${say.more}
`;
}
