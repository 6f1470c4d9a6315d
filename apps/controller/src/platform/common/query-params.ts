import { DomainException, ErrorCode } from './domain.exception';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID: ids of the controller's resources are UUIDs, so anything else cannot name one. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A comma-separated list filter (`?names=a,b`); undefined when absent or empty. */
export function csvParam(query: Record<string, unknown>, name: string): string[] | undefined {
  const value = query[name];
  if (typeof value !== 'string' || !value) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** A comma-separated list of ids (`?space_ids=`); a value that is not a UUID is a 400 naming the parameter. */
export function uuidListParam(query: Record<string, unknown>, name: string): string[] | undefined {
  const items = csvParam(query, name);
  const bad = items?.find((i) => !isUuid(i));
  if (bad !== undefined) {
    throw new DomainException(ErrorCode.ValidationFailed, `${name}: "${bad}" is not an id (a UUID); give a comma-separated list of ids`, [
      { field: name, rule: 'a comma-separated list of UUIDs' },
    ]);
  }
  return items;
}

/** Narrows a visible-ids list (undefined = all) by a requested filter (undefined = no filter). */
export function narrowVisible(visible: string[] | undefined, requested: string[] | undefined): string[] | undefined {
  if (visible === undefined) return requested;
  return requested ? requested.filter((id) => visible.includes(id)) : visible;
}

/** The Prisma error code of a failed write (P2002 unique violation, P2003 foreign key), if any. */
export function prismaErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^P\d{4}$/.test(code) ? code : undefined;
}
