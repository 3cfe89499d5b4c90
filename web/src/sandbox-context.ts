// Whether this server runs the sandbox (fake Feishu, Lark, DingTalk and WeCom): pages add sandbox hints.
import { createContext, useContext } from 'react';

export const SandboxContext = createContext(false);
export const useSandbox = () => useContext(SandboxContext);
