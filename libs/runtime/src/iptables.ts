import { exec, execSucceeds } from './exec';

/**
 * Idempotent iptables steps (add a rule unless it is there, remove every copy, make or remove a
 * chain), each waiting up to 5 s for the xtables lock that other runtimes on the host share.
 */

export type Table = 'nat' | 'filter' | 'mangle';

export interface Rule {
  table: Table;
  chain: string;
  spec: string[];
  /** Insert at the top of the chain instead of appending. */
  first?: boolean;
  /** Insert at this 1-based position instead of appending. */
  position?: number;
}

export async function iptables(args: string[]): Promise<void> {
  await exec('iptables', ['-w', '5', ...args]);
}

export async function ruleExists(rule: Rule): Promise<boolean> {
  return execSucceeds('iptables', ['-w', '5', '-t', rule.table, '-C', rule.chain, ...rule.spec]);
}

/** Adds the rule unless it is already there. */
export async function ensureRule(rule: Rule): Promise<void> {
  if (await ruleExists(rule)) return;
  const position = rule.first ? 1 : rule.position;
  const op = position ? ['-I', rule.chain, String(position)] : ['-A', rule.chain];
  await iptables(['-t', rule.table, ...op, ...rule.spec]);
}

/** Deletes every copy of the rule; a missing rule is not an error. */
export async function removeRule(rule: Rule): Promise<void> {
  for (let i = 0; i < 10 && (await ruleExists(rule)); i++) {
    await iptables(['-t', rule.table, '-D', rule.chain, ...rule.spec]);
  }
}

export async function chainExists(table: string, chain: string): Promise<boolean> {
  return execSucceeds('iptables', ['-w', '5', '-t', table, '-S', chain]);
}

export async function ensureChain(table: string, chain: string): Promise<void> {
  if (!(await chainExists(table, chain))) await iptables(['-t', table, '-N', chain]);
}

export async function removeChain(table: string, chain: string): Promise<void> {
  if (!(await chainExists(table, chain))) return;
  await iptables(['-t', table, '-F', chain]);
  await iptables(['-t', table, '-X', chain]);
}
