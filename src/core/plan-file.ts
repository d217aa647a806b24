/**
 * The plan file of `import-csv --plan FILE`, read back by `apply PLAN`: plain JSON, never a secret
 * (no password, hash or token: the input's passwords are read from the input again at apply time,
 * credentials and the mail route are given to `apply` as to any run). `staleness` says what changed
 * between the plan and the target as it is now (exit 4).
 */
import { UsageError } from './errors.js';
import { shellWord } from './printable.js';
import type { InvitationDecision } from './invitation-policy.js';
import type { ActionKind, DesiredPlan, PlanAction, PlanCounts } from './desired.js';
import { organizationKey } from './organizations.js';
import type { Problem } from './results.js';
import type { SuppressedBy } from './types.js';
import { emailKey } from './validate.js';

export const PLAN_FORMAT = 'jsm-provision-plan';
export const PLAN_VERSION = 1;

/** How the apply reads the input again: the same columns, delimiter and encoding. */
export interface PlanInput {
  path: string;
  sha256: string;
  /** `--map`: field -> header text. */
  map: Record<string, string>;
  delimiter: string | null;
  encoding: string | null;
  /** `--max-row-chars`, when given. */
  maxRowChars?: number;
}

/** What the run was asked, besides the input and the mail route (which `apply` is given). */
export interface PlanOptions {
  sync: boolean;
  maxRemovals: number | null;
  noInvite: boolean;
  defer: boolean;
  organization: string[];
  createOrganizations: boolean;
  matchAccounts: string | null;
}

export interface PlanFile {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  /** Names the plan's progress record (a killed apply is finished by the same apply). */
  id: string;
  createdAt: string;
  target: { kind: 'local' | 'rest'; location: string; project: string };
  input: PlanInput;
  options: PlanOptions;
  invitations: { decision: InvitationDecision['action']; suppressedBy: SuppressedBy | null; reason: string };
  counts: PlanCounts;
  rows: DesiredPlan['rows'];
  problems: Problem[];
  actions: PlanAction[];
}

export function planFile(plan: DesiredPlan, head: Pick<PlanFile, 'id' | 'createdAt' | 'target' | 'input' | 'options'>): PlanFile {
  const decision = plan.invitation;
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    ...head,
    invitations: { decision: decision.action, suppressedBy: decision.action === 'suppress' ? decision.suppressedBy : null, reason: decision.reason },
    counts: plan.counts,
    rows: plan.rows,
    problems: plan.problems,
    actions: plan.actions,
  };
}

const KINDS: readonly ActionKind[] = ['create', 'add', 'invite', 'join', 'leave', 'remove'];

/** A plan file's text as a PlanFile; a file that is not one is refused (exit 2) naming what is wrong. */
export function parsePlanFile(text: string, path: string): PlanFile {
  // The hint never names the file given as where to write a plan: it may be the user's CSV.
  const bad = (what: string, hint = 'a plan is the file import-csv --plan writes: jsm-provision import-csv FILE --plan plan.json, then jsm-provision apply plan.json'): UsageError =>
    new UsageError('bad-plan', `${path} is not a plan jsm-provision can apply: ${what}`, hint);
  // A plan opened and saved again by an editor that adds a byte order mark (Notepad) is still JSON.
  const json = text.replace(/^\uFEFF/, '');
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    if (looksLikeCsv(json)) {
      const file = shellWord(path, '"');
      throw bad('it is a CSV file', `to import it: jsm-provision import-csv ${file} (a plan to review first: jsm-provision import-csv ${file} --plan plan.json, then jsm-provision apply plan.json)`);
    }
    throw bad(`it is not JSON (${(error as Error).message})`);
  }
  const p = data as Partial<PlanFile> | null;
  if (p === null || typeof p !== 'object' || p.format !== PLAN_FORMAT) throw bad(`its "format" is not "${PLAN_FORMAT}"`);
  if (p.version !== PLAN_VERSION) throw bad(`its version ${JSON.stringify(p.version)} is not ${PLAN_VERSION} (made by another version of jsm-provision?)`);
  if (typeof p.id !== 'string' || !/^[A-Za-z0-9-]{8,64}$/.test(p.id)) throw bad('its "id" is missing');
  const t = p.target;
  if (!t || (t.kind !== 'local' && t.kind !== 'rest') || typeof t.location !== 'string' || typeof t.project !== 'string') throw bad('its "target" is incomplete');
  const i = p.input;
  if (!i || typeof i.path !== 'string' || typeof i.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(i.sha256) || typeof i.map !== 'object' || i.map === null || Array.isArray(i.map) || !Object.values(i.map).every((v) => typeof v === 'string')) throw bad('its "input" is incomplete');
  const o = p.options;
  if (!o || typeof o.sync !== 'boolean' || typeof o.noInvite !== 'boolean' || typeof o.defer !== 'boolean' || !Array.isArray(o.organization)) throw bad('its "options" are incomplete');
  if (!p.invitations || typeof p.invitations.decision !== 'string') throw bad('its "invitations" are missing');
  if (!Array.isArray(p.actions) || !p.actions.every((a) => a && KINDS.includes(a.action) && typeof a.email === 'string')) throw bad('its "actions" are not a list of actions');
  return p as PlanFile;
}

