import { useEffect } from 'react';
import type { ServiceBackupView } from '@paas/contracts';
import { formatBytes } from '../../components/ui';
import { useSession } from '../../session';
import { usePoll } from '../../use-poll';
import { backupsOf } from './operations';

/** A succeeded backup a new instance may start from, with the instance it was taken of. */
interface Candidate {
  backup: ServiceBackupView;
  instanceName: string;
}

/**
 * "Start with": empty, or the data of a succeeded backup of an instance of the same offering in
 * the same space (POST /v1/service_instances `restore_from_backup`). Only mounted while the
 * create form is open; shows nothing when the API has no backups or there is no such backup.
 * `value` is a backup id ('' for empty); a value no longer offered is reset to ''.
 */
export function FromBackupField({ offering, spaceId, value, onChange }: { offering: string; spaceId: string; value: string; onChange: (id: string) => void }) {
  const { api, apiUrl } = useSession();
  const candidates = usePoll(
    `from-backup:${spaceId}:${offering}`,
    async (): Promise<Candidate[]> => {
      const instances = (await api.serviceInstances({ spaceId })).filter((i) => i.type === 'managed' && i.offering === offering && i.last_operation.type !== 'delete');
      const lists = await Promise.all(instances.map(async (i) => ({ name: i.name, backups: await backupsOf(api, apiUrl, i.id) })));
      return lists.flatMap((l) => (l.backups === 'unsupported' ? [] : l.backups.filter((b) => b.state === 'succeeded').map((backup) => ({ backup, instanceName: l.name }))));
    },
    10_000,
  );
  const list = candidates.data ?? [];
  const offered = value === '' || list.some((c) => c.backup.id === value);
  useEffect(() => {
    if (candidates.data && !offered) onChange('');
  }, [candidates.data, offered, onChange]);

  if (list.length === 0) return null;
  return (
    <label>
      <span>Start with</span>
      <select value={offered ? value : ''} onChange={(e) => onChange(e.target.value)}>
        <option value="">no data (a new server)</option>
        {list.map((c) => (
          <option key={c.backup.id} value={c.backup.id}>
            the backup of {c.instanceName} of {new Date(c.backup.created_at).toLocaleString()}
            {c.backup.size_bytes === null ? '' : ` (${formatBytes(c.backup.size_bytes)})`}
          </option>
        ))}
      </select>
    </label>
  );
}
