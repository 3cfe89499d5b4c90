import type { Command } from '../command.js';
import { serve } from './serve.js';

// One line per command.
export const commands: Command[] = [serve];
