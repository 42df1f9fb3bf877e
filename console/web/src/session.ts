import { createContext, useContext } from 'react';
import type { SessionInfo } from '../../api-types.js';

/** The signed-in viewer, for pages that adapt to the role or tenant scope (the server enforces both regardless). */
export const Session = createContext<SessionInfo | null>(null);

export const useSession = (): SessionInfo => {
  const s = useContext(Session);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
};
