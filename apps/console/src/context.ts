import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AccessView, ClusterView } from '@app/contracts/dto/registry-api';
import type { Api } from './api';

/** What every page may use: the API, what the token may do, the cluster as last seen. */
export interface Console {
  api: Api;
  access: AccessView;
  cluster: ClusterView | null;
  /** Refetch the cluster now (after a change a page made). */
  refreshCluster: () => void;
  /** A message for the status line (announced to screen readers). */
  announce: (message: string) => void;
}

export const ConsoleContext = createContext<Console | null>(null);

export function useConsole(): Console {
  const value = useContext(ConsoleContext);
  if (value === null) throw new Error('useConsole outside the console');
  return value;
}

/** May the token submit tasks and trigger jobs? */
export const canSubmit = (access: AccessView): boolean => access.role !== 'reader';
/** May the token create, change and delete jobs? */
export const canAdmin = (access: AccessView): boolean => access.role === 'admin';
