// What each platform's render function (dingtalk-message, feishu-message, wecom-message) is given to draw
// one message the fake received: the kind the sender named, its content parsed from JSON, and how to name
// the people it mentions.
import type { MentionOptions } from './markdown';

export interface MessageToDraw {
  kind: string;
  content: unknown;
  mentions: MentionOptions;
}