/**
 * Where the plan's `counts` (what a reviewer reads) disagree with its `actions` (what apply does), in
 * words (empty: they agree). Counts are what planning gave for those actions: `create`, `join`,
 * `leave` and `remove` one per action of the kind, `invite` one per `invite` action and per `create`
 * that invites, and `existing` at least one per `add` (customers listed already have no action).
 * A plan whose counts were edited, or whose actions were edited without them, is an edited plan.
 */
export function countsAgainstActions(plan: Pick<PlanFile, 'counts' | 'actions'>): string[] {
  const of = (kind: ActionKind): number => plan.actions.filter((a) => a.action === kind).length;
  const expected: Record<keyof PlanCounts, number> = {
    create: of('create'),
    existing: of('add'),
    join: of('join'),
    leave: of('leave'),
    remove: of('remove'),
    invite: of('invite') + plan.actions.filter((a) => a.action === 'create' && a.invite === true).length,
  };
  const counts = (plan.counts ?? {}) as unknown as Partial<Record<string, unknown>>;
  const mismatches: string[] = [];
  for (const key of Object.keys(expected) as (keyof PlanCounts)[]) {
    const given = counts[key];
    const want = expected[key];
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 0) {
      mismatches.push(`counts.${key} is ${given === undefined ? 'missing' : JSON.stringify(given)}, and its actions give ${key === 'existing' ? `at least ${want}` : want}`);
    } else if (key === 'existing' ? given < want : given !== want) {
      mismatches.push(`counts.${key} is ${given}, and its actions give ${key === 'existing' ? `at least ${want} (one per add)` : want}`);
    }
  }
  return mismatches;
}

/** A first line that is a CSV header (a delimiter, no JSON bracket): the input given where its plan goes. */
function looksLikeCsv(text: string): boolean {
  const first = text.slice(0, 4096).split(/\r?\n/, 1)[0] ?? '';
  return !/^\s*[[{]/.test(first) && /[,;\t|]/.test(first);
}

function actionKey(a: Pick<PlanAction, 'action' | 'email' | 'organization'>, action: ActionKind = a.action): string {
  return `${action}\u0000${emailKey(a.email)}\u0000${a.organization === undefined ? '' : organizationKey(a.organization)}`;
}

function describe(a: PlanAction): string {
  return a.organization === undefined ? `${a.action} ${a.email}` : `${a.action} ${a.email} ${a.action === 'join' ? 'into' : 'out of'} ${a.organization}`;
}

/**
 * What changed since the plan, in words (empty: the plan still holds). `resuming`: an apply of this
 * plan was started and cut off, so what is left to do may be less than the plan (each left action
 * must be one of the plan's: a customer created by the cut-off apply is owed its invitation now).
 */
export function staleness(saved: PlanFile, fresh: Pick<DesiredPlan, 'actions' | 'invitation'>, resuming: boolean): string[] {
  const changes: string[] = [];
  if (fresh.invitation.action !== saved.invitations.decision) {
    changes.push(`invitations: the plan says "${saved.invitations.reason}", now "${fresh.invitation.reason}"`);
  }
  const planned = new Set(saved.actions.map((a) => actionKey(a)));
  const now = new Set(fresh.actions.map((a) => actionKey(a)));
  const covered = (a: PlanAction): boolean => {
    if (planned.has(actionKey(a))) return true;
    if (!resuming) return false;
    // Left by a cut-off apply of this plan: the customer it created is there, owed the invitation.
    return (a.action === 'invite' || a.action === 'add') && planned.has(actionKey(a, 'create'));
  };
  for (const a of fresh.actions) if (!covered(a)) changes.push(`${describe(a)}: to do now, and not in the plan`);
  if (!resuming) {
    for (const a of saved.actions) if (!now.has(actionKey(a))) changes.push(`${describe(a)}: in the plan, and not to do now`);
  }
  return changes;
}
