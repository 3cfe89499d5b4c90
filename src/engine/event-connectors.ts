// Which IM apps hold a connection for their events, and how it is opened: Feishu/Lark in
// `long_connection` mode (the official SDK's WSClient), DingTalk in `stream` mode (dingtalk-stream).
// The SDKs are loaded when some app needs them: most servers never do, and the Feishu SDK alone takes
// about half a second to import. With several instances every one loads them (`prepare`), so that the
// instance taking over a connection does not spend that time while no one is connected.
import { type Connector, type Connectors, connectorKey } from './live-connections.js';

const loadFeishu = () => import('../providers/feishu/long-connection.js');
const loadDingTalk = () => import('../providers/dingtalk/stream.js');

const feishuLike: Connector = Object.assign(
  async (...[config, options]: Parameters<Connector>) => {
    if (config.type !== 'feishu' && config.type !== 'lark')
      throw new Error(`not a Feishu app: ${config.type}`);
    const { connectFeishuLongConnection } = await loadFeishu();
    return connectFeishuLongConnection(config, options);
  },
  { prepare: loadFeishu },
);

const dingTalkStream: Connector = Object.assign(
  async (...[config, options]: Parameters<Connector>) => {
    if (config.type !== 'dingtalk') throw new Error(`not a DingTalk app: ${config.type}`);
    const { connectDingTalkStream } = await loadDingTalk();
    return connectDingTalkStream(config, options);
  },
  { prepare: loadDingTalk },
);

export const eventConnectors: Connectors = {
  [connectorKey('feishu', 'long_connection')]: feishuLike,
  [connectorKey('lark', 'long_connection')]: feishuLike,
  [connectorKey('dingtalk', 'stream')]: dingTalkStream,
};
