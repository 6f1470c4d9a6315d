import { useCallback, useMemo, useState } from 'react';
import { savedScope } from '../config';
import { useSession, type Scope } from '../session';
import { usePoll } from '../use-poll';

/** The orgs and spaces the token sees (refreshed every 10 s) and the chosen ones (remembered). */
export function useScopeState(): Scope {
  const { api } = useSession();
  const [chosen, setChosen] = useState(savedScope.get);
  const lists = usePoll('scope', async () => {
    const [orgs, spaces] = await Promise.all([api.orgs(), api.spaces()]);
    return { orgs, spaces };
  }, 10_000);
  const orgs = useMemo(() => lists.data?.orgs ?? [], [lists.data]);
  const spaces = useMemo(() => lists.data?.spaces ?? [], [lists.data]);

  // A remembered org or space that is gone (or no longer visible) counts as "all".
  const orgId = lists.data && !orgs.some((o) => o.id === chosen.orgId) ? '' : chosen.orgId;
  const spaceId = lists.data && !spaces.some((s) => s.id === chosen.spaceId && (!orgId || s.org_id === orgId)) ? '' : chosen.spaceId;

  const setOrg = useCallback((id: string) => {
    const next = { orgId: id, spaceId: '' };
    savedScope.set(next);
    setChosen(next);
  }, []);
  const setSpace = useCallback(
    (id: string) => {
      const space = spaces.find((s) => s.id === id);
      const next = { orgId: space ? space.org_id : orgId, spaceId: id };
      savedScope.set(next);
      setChosen(next);
    },
    [spaces, orgId],
  );

  const spaceIds = useMemo(() => {
    if (spaceId) return [spaceId];
    if (orgId) {
      const ids = spaces.filter((s) => s.org_id === orgId).map((s) => s.id);
      // An org without a visible space: filter on a space id that matches nothing.
      return ids.length > 0 ? ids : ['00000000-0000-0000-0000-000000000000'];
    }
    return undefined;
  }, [orgId, spaceId, spaces]);

  return { orgs, spaces, orgId, spaceId, spaceIds, setOrg, setSpace };
}
