// Which IM apps hold a connection for their events, and how it is opened: Feishu/Lark in
// `long_connection` mode (the official SDK's WSClient), DingTalk in `stream` mode (dingtalk-stream).
// The SDKs are loaded on first use: most servers never need them, and the Feishu SDK alone takes
// about half a second to import.
import { type Connector, type Connectors, connectorKey } from './live-connections.js';

const feishuLike: Connector = async (config, options) => {
  if (config.type !== 'feishu' && config.type !== 'lark') throw new Error(`not a Feishu app: ${config.type}`);
  const { connectFeishuLongConnection } = await import('../providers/feishu/long-connection.js');
  return connectFeishuLongConnection(config, options);
};

export const eventConnectors: Connectors = {
  [connectorKey('feishu', 'long_connection')]: feishuLike,
  [connectorKey('lark', 'long_connection')]: feishuLike,
  [connectorKey('dingtalk', 'stream')]: async (config, options) => {
    if (config.type !== 'dingtalk') throw new Error(`not a DingTalk app: ${config.type}`);
    const { connectDingTalkStream } = await import('../providers/dingtalk/stream.js');
    return connectDingTalkStream(config, options);
  },
};
