import { useState } from 'react';
import type { DomainView } from '@paas/contracts';
import { useSession } from '../session';
import { usePoll } from '../use-poll';

/** The host, domain and path of a route about to be made or mapped; the platform's default domain until one is picked. */
export interface RouteAddress {
  host: string;
  path: string;
  /** The chosen domain ('' while the domains load). */
  domainId: string;
  domain: DomainView | undefined;
  domains: DomainView[];
  setHost(host: string): void;
  setPath(path: string): void;
  setDomainId(id: string): void;
  /** Empties host and path after a route was made (the domain stays). */
  clear(): void;
}

export function useRouteAddress(): RouteAddress {
  const { api } = useSession();
  const domains = usePoll('domains', () => api.domains(), 30_000);
  const [host, setHost] = useState('');
  const [picked, setDomainId] = useState('');
  const [path, setPath] = useState('');
  const list = domains.data ?? [];
  const domainId = picked || list.find((d) => d.default)?.id || list[0]?.id || '';
  return {
    host,
    path,
    domainId,
    domain: list.find((d) => d.id === domainId),
    domains: list,
    setHost,
    setPath,
    setDomainId,
    clear: () => {
      setHost('');
      setPath('');
    },
  };
}

/** The Host, Domain and Path fields of a route form. */
export function RouteAddressFields({ address, hostPlaceholder }: { address: RouteAddress; hostPlaceholder?: string }) {
  return (
    <>
      <label>
        <span>Host</span>
        <input value={address.host} onChange={(e) => address.setHost(e.target.value)} placeholder={hostPlaceholder} autoComplete="off" spellCheck={false} />
      </label>
      <label>
        <span>Domain</span>
        <select value={address.domainId} onChange={(e) => address.setDomainId(e.target.value)}>
          {address.domains.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Path</span>
        <input value={address.path} onChange={(e) => address.setPath(e.target.value)} placeholder="/optional" autoComplete="off" spellCheck={false} />
      </label>
    </>
  );
}
