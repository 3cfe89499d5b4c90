// Who is signed in: decides whether this person may approve or reject a native approval here.
import { api } from '../../api';
import { usePoll } from '../../poll';
import type { Me } from './types';

export function useMe(): Me | undefined {
  return usePoll((signal) => api<Me>('/api/me', { signal }), []).data;
}
